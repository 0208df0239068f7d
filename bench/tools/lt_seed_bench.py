#!/usr/bin/python3
"""The libtorrent seed of the loopback throughput benchmark: checks DATA_DIR against TORRENT,
prints {"port": N} once it seeds on 127.0.0.1 (TCP only), serves until stdin closes, then prints
{"uploadedBytes", "peakRssMiB", "servingPeakRssMiB", "servingPeakRssAnonMiB"}.

libtorrent's default settings, except what would make the comparison unfair: no rate limit,
several connections from 127.0.0.1 allowed, and only the alerts we read (posting every alert
category costs libtorrent real time at GiB/s). LT_SETTINGS (a JSON object of settings) overrides
any of it, for experiments.

peakRssMiB is ru_maxrss over the whole life, which includes checking the files at start; the
serving figures are sampled from /proc/self/status while peers are served. libtorrent 2.0 reads
through mmap, so RSS counts the file pages it touches (RssFile); RssAnon is its own memory.

usage: lt_seed_bench.py TORRENT DATA_DIR
"""
import json
import os
import resource
import select
import sys
import time

import libtorrent as lt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "interop", "tools"))
from lt_loopback import loopback_session, proc_status_mib, torrent_params  # noqa: E402

torrent, data_dir = sys.argv[1:3]


ses = loopback_session(tcp_only=True, alert_mask=lt.alert.category_t.error_notification | lt.alert.category_t.status_notification)
ses.apply_settings({"upload_rate_limit": 0, "download_rate_limit": 0, **json.loads(os.environ.get("LT_SETTINGS") or "{}")})
params = torrent_params(torrent, data_dir)
handle = ses.add_torrent(params)
while not handle.status().is_seeding:
    if handle.status().errc.value():
        sys.exit(f"lt_seed_bench: {handle.status().errc.message()}")
    ses.wait_for_alert(100)
    ses.pop_alerts()
print(json.dumps({"port": ses.listen_port()}), flush=True)

peak_rss = peak_anon = 0.0
while True:
    ready, _, _ = select.select([sys.stdin], [], [], 0.1)
    ses.pop_alerts()
    peak_rss = max(peak_rss, proc_status_mib("VmRSS"))
    peak_anon = max(peak_anon, proc_status_mib("RssAnon"))
    if ready and not sys.stdin.read(1):
        break
time.sleep(1.5)  # libtorrent adds transfer to the torrent's totals once a second
print(json.dumps({"uploadedBytes": handle.status().all_time_upload, "peakRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "servingPeakRssMiB": round(peak_rss, 1), "servingPeakRssAnonMiB": round(peak_anon, 1)}), flush=True)
