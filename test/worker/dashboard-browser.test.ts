/**
 * The /dashboard page in headless Chromium (Debian's, driven by playwright-core): the numbers it
 * shows for swarms the test made, the chart, the publisher view behind the token, a wrong token's
 * error, an unknown swarm's message, a hostile torrent name shown as text, no CSP violation.
 * Saves a screenshot to test-output/dashboard.png (git-ignored; SCREENSHOT=path elsewhere, e.g.
 * SCREENSHOT=docs/dashboard.png to refresh the one in the README).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { eventually, makeKnownSwarm, type KnownSwarm } from '../helpers/stats-swarm.js';
import { announce } from '../helpers/tracker-client.js';
import { fromHex } from '../../shared/bytes.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..', process.env.SCREENSHOT ?? 'test-output/dashboard.png');
/** A torrent name is the publisher's text: it must show as text, never run. */
const HOSTILE_NAME = '<img src=x onerror="window.pwned=1">.bin';

/** Like test/helpers/real-tools.ts: skipped without the browser locally, a failure in CI. */
function missingBrowser(): false | string {
  if (existsSync(CHROMIUM)) return false;
  const reason = `missing ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI) throw new Error(`${reason}; CI must install it`);
  return reason;
}

/** Byte counts between 1 KiB and 1 MiB as the page writes them. */
function kib(bytes: number): string {
  const n = bytes / 1024;
  assert.ok(n >= 1 && n < 1024);
  return `${n.toFixed(n < 10 ? 2 : 1)} KiB`;
}

/** Waits until the element's text is exactly `text` (the page updates itself every few seconds). */
async function textIs(page: Page, selector: string, text: string): Promise<void> {
  const until = Date.now() + 15_000;
  while ((await page.locator(selector).textContent()) !== text) {
    if (Date.now() > until) assert.fail(`${selector} never read ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The text and data-value of one cell of the swarm's row. */
async function cellOf(page: Page, hex: string, field: string): Promise<{ text: string; value: string | null }> {
  const cell = page.locator(`tr[data-info-hash="${hex}"] td[data-field="${field}"]`);
  return { text: (await cell.textContent()) ?? '', value: await cell.getAttribute('data-value') };
}

/** `layers`: the swarm's peers by active layer, as /stats gives them (none: no peer named one). */
async function assertRow(page: Page, known: KnownSwarm, layers?: Record<string, number>): Promise<void> {
  const hex = known.infoHash;
  await page.locator(`tr[data-info-hash="${hex}"]`).waitFor();
  // Edge bytes arrive up to 2 s after the seed sent them; the page refreshes every 4 s.
  await page.locator(`tr[data-info-hash="${hex}"] td[data-field="edge-bytes"][data-value="${known.edgeBytes}"]`).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator(`tr[data-info-hash="${hex}"] [data-field="name"]`).textContent(), known.name, 'the name, as text');
  assert.deepEqual(await cellOf(page, hex, 'seeds'), { text: `${known.seeds} + edge`, value: String(known.seeds) });
  assert.deepEqual(await cellOf(page, hex, 'leechers'), { text: String(known.leechers), value: String(known.leechers) });
  assert.deepEqual(await cellOf(page, hex, 'downloaders'), { text: String(known.downloaders), value: String(known.downloaders) });
  assert.deepEqual(await cellOf(page, hex, 'completed'), { text: String(known.completed), value: String(known.completed) });
  const layerText = layers ? Object.entries(layers).map(([layer, n]) => `L${layer}: ${n}`).join(', ') : '-';
  assert.deepEqual(await cellOf(page, hex, 'layers'), { text: layerText, value: layers ? JSON.stringify(layers) : '' });
  assert.deepEqual(await cellOf(page, hex, 'edge-bytes'), { text: kib(known.edgeBytes), value: String(known.edgeBytes) });
  assert.deepEqual(await cellOf(page, hex, 'peer-bytes'), { text: kib(known.peerBytes), value: String(known.peerBytes) });
  const offload = known.peerBytes / (known.peerBytes + known.edgeBytes);
  assert.deepEqual(await cellOf(page, hex, 'offload'), { text: `${(offload * 100).toFixed(1)} %`, value: String(offload) });
}

test('the dashboard shows the swarms as made, a chart, the publisher view, and clear errors', { skip: missingBrowser() }, async () => {
  await withEdge({}, async (edge) => {
    const made = await makeKnownSwarm(edge.url, 'big-buck-bunny-720p.mp4');
    const hostile = await makeKnownSwarm(edge.url, HOSTILE_NAME);
    // In a later 10 s bucket, the edge serves the whole file again and peer 2 uploads 30,000 more
    // (its last report was 80): the chart gets a second sample. It also says it plays layer 2
    // (LAYER-CHANGE), which the Active layers column shows.
    await new Promise((resolve) => setTimeout(resolve, 10_200 - (Date.now() % 10_000)));
    await (await fetch(new URL(`/seed/${made.infoHash}/${made.name}`, edge.url))).arrayBuffer();
    await announce(edge.url, { hash: fromHex(made.infoHash)!, peer: 2, left: 100, extra: '&uploaded=30080&downloaded=0&layer=2' });
    const clip: KnownSwarm = { ...made, edgeBytes: made.edgeBytes + 100_000, peerBytes: made.peerBytes + 30_000 };
    await eventually(
      async () => (await (await fetch(new URL('/stats', edge.url))).json()) as { totals: { edgeBytes: number; peerBytes: number }; swarms: { edgeSeeding: boolean }[] },
      // The edge's "I seed this swarm" notice travels apart from its byte counts (waitUntil).
      (s) => s.totals.edgeBytes === clip.edgeBytes + hostile.edgeBytes && s.totals.peerBytes === clip.peerBytes + hostile.peerBytes && s.swarms.every((w) => w.edgeSeeding),
    );

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !/404 \(Not Found\)|403 \(Forbidden\)/.test(m.text())) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));

      const opened = await page.goto(new URL(`/dashboard?swarm=${clip.infoHash}`, edge.url).href);
      assert.equal(opened?.status(), 200);
      await assertRow(page, clip, { '2': 1 });
      await assertRow(page, hostile);
      assert.equal(await page.evaluate('window.pwned'), undefined, 'the hostile name did not run');
      assert.equal(await page.locator('#swarms img').count(), 0, 'nor became an element');
      assert.equal(await page.locator('[data-field="total-swarms"]').getAttribute('data-value'), '2');
      assert.equal(await page.locator('[data-field="total-edge-bytes"]').getAttribute('data-value'), String(clip.edgeBytes + hostile.edgeBytes));

      // The chart of the selected swarm: edge bytes against peer bytes over time.
      await page.locator('#detail:not([hidden])').waitFor();
      assert.equal(await page.locator('#detail-name').textContent(), clip.name);
      assert.equal(await page.locator('#detail-edge').getAttribute('data-value'), String(clip.edgeBytes));
      assert.equal(await page.locator('#detail-peer').getAttribute('data-value'), String(clip.peerBytes));
      // Two samples and the figures now: three points at least (one sample would make two).
      await page.locator('#chart[data-points]:not([data-points="2"])').waitFor({ timeout: 15_000 });
      for (const series of ['edge', 'peer']) {
        const d = (await page.locator(`#chart path[data-series="${series}"]`).getAttribute('d')) ?? '';
        assert.match(d, /^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+$/, `${series} line`);
      }
      // Clicking another swarm's name selects it (no page load).
      await page.locator(`tr[data-info-hash="${hostile.infoHash}"] [data-field="name"]`).click();
      await textIs(page, '#detail-name', HOSTILE_NAME);
      assert.match(page.url(), new RegExp(`swarm=${hostile.infoHash}`));

      // The publisher view: the token unlocks per-swarm peer summaries.
      await page.fill('#token', TEST_SECRETS.PUBLISH_TOKEN);
      await page.click('#token-form button[type="submit"]');
      await page.locator('body[data-view="publisher"]').waitFor();
      const fact = (field: string) => page.locator(`tr[data-info-hash="${clip.infoHash}"] [data-field="publisher"] [data-field="${field}"]`);
      assert.equal(await fact('clients').textContent(), 'clients -ES0100- x4');
      assert.equal(await fact('clients').getAttribute('data-value'), JSON.stringify({ '-ES0100-': 4 }));
      assert.equal(await fact('partial-seeds').getAttribute('data-value'), '1');
      assert.equal(await fact('registered').getAttribute('data-value'), 'true');
      assert.equal(await fact('private').getAttribute('data-value'), 'false');
      assert.equal(await fact('families').textContent(), 'IPv4/IPv6 4/0');
      assert.equal(await page.locator('#error').isHidden(), true);
      await page.locator(`tr[data-info-hash="${clip.infoHash}"] [data-field="name"]`).click();
      await textIs(page, '#detail-name', clip.name);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.log(`screenshot: ${SCREENSHOT}`);

      // A wrong token: the server's error on the page, and only the public view.
      await page.fill('#token', 'not-the-token');
      await page.click('#token-form button[type="submit"]');
      await page.locator('#error[data-status="403"]').waitFor();
      assert.equal(await page.locator('#error').textContent(), 'publisher view refused (403): wrong publish token');
      await page.locator('body[data-view="public"]').waitFor();
      assert.equal(await page.locator('[data-field="publisher"]').count(), 0);

      // An unknown swarm: a 404 page that says so (then kept up to date by the script).
      const unknown = 'cd'.repeat(20);
      const missing = await page.goto(new URL(`/dashboard?swarm=${unknown}`, edge.url).href);
      assert.equal(missing?.status(), 404);
      await page.locator('#swarm-message[data-status="404"]').waitFor();
      assert.match((await page.locator('#swarm-message').textContent()) ?? '', new RegExp(`^no swarm with this info-hash on this edge: ${unknown}`));
      assert.equal(await page.locator('#detail').isHidden(), true);
      await page.locator(`tr[data-info-hash="${clip.infoHash}"]`).waitFor();

      assert.deepEqual(problems, [], 'no script errors or CSP violations');
    } finally {
      await browser.close();
    }
  });
});
