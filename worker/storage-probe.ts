/**
 * A stored counter that each Durable Object class keeps in its own SQLite database, so that
 * `/health/storage` can prove that the object answers and that its storage persists.
 */
export function ensureProbeTable(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL)');
}

/** Increments and returns the stored probe count. */
export function bumpProbe(sql: SqlStorage): number {
  sql.exec('INSERT INTO probe (id, count) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET count = count + 1');
  return sql.exec<{ count: number }>('SELECT count FROM probe WHERE id = 1').one().count;
}
