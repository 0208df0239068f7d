#!/usr/bin/python3
"""A libtorrent seed on 127.0.0.1 for wire-protocol interop: checks SEED_DIR against TORRENT,
prints {"port": N, "seeding": true} once it seeds, then serves until stdin closes or TIMEOUT_S.
DHT, LSD, UPnP, NAT-PMP and uTP are off, so peers reach it only over TCP on that port.

usage: lt_seed.py TORRENT SEED_DIR [TIMEOUT_S]
"""
import json
import select
import sys
import time

from lt_loopback import loopback_session, torrent_params

torrent, seed_dir = sys.argv[1:3]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 60

ses = loopback_session(tcp_only=True)
params = torrent_params(torrent, seed_dir)
handle = ses.add_torrent(params)
deadline = time.time() + timeout
while time.time() < deadline and not handle.status().is_seeding:
    time.sleep(0.05)
print(json.dumps({"port": ses.listen_port(), "seeding": handle.status().is_seeding}), flush=True)
while time.time() < deadline:
    ready, _, _ = select.select([sys.stdin], [], [], 0.2)
    if ready and not sys.stdin.read(1):
        break
