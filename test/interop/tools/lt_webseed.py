#!/usr/bin/python3
"""libtorrent downloads TORRENT into SAVE_DIR from its web seeds alone: the torrent's trackers
are removed, and DHT, LSD, PEX, UPnP and NAT-PMP are off, so no peer can take part. Prints JSON.

usage: lt_webseed.py TORRENT SAVE_DIR [TIMEOUT_S]
"""
import json
import sys
import time

import libtorrent as lt

from lt_loopback import loopback_session

torrent, save_dir = sys.argv[1:3]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 90
session = loopback_session(alert_mask=lt.alert.category_t.error_notification | lt.alert.category_t.status_notification)
info = lt.torrent_info(torrent)
params = lt.add_torrent_params()
params.ti = info
params.save_path = save_dir
params.trackers = []
params.flags |= lt.torrent_flags.disable_pex
handle = session.add_torrent(params)
handle.replace_trackers([])
errors = []
started = time.time()
while time.time() - started < timeout and not handle.status().is_seeding:
    for alert in session.pop_alerts():
        if isinstance(alert, (lt.url_seed_alert, lt.file_error_alert, lt.hash_failed_alert)):
            errors.append(alert.message())
    time.sleep(0.05)
status = handle.status()
print(json.dumps({
    "finished": status.is_seeding,
    "seconds": round(time.time() - started, 2),
    "num_peers": status.num_peers,
    "total_payload_download": status.total_payload_download,
    "errors": errors[:10],
}))
