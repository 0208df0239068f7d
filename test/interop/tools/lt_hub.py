#!/usr/bin/python3
"""A libtorrent peer on 127.0.0.1 that has none of TORRENT's data and only waits: peers that dial
it stay connected (there is nothing to trade) and hear of each other through its peer exchange
(ut_pex, on by default). Prints {"port": N} and runs until stdin closes or TIMEOUT_S.

usage: lt_hub.py TORRENT EMPTY_DIR [TIMEOUT_S]
"""
import json
import select
import sys
import time

from lt_loopback import loopback_session, torrent_params

torrent, save_dir = sys.argv[1:3]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 90

ses = loopback_session(tcp_only=True)
params = torrent_params(torrent, save_dir)
ses.add_torrent(params)
print(json.dumps({"port": ses.listen_port()}), flush=True)
deadline = time.time() + timeout
while time.time() < deadline:
    ready, _, _ = select.select([sys.stdin], [], [], 0.2)
    if ready and not sys.stdin.read(1):
        break
