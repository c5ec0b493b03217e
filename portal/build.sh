#!/usr/bin/env bash
# Builds the portal's WebAssembly module (portal/wasm, the protocol crate compiled for the
# browser) into portal/www/pkg/, which the notary embeds at compile time.
#
#   bash portal/build.sh           # rebuild portal/www/pkg/ from the sources
#   bash portal/build.sh --check   # rebuild into a temporary directory and fail unless the
#                                  # committed portal/www/pkg/ is byte-identical (CI runs this)
#
# Needs: the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`) and
# wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock, looked for in
# ~/.cache/tiezheng/wasm-bindgen-<version>/bin, then on PATH:
#   cargo install --root ~/.cache/tiezheng/wasm-bindgen-<version> wasm-bindgen-cli --version <version>
# The build is reproducible: paths are remapped, the profile is fixed (`[profile.wasm]`), and
# the Rust and wasm-bindgen versions are recorded in pkg/BUILD-INFO and checked.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
check=0
[[ "${1:-}" == "--check" ]] && check=1

ver=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
[[ -n "$ver" ]] || { echo "portal/build.sh: wasm-bindgen is not in Cargo.lock" >&2; exit 2; }
bindgen="$HOME/.cache/tiezheng/wasm-bindgen-$ver/bin/wasm-bindgen"
if [[ ! -x "$bindgen" ]]; then
    bindgen=$(command -v wasm-bindgen || true)
fi
if [[ -z "$bindgen" ]] || [[ "$("$bindgen" --version)" != "wasm-bindgen $ver" ]]; then
    cat >&2 <<MSG
portal/build.sh: wasm-bindgen-cli $ver (the wasm-bindgen version in Cargo.lock) is not installed. Install it with
    cargo install --root ~/.cache/tiezheng/wasm-bindgen-$ver wasm-bindgen-cli --version $ver
MSG
    exit 2
fi
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "portal/build.sh: the wasm32-unknown-unknown target is missing: rustup target add wasm32-unknown-unknown" >&2
    exit 2
fi

target="${CARGO_TARGET_DIR:-$root/target}"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
sysroot=$(rustc --print sysroot)
# Only the wasm32 artefacts get these flags (a --target build leaves host build scripts alone).
export RUSTFLAGS="--remap-path-prefix=$root=/tiezheng --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$sysroot=/rustc"
cargo build --locked -p tiezheng-wasm --target wasm32-unknown-unknown --profile wasm

out="$root/portal/www/pkg"
if (( check )); then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
"$bindgen" --target web --no-typescript --out-dir "$out" \
    "$target/wasm32-unknown-unknown/wasm/tiezheng_wasm.wasm"
{
    echo "rustc: $(rustc -V)"
    echo "wasm-bindgen: $ver"
    for f in tiezheng_wasm_bg.wasm tiezheng_wasm.js; do
        echo "$f sha256: $(sha256sum "$out/$f" | cut -d' ' -f1)"
    done
} > "$out/BUILD-INFO"

if (( check )); then
    if ! diff -u "$root/portal/www/pkg/BUILD-INFO" "$out/BUILD-INFO"; then
        echo "portal/build.sh --check: portal/www/pkg/ was not built from the current sources (see the difference above): run bash portal/build.sh and commit portal/www/pkg/" >&2
        exit 1
    fi
    for f in tiezheng_wasm.js tiezheng_wasm_bg.wasm; do
        cmp "$root/portal/www/pkg/$f" "$out/$f"
    done
    echo "portal/www/pkg/ matches a fresh build of the current sources"
else
    echo "built $out: $(wc -c < "$out/tiezheng_wasm_bg.wasm") bytes of WebAssembly"
fi
