#!/usr/bin/python3
"""Makes the payload and v1-only torrent for the loopback throughput benchmark, or reuses them.

OUT_DIR/payload/ holds three files summing to SIZE_MIB MiB, sized so that pieces span file
boundaries; OUT_DIR/big.torrent describes it (no tracker: peers are connected directly). The
torrent's name is "payload", so OUT_DIR is the save path (dataDir) a client seeds from.
Prints {"torrent", "dataDir", "bytes", "infoHash", "pieceLength", "reused"}.

usage: make_big_torrent.py OUT_DIR SIZE_MIB [PIECE_LEN=1048576]
"""
import json
import os
import sys

import libtorrent as lt

out_dir = os.path.abspath(sys.argv[1])
total = int(sys.argv[2]) * 1024 * 1024
piece_len = int(sys.argv[3]) if len(sys.argv) > 3 else 1024 * 1024
payload = os.path.join(out_dir, "payload")
torrent = os.path.join(out_dir, "big.torrent")
# Odd sizes, so that piece and file boundaries do not line up.
first = total // 2 + 12345
second = total * 3 // 10 - 4321
files = [("a.bin", first), ("b.bin", second), ("c.bin", total - first - second)]


def reusable():
    # big.torrent is written last, so its presence with matching size and piece length means the
    # payload was finished; the file sizes catch a payload changed or truncated since.
    try:
        info = lt.torrent_info(torrent)
    except RuntimeError:
        return None
    if info.total_size() != total or info.piece_length() != piece_len:
        return None
    paths = [(os.path.join(payload, n), s) for n, s in files]
    if any(not os.path.exists(p) or os.path.getsize(p) != s for p, s in paths):
        return None
    return info


def write_payload():
    os.makedirs(payload, exist_ok=True)
    # One random MiB, with a counter stamped on every 16 KiB block: every block and piece
    # differs (no accidental dedup of identical pieces) at memcpy speed, not urandom speed.
    base = bytearray(os.urandom(1024 * 1024))
    counter = 0
    for name, size in files:
        with open(os.path.join(payload, name), "wb") as f:
            left = size
            while left:
                for off in range(0, len(base), 16384):
                    base[off:off + 8] = counter.to_bytes(8, "little")
                    counter += 1
                n = min(left, len(base))
                f.write(base[:n])
                left -= n


info = reusable()
reused = info is not None
if not reused:
    write_payload()
    fs = lt.file_storage()
    lt.add_files(fs, payload)
    creator = lt.create_torrent(fs, piece_len, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(creator, out_dir)
    tmp = torrent + ".tmp"
    with open(tmp, "wb") as f:
        f.write(lt.bencode(creator.generate()))
    os.replace(tmp, torrent)
    info = lt.torrent_info(torrent)
print(json.dumps({"torrent": torrent, "dataDir": out_dir, "bytes": info.total_size(), "infoHash": str(info.info_hashes().v1),
                  "pieceLength": info.piece_length(), "reused": reused}))
