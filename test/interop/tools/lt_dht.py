#!/usr/bin/python3
"""libtorrent with its DHT on, on 127.0.0.1, bootstrapped from one node we give it (the loopback
settings of ../shared/INTEROP.md: no restrictions on routing/search IPs). No trackers, LSD, PEX
or UPnP: peers can come only from the DHT.

  seed:  TORRENT is a .torrent; DIR holds the data. Prints {"port": N} once seeding, then runs
         (announcing in the DHT) until stdin closes or TIMEOUT_S.
  leech: TORRENT is a magnet (or a .torrent); downloads into DIR, then prints
         {"complete": bool, "seconds": float}.

usage: lt_dht.py seed|leech TORRENT DIR BOOTSTRAP_HOST:PORT [TIMEOUT_S]
"""
import json
import select
import sys
import time

import libtorrent as lt

from lt_loopback import loopback_session, torrent_params

mode, torrent, save_dir, bootstrap = sys.argv[1:5]
timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60

ses = loopback_session(tcp_only=True, plaintext=True)
ses.apply_settings({
    "enable_dht": True,
    "dht_bootstrap_nodes": bootstrap,
    "dht_restrict_routing_ips": False,
    "dht_restrict_search_ips": False,
    "dht_ignore_dark_internet": False,
    "dht_prefer_verified_node_ids": False,
})
host, port = bootstrap.rsplit(":", 1)
ses.add_dht_node((host, int(port)))
params = torrent_params(torrent, save_dir)
params.flags |= lt.torrent_flags.disable_pex
handle = ses.add_torrent(params)
start = time.time()
deadline = start + timeout

if mode == "seed":
    while time.time() < deadline and not handle.status().is_seeding:
        time.sleep(0.05)
    print(json.dumps({"port": ses.listen_port(), "seeding": handle.status().is_seeding}), flush=True)
    last = 0.0
    while time.time() < deadline:
        if time.time() - last > 2:
            handle.force_dht_announce()  # announce again until the test is done
            last = time.time()
        ready, _, _ = select.select([sys.stdin], [], [], 0.2)
        if ready and not sys.stdin.read(1):
            break
else:
    while time.time() < deadline and not handle.status().is_seeding:
        time.sleep(0.05)
    print(json.dumps({"complete": handle.status().is_seeding, "seconds": round(time.time() - start, 3)}), flush=True)
