/**
 * HTTP announce load for wrk: requests cycle through `peers` announces over `swarms` swarms (a
 * third of them seeds), from a random point per wrk thread. Shared by the tracker benchmarks.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeAnnounceResponse } from '../shared/tracker/http-response.js';
import { escapeBytes as escape } from '../shared/tracker/http-query.js';
import { benchInfoHash, benchPeerId } from './bench-swarm.js';
import { runWrk, type WrkResult } from './wrk.js';

export interface AnnounceLoad {
  swarms: number;
  peers: number;
}

export function announcePath(load: AnnounceLoad, peer: number): string {
  const left = peer % 3 === 0 ? 0 : 1000;
  return `/announce?info_hash=${escape(benchInfoHash(peer % load.swarms))}&peer_id=${escape(benchPeerId(peer))}&port=${1024 + peer}&uploaded=0&downloaded=0&left=${left}&numwant=50&compact=1`;
}

/**
 * wrk against `base` for `seconds` with `connections`: the announce mix, or one fixed path.
 * The target must answer a probe announce first (a refusal would make every request a failure).
 */
export async function wrkAnnounces(base: string, work: string, load: AnnounceLoad, seconds: number, connections: number, fixedPath?: string): Promise<WrkResult> {
  if (!fixedPath) {
    const probe = decodeAnnounceResponse(new Uint8Array(await (await fetch(base + announcePath(load, 1))).arrayBuffer()));
    if ('failure' in probe) throw new Error(`${base} refused the probe announce: ${probe.failure}`);
  }
  const script = path.join(work, 'announce.lua');
  const paths = fixedPath ? [JSON.stringify(fixedPath)] : Array.from({ length: load.peers }, (_, i) => JSON.stringify(announcePath(load, i)));
  await writeFile(
    script,
    `local paths = {${paths.join(',')}}\nlocal i = math.random(#paths)\nrequest = function()\n  i = (i % #paths) + 1\n  return wrk.format("GET", paths[i])\nend\n`,
  );
  return runWrk(base, script, seconds, connections);
}
