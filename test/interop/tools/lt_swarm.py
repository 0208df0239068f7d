#!/usr/bin/python3
"""Two libtorrent sessions that may find each other only through the tracker in the torrent:
a seeder (data in SEED_DIR) announces first, then a leecher (empty LEECH_DIR) announces and
downloads. DHT, LSD, PEX, UPnP and NAT-PMP are off. Prints one JSON object.

usage: lt_swarm.py TORRENT SEED_DIR LEECH_DIR [TIMEOUT_S]
"""
import json
import sys
import time

import libtorrent as lt

from lt_loopback import loopback_session, torrent_params

torrent, seed_dir, leech_dir = sys.argv[1:4]
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 90


def session():
    return loopback_session(tcp_only=True)


def add(ses, save_path):
    params = torrent_params(torrent, save_path)
    # No PEX: peers must come from the tracker alone.
    params.flags |= lt.torrent_flags.disable_pex
    return ses.add_torrent(params)


def tracker_events(ses, log, who):
    for alert in ses.pop_alerts():
        if isinstance(alert, lt.tracker_reply_alert):
            log.append({"who": who, "event": "reply", "peers": alert.num_peers})
        elif isinstance(alert, (lt.tracker_error_alert, lt.tracker_warning_alert)):
            log.append({"who": who, "event": "error", "message": alert.message()})


log = []
deadline = time.time() + timeout
seeder_session = session()
seeder = add(seeder_session, seed_dir)
# The seeder first checks its files, then announces as a seed.
while time.time() < deadline and not any(e["who"] == "seeder" and e["event"] == "reply" for e in log):
    tracker_events(seeder_session, log, "seeder")
    time.sleep(0.05)
seeder_is_seed = seeder.status().is_seeding

leecher_session = session()
leecher = add(leecher_session, leech_dir)
started = time.time()
while time.time() < deadline and not leecher.status().is_seeding:
    tracker_events(seeder_session, log, "seeder")
    tracker_events(leecher_session, log, "leecher")
    time.sleep(0.05)
# Alerts raised just before the download finished may still be queued: collect them too.
time.sleep(0.2)
tracker_events(seeder_session, log, "seeder")
tracker_events(leecher_session, log, "leecher")
status = leecher.status()
result = {
    "seeder_is_seed": seeder_is_seed,
    "leecher_finished": status.is_seeding,
    "leecher_progress": status.progress,
    "seconds": round(time.time() - started, 2),
    "tracker_log": log,
    "peers_seen_by_leecher": max([e.get("peers", 0) for e in log if e["who"] == "leecher"] or [0]),
}
# Tell the tracker both are leaving (event=stopped), as a well-behaved client does.
leecher_session.remove_torrent(leecher)
seeder_session.remove_torrent(seeder)
time.sleep(0.5)
print(json.dumps(result))
