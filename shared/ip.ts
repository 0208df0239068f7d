/**
 * IPv4 / IPv6 text <-> bytes without node:net (the Worker runs this too).
 */

/** Parses dotted-quad IPv4 (no leading zeros, which some parsers read as octal). */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Parses IPv6 text (with `::` and an optional trailing dotted IPv4); brackets not accepted. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length > 45 || text.length < 2) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  // RFC 4291: a dotted IPv4 may only form the last 32 bits, so only in the final group list.
  const groupsOf = (s: string, last: boolean): number[] | undefined => {
    if (s === '') return [];
    const words: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (last && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return undefined;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        words.push(parseInt(p, 16));
      }
    }
    return words;
  };
  const head = groupsOf(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952 text: lower case, the longest run (>= 2) of zero groups as `::`, IPv4-mapped as dotted. */
export function formatIPv6(bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes.subarray(12, 16))}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * The one text we use for an address a client came from: IPv4 as is, IPv6 in RFC 5952 form, and
 * IPv4-mapped IPv6 (what dual-stack sockets report for IPv4 senders) as the IPv4 it is; so that
 * the same client always has the same key. Undefined when the text is no IP address.
 */
export function canonicalIp(text: string): string | undefined {
  if (parseIPv4(text)) return text;
  const v6 = parseIPv6(text);
  return v6 ? unmapIPv4(formatIPv6(v6)) : undefined;
}

/**
 * True for an address another peer could usefully dial: not unspecified, loopback, link-local,
 * multicast or broadcast, and no IPv4-mapped/-compatible IPv6 (which would dial an IPv4 host
 * behind an IPv6 spelling). Private ranges and ULAs pass: a tracker on a LAN is legitimate.
 * Used for addresses a client claims (BEP 7 `ipv4=`/`ipv6=`), never for the one we saw.
 */
export function isDialableAddress(host: string): boolean {
  const v4 = parseIPv4(host);
  if (v4) {
    const [a, b] = [v4[0]!, v4[1]!];
    if (a === 0 || a === 127 || a >= 224) return false; // this network, loopback, multicast, reserved, broadcast
    if (a === 169 && b === 254) return false; // link-local
    return true;
  }
  const v6 = parseIPv6(host);
  if (!v6) return false;
  if (v6.subarray(0, 10).every((x) => x === 0) && ((v6[10] === 0xff && v6[11] === 0xff) || (v6[10] === 0 && v6[11] === 0))) {
    return false; // ::, ::1, IPv4-compatible ::a.b.c.d and IPv4-mapped ::ffff:a.b.c.d
  }
  if (v6[0] === 0xff) return false; // multicast
  if (v6[0] === 0xfe && (v6[1]! & 0xc0) === 0x80) return false; // link-local fe80::/10
  return true;
}

/** IPv4-mapped IPv6 text (`::ffff:1.2.3.4`, as dual-stack sockets report IPv4 senders) back to IPv4. */
export function unmapIPv4(host: string): string {
  const v6 = parseIPv6(host);
  if (v6 && v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff) return formatIPv4(v6.subarray(12));
  return host;
}
