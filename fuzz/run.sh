#!/usr/bin/env bash
# Runs the fuzz targets (FUZZING.md) from seeds made of the repository's genuine documents,
# media and forgeries:
#
#   bash fuzz/run.sh [TARGET|all] [SECONDS]     # default: all targets, 60 s each
#
# The corpus a run grows is kept in fuzz/corpus/<target> (not committed); a crash is written to
# fuzz/artifacts/<target>/ and fails the run. Build output goes to TIEZHENG_FUZZ_TARGET_DIR
# (default fuzz/target). Certificate PDFs to seed from: TIEZHENG_FUZZ_PDF_SEEDS (a folder). Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`; .ci/run keeps it under ~/.cache/tiezheng/cargo-fuzz).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
which=${1:-all}
seconds=${2:-60}
targets=(canonical_json verify_document pdf_attachments ledger_tx media_metadata merkle_proofs resigned_bundle
    vote_extension)
[[ "$which" == all ]] || targets=("$which")

seed() { # target, files...
    local dir="corpus/$1"
    shift
    mkdir -p "$dir"
    for f in "$@"; do
        [[ -f "$f" ]] || continue
        # The first 128 KiB: metadata and document structure live at the start.
        head -c 131072 "$f" >"$dir/seed-$(basename "$f")"
    done
}
examples=("$root"/schemas/examples/*.json)
forgeries=()
[[ -d "$root/target/forgeries" ]] && forgeries=("$root"/target/forgeries/*.json)
pdfs=()
if [[ -n "${TIEZHENG_FUZZ_PDF_SEEDS:-}" ]]; then pdfs=("$TIEZHENG_FUZZ_PDF_SEEDS"/*.pdf); fi
seed canonical_json "${examples[@]}" "$root"/schemas/vectors/*.json
seed verify_document "${examples[@]}" "${forgeries[@]}" "${pdfs[@]}"
seed pdf_attachments "${pdfs[@]}"
seed ledger_tx "$root"/schemas/examples/batch-header.json "$root"/schemas/examples/governance.json \
    "$root"/schemas/examples/checkpoint.json
seed media_metadata "$root"/tests/corpus/photos/* "$root"/tests/corpus/malformed/*
mkdir -p corpus/merkle_proofs corpus/resigned_bundle corpus/vote_extension
# The example checkpoint's cosignature, as a validator puts it in its vote extension.
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["cosignatures"][0]; sys.stdout.write(json.dumps(c,separators=(",",":"),sort_keys=True,ensure_ascii=False))' \
    "$root/schemas/examples/checkpoint.json" >corpus/vote_extension/seed-cosignature.json

export PATH="$HOME/.cache/tiezheng/cargo-fuzz/bin:$PATH"
command -v cargo-fuzz >/dev/null || {
    echo "fuzz/run.sh: cargo-fuzz is not installed: cargo install --root ~/.cache/tiezheng/cargo-fuzz cargo-fuzz" >&2
    exit 2
}
fuzz=(cargo +nightly fuzz)
for t in "${targets[@]}"; do
    echo "==> fuzz $t for ${seconds}s"
    "${fuzz[@]}" run --target-dir "${TIEZHENG_FUZZ_TARGET_DIR:-$root/fuzz/target}" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -max_len=262144 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
        grep -E "^(#[0-9]+[[:space:]]+DONE|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written|thread '|Done )" || true
    if compgen -G "artifacts/$t/crash-*" >/dev/null || compgen -G "artifacts/$t/timeout-*" >/dev/null ||
        compgen -G "artifacts/$t/oom-*" >/dev/null; then
        echo "fuzz/run.sh: $t found an input that fails; see fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
