#!/usr/bin/env bash
# Reports the size of the release cdylib the mobile apps ship (x86_64 host build; Android
# arm64 builds are of the same order), as built and stripped.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
cargo build -q --release -p tiezheng-ffi
lib="$target_dir/release/libtiezheng_ffi.so"
stripped=$(mktemp)
strip -o "$stripped" "$lib"
printf 'libtiezheng_ffi.so (release, %s): %s bytes as built, %s bytes stripped\n' \
    "$(uname -m)" "$(stat -c %s "$lib")" "$(stat -c %s "$stripped")"
rm -f "$stripped"
