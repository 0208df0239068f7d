#!/usr/bin/env bash
# Makes .torrent files with real third-party creators (mktorrent, transmission-create, libtorrent)
# over generated content, and writes manifest.json with the info-hash each tool reports.
# usage: make-real-torrents.sh OUT_DIR
# transmission-show (3.00) cannot read BEP 52 hybrids: their "transmission" field is empty.
# The test suite runs it live; test/fixtures/real-torrents/ holds one run's output, committed.
set -euo pipefail
out=$(realpath -m "$1")
here=$(dirname "$(realpath "$0")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -f "$out"/*.torrent "$out/manifest.json"
mkdir -p "$out" "$work/album/disc 1" "$work/album/disc 2"
head -c 300000 /dev/urandom > "$work/single.bin"
head -c 70000 /dev/urandom > "$work/album/disc 1/track é.flac"
head -c 5 /dev/urandom > "$work/album/disc 1/notes.txt"
head -c 123457 /dev/urandom > "$work/album/disc 2/track.flac"
: > "$work/album/empty.txt"

hash_of() { { transmission-show "$1" 2>/dev/null || true; } | sed -n 's/^ *Hash: *\([0-9a-f]\{40\}\).*/\1/p' | head -n 1; }
entries=()
record() { # file tool
  local lt_hash
  lt_hash=$(/usr/bin/python3 "$here/lt_torrent_info.py" "$out/$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')
  entries+=("{\"file\":\"$1\",\"tool\":\"$2\",\"transmission\":\"$(hash_of "$out/$1")\",\"libtorrent\":\"$lt_hash\"}")
}

(cd "$work" && mktorrent -l 15 -a http://127.0.0.1:8787/announce -w http://127.0.0.1:8787/seed/ -o "$out/mktorrent-single.torrent" single.bin > /dev/null)
record mktorrent-single.torrent mktorrent
(cd "$work" && mktorrent -p -l 15 -a http://127.0.0.1:8787/announce,http://127.0.0.1:8788/announce -a udp://127.0.0.1:6969 -c "a comment" -o "$out/mktorrent-multi-private.torrent" album > /dev/null)
record mktorrent-multi-private.torrent mktorrent
(cd "$work" && transmission-create -s 32 -t http://127.0.0.1:8787/announce -w http://127.0.0.1:8787/seed/ -o "$out/transmission-multi.torrent" album > /dev/null)
record transmission-multi.torrent transmission-create
/usr/bin/python3 "$here/lt_create.py" "$work/album" "$out/libtorrent-hybrid.torrent" hybrid > /dev/null
record libtorrent-hybrid.torrent libtorrent
/usr/bin/python3 "$here/lt_create.py" "$work/single.bin" "$out/libtorrent-v1.torrent" v1 > /dev/null
record libtorrent-v1.torrent libtorrent

(IFS=,; echo "[${entries[*]}]") > "$out/manifest.json"
