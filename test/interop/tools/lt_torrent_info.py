#!/usr/bin/python3
"""Reports what libtorrent makes of a .torrent, and optionally whether data on disk passes its
piece hashes: prints one JSON object. Run with /usr/bin/python3 (Debian's python3-libtorrent).

usage: lt_torrent_info.py TORRENT [SAVE_PATH]
"""
import json
import sys
import time

import libtorrent as lt

info = lt.torrent_info(sys.argv[1])
files = info.files()
result = {
    "info_hash": str(info.info_hashes().v1),
    "name": info.name(),
    "num_pieces": info.num_pieces(),
    "piece_length": info.piece_length(),
    "total_size": info.total_size(),
    "private": info.priv(),
    "files": [files.file_path(i) for i in range(files.num_files())],
    "trackers": [t.url for t in info.trackers()],
    "web_seeds": [w["url"] for w in info.web_seeds()],
}
if len(sys.argv) > 2:
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": 0,
    }
    session = lt.session(settings)
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = sys.argv[2]
    handle = session.add_torrent(params)
    checking = (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data)
    deadline = time.time() + 60
    while time.time() < deadline:
        status = handle.status()
        if status.state not in checking and status.state != lt.torrent_status.checking_files:
            if status.is_seeding or status.state == lt.torrent_status.downloading:
                break
        time.sleep(0.05)
    status = handle.status()
    result["verified_pieces"] = sum(1 for have in status.pieces if have)
    result["is_seed"] = status.is_seeding or status.num_pieces == info.num_pieces()
print(json.dumps(result))
