#!/usr/bin/env bash
# Builds the tiezheng-ffi library for this host and generates its Kotlin and Python bindings:
#   bindings/scripts/generate.sh [debug|release] OUT_DIR
# OUT_DIR/kotlin/...  generated Kotlin sources (package cn.tiezheng.sdk)
# OUT_DIR/python/     tiezheng_ffi.py plus the host library beside it (the module loads it from there)
# OUT_DIR/swift/      TiezhengFFI.swift, TiezhengFFIC.h and module.modulemap (compiled on macOS only:
#                     bindings/scripts/build-xcframework.sh)
# The workspace's uniffi-bindgen replaces UniFFI's converter for borrowed byte arguments in the
# Kotlin and Python it writes (bindings/uniffi-bindgen/src/byte_buffers.rs): Kotlin takes exactly
# a ByteBuffer's position..limit, direct or heap. Compile the Kotlin with bindings/kotlin/
# (ByteArray overloads), which is hand-written and not generated.
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${1:-debug}
out=${2:-target/bindings}
flag=(); [ "$profile" = release ] && flag=(--release)
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
cargo build -q -p tiezheng-ffi "${flag[@]}"
case "$(uname -s)" in
    Darwin) lib="$target_dir/$profile/libtiezheng_ffi.dylib" ;;
    *) lib="$target_dir/$profile/libtiezheng_ffi.so" ;;
esac
mkdir -p "$out/kotlin" "$out/python" "$out/swift"
cargo run -q -p uniffi-bindgen --bin uniffi-bindgen -- generate --library "$lib" --language kotlin --no-format --out-dir "$out/kotlin"
cargo run -q -p uniffi-bindgen --bin uniffi-bindgen -- generate --library "$lib" --language python --no-format --out-dir "$out/python"
cp "$lib" "$out/python/"
cargo run -q -p uniffi-bindgen --bin uniffi-bindgen-swift -- --swift-sources --headers --modulemap \
    --module-name TiezhengFFIC --modulemap-filename module.modulemap "$lib" "$out/swift"
echo "$lib"
