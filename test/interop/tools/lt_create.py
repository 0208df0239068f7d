#!/usr/bin/python3
"""Makes a .torrent with libtorrent's own creator and prints its v1 info-hash as JSON.

usage: lt_create.py SOURCE OUT [v1|hybrid]
hybrid (libtorrent 2.0's default) adds BEP 52 fields and BEP 47 padding files to the v1 info.
"""
import json
import os
import sys

import libtorrent as lt

source, out = os.path.abspath(sys.argv[1]), sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "v1"
fs = lt.file_storage()
lt.add_files(fs, source)
flags = lt.create_torrent.v1_only if mode == "v1" else 0
creator = lt.create_torrent(fs, 16384, flags=flags)
creator.add_tracker("http://127.0.0.1:8787/announce")
creator.add_url_seed("http://127.0.0.1:8787/seed/")
lt.set_piece_hashes(creator, os.path.dirname(source))
data = lt.bencode(creator.generate())
with open(out, "wb") as f:
    f.write(data)
info = lt.torrent_info(out)
print(json.dumps({"info_hash": str(info.info_hashes().v1), "num_pieces": info.num_pieces(), "num_files": info.files().num_files()}))
