#!/usr/bin/python3
"""A libtorrent leech on 127.0.0.1 that downloads TORRENT into SAVE_DIR from one peer it dials
itself (no tracker, DHT or LSD), then prints one JSON line
{"complete": bool, "seconds": float, "downloaded": int}.

Encryption is off both ways, so it speaks plaintext BitTorrent as our own peer does: a seed it
completes from is known to accept unencrypted connections. The peer is re-dialled every few
seconds while none is connected, in case the first attempt came before the seed was ready.

usage: lt_leech.py TORRENT|MAGNET SAVE_DIR PEER_HOST PEER_PORT [TIMEOUT_S]
"""
import json
import sys
import time

from lt_loopback import loopback_session, torrent_params

torrent, save_dir, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60

ses = loopback_session(tcp_only=True, plaintext=True)
# TORRENT may be a magnet link: libtorrent then fetches the info dictionary from the peer (BEP 9).
handle = ses.add_torrent(torrent_params(torrent, save_dir))

start = time.time()
deadline = start + timeout
last_dial = 0.0
while time.time() < deadline:
    status = handle.status()
    if status.is_seeding:
        break
    if status.num_peers == 0 and time.time() - last_dial > 3:
        handle.connect_peer((host, port))
        last_dial = time.time()
    time.sleep(0.05)

status = handle.status()
print(json.dumps({
    "complete": status.is_seeding,
    "seconds": round(time.time() - start, 3),
    "downloaded": status.total_payload_download,
}), flush=True)
