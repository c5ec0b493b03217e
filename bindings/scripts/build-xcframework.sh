#!/usr/bin/env bash
# Builds TiezhengFFI.xcframework and the Swift sources for iOS (device + simulator).
# Needs macOS with Xcode and the Rust targets: rustup target add aarch64-apple-ios
# aarch64-apple-ios-sim x86_64-apple-ios. It cannot run on Linux (no Apple toolchain), which is
# why CI only checks that the Swift sources generate (tests/bindings.rs).
#
#   bindings/scripts/build-xcframework.sh [OUT_DIR]
#
# OUT_DIR defaults to mobile-samples/ios/Artifacts, inside the Swift package that uses it
# (SwiftPM refuses targets outside the package's folder). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-mobile-samples/ios/Artifacts}
target=${CARGO_TARGET_DIR:-target}
[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS and Xcode" >&2; exit 1; }
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
for t in "${targets[@]}"; do
    cargo build -p tiezheng-ffi --release --target "$t"
done
rm -rf "$out" && mkdir -p "$out/headers" "$out/sim" "$out/swift"
lipo -create "$target/aarch64-apple-ios-sim/release/libtiezheng_ffi.a" "$target/x86_64-apple-ios/release/libtiezheng_ffi.a" \
    -output "$out/sim/libtiezheng_ffi.a"
# Swift sources, header and an XCFramework-style modulemap, from the device library.
cargo run -q -p uniffi-bindgen --bin uniffi-bindgen-swift -- --swift-sources --headers --modulemap \
    --xcframework --module-name TiezhengFFIC --modulemap-filename module.modulemap \
    "$target/aarch64-apple-ios/release/libtiezheng_ffi.a" "$out/headers"
mv "$out/headers/"*.swift "$out/swift/"
xcodebuild -create-xcframework \
    -library "$target/aarch64-apple-ios/release/libtiezheng_ffi.a" -headers "$out/headers" \
    -library "$out/sim/libtiezheng_ffi.a" -headers "$out/headers" \
    -output "$out/TiezhengFFI.xcframework"
echo "built $out/TiezhengFFI.xcframework and $out/swift/TiezhengFFI.swift"
