#!/usr/bin/python3
"""libtorrent seed -> libtorrent leech over loopback TCP, the reference figure for the Node
engine's throughput: makes (or reuses) the payload in DATA_DIR, then RUNS times starts a fresh
lt_seed_bench.py, empties DATA_DIR-leech and times lt_leech_bench.py against it. Prints one JSON
line per run ({"run", "leech": {...}, "seed": {...}}) and the median MiB/s.

SEED_SETTINGS / LEECH_SETTINGS (JSON objects of libtorrent settings) are handed to each side as
LT_SETTINGS, to try a setting on one side only.

usage: lt_pair.py [RUNS=3] [SIZE_MIB=1024] [DATA_DIR=/tmp/bench-1g] [PIECE_LEN=1048576]
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
size_mib = sys.argv[2] if len(sys.argv) > 2 else "1024"
data_dir = sys.argv[3] if len(sys.argv) > 3 else "/tmp/bench-1g"
piece_len = sys.argv[4] if len(sys.argv) > 4 else "1048576"
leech_dir = data_dir.rstrip("/") + "-leech"
py = "/usr/bin/python3"  # python3-libtorrent lives in Debian's Python only


def env(var):
    return {**os.environ, "LT_SETTINGS": os.environ.get(var, "")}


made = json.loads(subprocess.check_output([py, os.path.join(here, "make_big_torrent.py"), data_dir, size_mib, piece_len]))
print(json.dumps({"torrent": made}), flush=True)
rates = []
for run in range(1, runs + 1):
    shutil.rmtree(leech_dir, ignore_errors=True)
    seed = subprocess.Popen([py, os.path.join(here, "lt_seed_bench.py"), made["torrent"], made["dataDir"]],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env("SEED_SETTINGS"))
    try:
        port = json.loads(seed.stdout.readline())["port"]
        leech = json.loads(subprocess.check_output([py, os.path.join(here, "lt_leech_bench.py"), made["torrent"], leech_dir, "127.0.0.1", str(port)],
                                                   env=env("LEECH_SETTINGS")))
    finally:
        seed.stdin.close()  # the seed stops when its stdin closes, then reports
        seed_report = json.loads(seed.stdout.readline() or "null")
        seed.wait()
    rates.append(leech["mibps"])
    print(json.dumps({"run": run, "leech": leech, "seed": seed_report}), flush=True)
shutil.rmtree(leech_dir, ignore_errors=True)
print(json.dumps({"medianMibps": statistics.median(rates), "mibps": rates}))
