#!/usr/bin/env bash
# A consortium of N member organisations on one machine, each with its CometBFT v0.38 validator
# and its Tiezheng ledger application, laid out as the README's consortium section describes
# (and as tests/consortium_recipe.rs runs it):
#
#   tools/consortium/local-network.sh init  DIR [N] [NOTARY_KEY_FILE]   # keys, genesis, configs
#   tools/consortium/local-network.sh start DIR                         # every app and node
#   tools/consortium/local-network.sh stop  DIR
#   tools/consortium/local-network.sh join  DIR MEMBER                  # a new member's node
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
# refuses its batches. Each genesis validator is its member's (`ledger genesis --validator`): it
# votes with the member's power and leaves with it.
#
# `join` writes and starts the node of a member that is not yet one (next index and address,
# its SM2 key, every existing node as a peer); it syncs as a full node and prints the two
# governance changes that make it a member and its node a validator (`tiezheng ledger
# propose`, approved by more than two thirds of the members, then `submit`).
#
# Needs `tiezheng` and `cometbft` (v0.38) on PATH, or TIEZHENG_BIN and COMETBFT_BIN.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { sed -n '2,30p' "$0" >&2; exit 2; }
tz=${TIEZHENG_BIN:-tiezheng}
cometbft=${COMETBFT_BIN:-cometbft}
base=${TIEZHENG_NET_BASE:-11}
read -r -a names <<<"${TIEZHENG_MEMBERS:-court police procuratorate notary-office}"

member_name() {
    local i=$1
    if ((i < ${#names[@]})); then echo "${names[$i]}"; else echo "member-$((i + 1))"; fi
}

start_app() { # index member ip key
    "$tz" ledger serve --listen "$3:26658" --member "$2" --key "$4" \
        >/dev/null 2>>"$dir/logs/app$1.log" &
    echo $! >"$dir/logs/app$1.pid"
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$3/26658") 2>/dev/null && break; sleep 0.1; done
}

start_node() { # index ip
    "$cometbft" start --home "$dir/node$1" --proxy_app "tcp://$2:26658" \
        --rpc.laddr "tcp://$2:26657" --p2p.laddr "tcp://$2:26656" \
        >>"$dir/logs/node$1.log" 2>&1 &
    echo $! >"$dir/logs/node$1.pid"
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
        genesis_args+=(--member "$m=$pk" --validator "$m=$dir/node$i/config/priv_validator_key.json")
        ip="127.0.0.$((base + i))"
        printf '%s\t%s\t%s\thttp://%s:26657\t%s\n' "$i" "$m" "$ip" "$ip" "$key" >>"$dir/members.tsv"
    done
    "$tz" ledger genesis --genesis "$dir/node0/config/genesis.json" "${genesis_args[@]}" --notary "$notary_pk" >/dev/null
    for ((i = 1; i < n; i++)); do cp "$dir/node0/config/genesis.json" "$dir/node$i/config/genesis.json"; done
    # CometBFT settings (README, "Consortium settings"): a stopped member's turn as proposer
    # costs 1 s, not 3 s; the rest stays at CometBFT's defaults, measured.
    for ((i = 0; i < n; i++)); do
        sed -i -e 's/^timeout_propose = .*/timeout_propose = "1s"/' "$dir/node$i/config/config.toml"
    done
    echo "{\"network\":\"$dir\",\"members\":$n,\"notary_key\":\"$notary_key\",\"rpc\":\"http://127.0.0.$base:26657\"}"
    ;;
start)
    [[ -e "$dir/members.tsv" ]] || { echo "$dir has no network: run init first" >&2; exit 2; }
    mkdir -p "$dir/logs"
    while IFS=$'\t' read -r i m ip _rpc key; do start_app "$i" "$m" "$ip" "$key"; done <"$dir/members.tsv"
    while IFS=$'\t' read -r i _m ip _rpc _key; do start_node "$i" "$ip"; done <"$dir/members.tsv"
    echo "{\"started\":\"$dir\",\"rpc\":\"$(cut -f4 "$dir/members.tsv" | head -n 1)\"}"
    ;;
join)
    m=${3:-}
    [[ -n "$m" ]] || { echo "join DIR MEMBER: name the new member" >&2; exit 2; }
    [[ -e "$dir/members.tsv" ]] || { echo "$dir has no network: run init first" >&2; exit 2; }
    cut -f2 "$dir/members.tsv" | grep -qx -- "$m" && { echo "$m already has a node in $dir" >&2; exit 2; }
    i=$(wc -l <"$dir/members.tsv")
    ip="127.0.0.$((base + i))"
    home="$dir/node$i"
    "$cometbft" init --home "$home" >/dev/null 2>&1
    cp "$dir/node0/config/genesis.json" "$home/config/genesis.json"
    peers=""
    while IFS=$'\t' read -r j _m pip _rpc _key; do
        peers+="${peers:+,}$("$cometbft" show-node-id --home "$dir/node$j")@$pip:26656"
    done <"$dir/members.tsv"
    # The genesis nodes' settings, with this node's moniker and peers.
    sed -e "s|^moniker = .*|moniker = \"$m\"|" -e "s|^persistent_peers = .*|persistent_peers = \"$peers\"|" \
        "$dir/node0/config/config.toml" >"$home/config/config.toml"
    key="$home/config/member-key.json"
    pk=$("$tz" ledger key "$key" | sed -E 's/.*"public_key":"([0-9a-f]+)".*/\1/')
    printf '%s\t%s\t%s\thttp://%s:26657\t%s\n' "$i" "$m" "$ip" "$ip" "$key" >>"$dir/members.tsv"
    start_app "$i" "$m" "$ip" "$key"
    start_node "$i" "$ip"
    rpc=$(cut -f4 "$dir/members.tsv" | head -n 1)
    echo "{\"joined\":\"$m\",\"node\":$i,\"rpc\":\"http://$ip:26657\",\"member_key\":\"$key\",\"public_key\":\"$pk\",\"validator_key\":\"$home/config/priv_validator_key.json\"}"
    echo "next: tiezheng ledger propose --rpc $rpc --set-member $m=$pk:1 ..., then --set-validator $m=$home/config/priv_validator_key.json (each approved and submitted)" >&2
    ;;
stop)
    for pid in "$dir"/logs/*.pid; do
        [[ -e "$pid" ]] || continue
        kill "$(cat "$pid")" 2>/dev/null || true
        rm -f "$pid"
    done
    ;;
*)
    sed -n '2,30p' "$0" >&2
    exit 2
    ;;
esac
