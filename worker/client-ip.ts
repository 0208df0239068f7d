import { canonicalIp } from '../shared/ip.js';

/**
 * The address of the client on the other end of this request, canonical, or undefined.
 *
 * On Cloudflare that is the CF-Connecting-IP header, which the edge sets (and overwrites when a
 * client sends its own). Locally the Worker is served on a workerd socket that fills in
 * `request.cf.clientIp` ("ip:port" or "[ip]:port") from the TCP connection instead (see
 * scripts/workerd-client-ip.ts); that value cannot be forged by a header, so it wins when present.
 */
export function connectingIp(request: Request): string | undefined {
  const local = (request as { cf?: { clientIp?: unknown } }).cf?.clientIp;
  if (typeof local === 'string') {
    const m = /^\[(.+)\]:\d+$/.exec(local) ?? /^([^:]+):\d+$/.exec(local);
    return canonicalIp(m ? m[1]! : local);
  }
  return canonicalIp(request.headers.get('cf-connecting-ip') ?? '');
}
