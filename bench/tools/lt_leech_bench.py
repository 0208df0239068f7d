#!/usr/bin/python3
"""The libtorrent leecher of the loopback throughput benchmark: downloads TORRENT into SAVE_DIR
from the one peer HOST:PORT (TCP only, no DHT/LSD/tracker), and prints
{"seconds", "bytes", "mibps", "peakRssMiB", "peakRssAnonMiB", "wastedBytes", "cpuSeconds", "finished"}
(cpuSeconds: user + system over the whole process, start-up included).

seconds runs from the connection to the peer being up (peer_connect_alert) to every piece
having passed its hash check (torrent_finished_alert), so session start-up is not counted.
Settings as in lt_seed_bench.py (LT_SETTINGS overrides). SAVE_DIR must be empty or absent: a
leftover download would be found by the check at start and skew the figure.

peakRssMiB is ru_maxrss; libtorrent 2.0 writes through mmap, so it includes the file pages it
touched. peakRssAnonMiB (sampled from /proc/self/status) is libtorrent's own memory.

usage: lt_leech_bench.py TORRENT SAVE_DIR HOST PORT [TIMEOUT_S=300]
"""
import json
import os
import resource
import sys
import time

import libtorrent as lt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "interop", "tools"))
from lt_loopback import loopback_session, proc_status_mib, torrent_params  # noqa: E402

torrent, save_dir, host, port = sys.argv[1:5]
timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 300
if os.path.isdir(save_dir) and os.listdir(save_dir):
    sys.exit(f"lt_leech_bench: {save_dir} is not empty")


cat = lt.alert.category_t
ses = loopback_session(tcp_only=True, alert_mask=cat.error_notification | cat.status_notification | cat.connect_notification)
ses.apply_settings({"upload_rate_limit": 0, "download_rate_limit": 0, **json.loads(os.environ.get("LT_SETTINGS") or "{}")})
params = torrent_params(torrent, save_dir)
handle = ses.add_torrent(params)
handle.connect_peer((host, int(port)))

deadline = time.monotonic() + timeout
connected = finished = None
peak_anon = 0.0
while finished is None and time.monotonic() < deadline:
    ses.wait_for_alert(50)
    for alert in ses.pop_alerts():
        if isinstance(alert, lt.peer_connect_alert) and connected is None:
            connected = time.monotonic()
        elif isinstance(alert, lt.torrent_finished_alert):
            finished = time.monotonic()
        elif isinstance(alert, lt.torrent_error_alert):
            sys.exit(f"lt_leech_bench: {alert.message()}")
    peak_anon = max(peak_anon, proc_status_mib("RssAnon"))

status = handle.status()
usage = resource.getrusage(resource.RUSAGE_SELF)
seconds = (finished or time.monotonic()) - (connected or time.monotonic())
print(json.dumps({"seconds": round(seconds, 3), "bytes": status.total_done, "mibps": round(status.total_done / 1048576 / seconds, 1) if seconds > 0 else 0,
                  "peakRssMiB": round(usage.ru_maxrss / 1024, 1), "peakRssAnonMiB": round(peak_anon, 1),
                  "wastedBytes": status.total_redundant_bytes + status.total_failed_bytes, "cpuSeconds": round(usage.ru_utime + usage.ru_stime, 2), "finished": finished is not None}), flush=True)
