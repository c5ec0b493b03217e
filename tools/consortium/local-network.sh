#!/usr/bin/env bash
# A consortium of N member organisations on one machine, each with its CometBFT v0.38 validator
# and its Tiezheng ledger application, laid out as the README's consortium section describes
# (and as tests/consortium_recipe.rs runs it):
#
#   tools/consortium/local-network.sh init  DIR [N] [NOTARY_KEY_FILE]   # keys, genesis, configs
#   tools/consortium/local-network.sh start DIR                         # every app and node
#   tools/consortium/local-network.sh stop  DIR
#
# Member i (0-based) runs on its own loopback address 127.0.0.(BASE+i) (BASE from
# TIEZHENG_NET_BASE, default 11), so every node keeps CometBFT's standard ports: ledger
# application on :26658, RPC on :26657, peer-to-peer on :26656. Member names come from
# TIEZHENG_MEMBERS (space-separated; default court police procuratorate notary-office, then
# member-5, member-6, ...). DIR/members.tsv says which node is whose: index, member, address,
# RPC URL, member key file.
#
# The notary's SM2 key is NOTARY_KEY_FILE (default DIR/notary/notary-key.json), created here if
# missing and registered in the genesis; start the notary with that file as its key
# (`tiezheng serve --data-dir DIR/notary`, whose default key file it is), otherwise the ledger
# refuses its batches. Needs `tiezheng` and `cometbft` (v0.38) on PATH, or TIEZHENG_BIN and
# COMETBFT_BIN.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { sed -n '2,21p' "$0" >&2; exit 2; }
tz=${TIEZHENG_BIN:-tiezheng}
cometbft=${COMETBFT_BIN:-cometbft}
base=${TIEZHENG_NET_BASE:-11}
read -r -a names <<<"${TIEZHENG_MEMBERS:-court police procuratorate notary-office}"

member_name() {
    local i=$1
    if ((i < ${#names[@]})); then echo "${names[$i]}"; else echo "member-$((i + 1))"; fi
}

case "$cmd" in
init)
    n=${3:-4}
    notary_key=${4:-$dir/notary/notary-key.json}
    [[ -e "$dir/members.tsv" ]] && { echo "$dir already holds a network (members.tsv): stop it and remove the folder first" >&2; exit 2; }
    "$cometbft" testnet --v "$n" --o "$dir" --starting-ip-address "127.0.0.$base" >/dev/null
    mkdir -p "$(dirname "$notary_key")" "$dir/logs"
    notary_pk=$("$tz" ledger key "$notary_key" | sed -E 's/.*"public_key":"([0-9a-f]+)".*/\1/')
    genesis_args=()
    : >"$dir/members.tsv"
    for ((i = 0; i < n; i++)); do
        m=$(member_name "$i")
        key="$dir/node$i/config/member-key.json"
        pk=$("$tz" ledger key "$key" | sed -E 's/.*"public_key":"([0-9a-f]+)".*/\1/')
        genesis_args+=(--member "$m=$pk")
        ip="127.0.0.$((base + i))"
        printf '%s\t%s\t%s\thttp://%s:26657\t%s\n' "$i" "$m" "$ip" "$ip" "$key" >>"$dir/members.tsv"
    done
    "$tz" ledger genesis --genesis "$dir/node0/config/genesis.json" "${genesis_args[@]}" --notary "$notary_pk" >/dev/null
    for ((i = 1; i < n; i++)); do cp "$dir/node0/config/genesis.json" "$dir/node$i/config/genesis.json"; done
    echo "{\"network\":\"$dir\",\"members\":$n,\"notary_key\":\"$notary_key\",\"rpc\":\"http://127.0.0.$base:26657\"}"
    ;;
start)
    [[ -e "$dir/members.tsv" ]] || { echo "$dir has no network: run init first" >&2; exit 2; }
    mkdir -p "$dir/logs"
    while IFS=$'\t' read -r i m ip _rpc key; do
        "$tz" ledger serve --listen "$ip:26658" --member "$m" --key "$key" \
            >/dev/null 2>>"$dir/logs/app$i.log" &
        echo $! >"$dir/logs/app$i.pid"
        for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$ip/26658") 2>/dev/null && break; sleep 0.1; done
    done <"$dir/members.tsv"
    while IFS=$'\t' read -r i _m ip _rpc _key; do
        "$cometbft" start --home "$dir/node$i" --proxy_app "tcp://$ip:26658" \
            --rpc.laddr "tcp://$ip:26657" --p2p.laddr "tcp://$ip:26656" \
            >>"$dir/logs/node$i.log" 2>&1 &
        echo $! >"$dir/logs/node$i.pid"
    done <"$dir/members.tsv"
    echo "{\"started\":\"$dir\",\"rpc\":\"$(cut -f4 "$dir/members.tsv" | head -n 1)\"}"
    ;;
stop)
    for pid in "$dir"/logs/*.pid; do
        [[ -e "$pid" ]] || continue
        kill "$(cat "$pid")" 2>/dev/null || true
        rm -f "$pid"
    done
    ;;
*)
    sed -n '2,21p' "$0" >&2
    exit 2
    ;;
esac
