/**
 * A small authoritative DNS server on 127.0.0.1 over UDP for tests (RFC 1035 wire format): it
 * answers PTR, SRV, A, AAAA and CNAME questions from a fixed zone, logs every question it parsed,
 * and can be told to answer a name with raw bytes instead (garbage, a truncated packet, a wrong
 * id) so that resolver errors can be tested. Only what the tests need; no recursion, no
 * compression in what it writes.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';

/** RFC 1035 section 3.2.2 type codes (SRV is RFC 2782, AAAA RFC 3596). */
export const DNS_TYPE = { A: 1, CNAME: 5, PTR: 12, AAAA: 28, SRV: 33 } as const;
export type DnsTypeName = keyof typeof DNS_TYPE;

export type DnsRecord =
  | { type: 'PTR' | 'CNAME'; name: string; ttl?: number; target: string }
  | { type: 'SRV'; name: string; ttl?: number; priority: number; weight: number; port: number; target: string }
  | { type: 'A' | 'AAAA'; name: string; ttl?: number; address: Uint8Array };

export interface DnsQuestion {
  id: number;
  name: string;
  type: number;
}

/** Given the parsed question and the query's bytes, the bytes to send back (undefined: silence). */
export type RawAnswer = (question: DnsQuestion, query: Uint8Array) => Uint8Array | undefined;

/** RFC 1035: a UDP message is at most 512 bytes; a query larger than that is not parsed. */
const MAX_QUERY = 512;
/** RFC 1035 section 2.3.4: labels of 63 octets at most, names of 255 at most. */
const MAX_LABEL = 63;
const MAX_NAME = 255;

export interface TestDnsServer {
  port: number;
  /** Every question parsed, in arrival order (type as its number). */
  questions: DnsQuestion[];
  /** Queries that could not be parsed (dropped without an answer). */
  unparsed: number;
  /** Answers `name` (any type) with `raw` from now on instead of the zone. */
  rawFor(name: string, raw: RawAnswer): void;
  /** Replaces the zone. */
  setZone(records: DnsRecord[]): void;
  close(): Promise<void>;
}

/** Lower case, no trailing dot: the key names are compared by (RFC 4343: case-insensitive). */
function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * Parses the single question of a query: header, one QNAME without compression, QTYPE, QCLASS.
 * Bounded: at most MAX_QUERY bytes, labels and names within RFC 1035 limits; undefined otherwise.
 */
export function parseQuery(packet: Uint8Array): DnsQuestion | undefined {
  if (packet.length < 12 || packet.length > MAX_QUERY) return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const id = view.getUint16(0);
  const flags = view.getUint16(2);
  if (flags & 0x8000) return undefined; // a response, not a query
  if (view.getUint16(4) !== 1) return undefined; // exactly one question
  const labels: string[] = [];
  let offset = 12;
  let length = 0;
  for (;;) {
    if (offset >= packet.length) return undefined;
    const n = packet[offset]!;
    offset++;
    if (n === 0) break;
    if (n > MAX_LABEL) return undefined; // a compression pointer or reserved bits: not in a question we accept
    length += n + 1;
    if (length > MAX_NAME || offset + n > packet.length) return undefined;
    labels.push(new TextDecoder().decode(packet.subarray(offset, offset + n)));
    offset += n;
  }
  if (offset + 4 > packet.length) return undefined;
  return { id, name: normalise(labels.join('.')), type: view.getUint16(offset) };
}

function encodeName(name: string): Uint8Array {
  const labels = normalise(name) === '' ? [] : normalise(name).split('.');
  const parts = labels.map((l) => new TextEncoder().encode(l));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0) + 1);
  let o = 0;
  for (const p of parts) {
    out[o++] = p.length;
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u16(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function rdata(record: DnsRecord): Uint8Array {
  switch (record.type) {
    case 'PTR':
    case 'CNAME':
      return encodeName(record.target);
    case 'SRV':
      // RFC 2782: priority, weight, port, then the target name (never compressed).
      return concat([u16(record.priority), u16(record.weight), u16(record.port), encodeName(record.target)]);
    case 'A':
    case 'AAAA':
      return record.address;
  }
}

/** A response to `question`: the question echoed, then `answers`; rcode 3 is NXDOMAIN. */
export function encodeResponse(question: DnsQuestion, answers: DnsRecord[], rcode = 0): Uint8Array {
  // QR, AA and RD set (we echo the resolver's RD; c-ares always sets it).
  const header = concat([u16(question.id), u16(0x8500 | rcode), u16(1), u16(answers.length), u16(0), u16(0)]);
  const q = concat([encodeName(question.name), u16(question.type), u16(1)]);
  const rrs = answers.map((r) => {
    const data = rdata(r);
    return concat([encodeName(r.name), u16(DNS_TYPE[r.type]), u16(1), u32(r.ttl ?? 300), u16(data.length), data]);
  });
  return concat([header, q, ...rrs]);
}

export async function startDnsServer(zone: DnsRecord[] = []): Promise<TestDnsServer> {
  const socket = dgram.createSocket('udp4');
  let records = zone;
  const raw = new Map<string, RawAnswer>();
  const server: TestDnsServer = {
    port: 0,
    questions: [],
    unparsed: 0,
    rawFor: (name, answer) => raw.set(normalise(name), answer),
    setZone: (next) => {
      records = next;
    },
    close: async () => {
      socket.close();
      await once(socket, 'close');
    },
  };
  socket.on('message', (packet, from) => {
    const question = parseQuery(packet);
    if (!question) {
      server.unparsed++;
      return;
    }
    server.questions.push(question);
    const special = raw.get(question.name);
    let answer: Uint8Array | undefined;
    if (special) answer = special(question, packet);
    else {
      const owned = records.filter((r) => normalise(r.name) === question.name);
      // RFC 1034 4.3.2: a CNAME at the name answers any type (the resolver follows it).
      const matching = owned.filter((r) => DNS_TYPE[r.type] === question.type || r.type === 'CNAME');
      answer = encodeResponse(question, matching, owned.length === 0 ? 3 : 0);
    }
    if (answer) socket.send(answer, from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  server.port = socket.address().port;
  return server;
}

/** The reverse name of an IPv4 address (RFC 1035 section 3.5): `4.3.2.1.in-addr.arpa`. */
export function reverseName(ipv4: string): string {
  return `${ipv4.split('.').reverse().join('.')}.in-addr.arpa`;
}
