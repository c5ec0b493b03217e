"""§4.11 `chain`: CometBFT v0.38 signed header, validator set and commit, verified by hand."""
import base64, datetime, hashlib, re

import ed25519
from prims import merkle_root, sha256, sm3, ts_ms

UHEX = re.compile(r"^[0-9A-F]*$")
DEC = re.compile(r"^(0|[1-9][0-9]*)$")
GO_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")
ZERO_TIME = "0001-01-01T00:00:00Z"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
HEADER_FIELDS = ["version", "chain_id", "height", "time", "last_block_id", "last_commit_hash",
                 "data_hash", "validators_hash", "next_validators_hash", "consensus_hash",
                 "app_hash", "last_results_hash", "evidence_hash", "proposer_address"]


# ---- protobuf by hand ("fields with default values are omitted") ------------------------
def uvarint(n):
    n &= 2**64 - 1  # negative int64 as two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def f_varint(num, v):
    return uvarint(num << 3) + uvarint(v) if v else b""


def f_bytes(num, b, always=False):
    return uvarint(num << 3 | 2) + uvarint(len(b)) + b if b or always else b""


def f_sfixed64(num, v):
    return uvarint(num << 3 | 1) + (v & 2**64 - 1).to_bytes(8, "little") if v else b""


def go_time(s):
    """CometBFT RFC 3339 (nanosecond) time -> (seconds, nanos)."""
    m = GO_TIME.match(s) if isinstance(s, str) else None
    if not m:
        raise ValueError(f"bad CometBFT time {s!r}")
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    frac = m.group(7) or ""
    if frac.endswith("0"):
        raise ValueError(f"CometBFT writes no trailing zeros: {s!r}")
    dt = datetime.datetime(y, mo, d, h, mi, se, tzinfo=datetime.timezone.utc)
    return (dt - EPOCH) // datetime.timedelta(seconds=1), int(frac.ljust(9, "0"))


def pb_timestamp(s):
    secs, nanos = go_time(s)
    return f_varint(1, secs) + f_varint(2, nanos)


def hexb(s):
    return bytes.fromhex(s)


def pb_block_id(bid):  # BlockID / CanonicalBlockID{1: hash, 2: PartSetHeader{1: total, 2: hash}}
    psh = f_varint(1, bid["parts"]["total"]) + f_bytes(2, hexb(bid["parts"]["hash"]))
    # part_set_header is a non-nullable gogoproto field: CometBFT writes it even when empty
    # (VERIFYING.md §4.11 says defaults are omitted; the two differ only for an empty BlockID).
    return f_bytes(1, hexb(bid["hash"])) + f_bytes(2, psh, always=True)


def header_hash(h):
    leaves = [
        f_varint(1, int(h["version"]["block"])) + f_varint(2, int(h["version"]["app"])),
        f_bytes(1, h["chain_id"].encode()),  # StringValue
        f_varint(1, int(h["height"])),  # Int64Value
        pb_timestamp(h["time"]),
        pb_block_id(h["last_block_id"]),
    ] + [f_bytes(1, hexb(h[k])) for k in HEADER_FIELDS[5:]]  # BytesValue
    return merkle_root(leaves, sha256)


def validators_hash(vals):
    leaves = []
    for v in vals:
        pk = base64.b64decode(v["pub_key"]["value"], validate=True)
        leaves.append(f_bytes(1, f_bytes(1, pk)) + f_varint(2, int(v["voting_power"])))
    return merkle_root(leaves, sha256)


def vote_sign_bytes(commit, sig, chain_id):
    body = f_varint(1, 2) + f_sfixed64(2, int(commit["height"])) + f_sfixed64(3, commit["round"])
    bid = commit["block_id"]
    if sig["block_id_flag"] == 2 and (bid["hash"] or bid["parts"]["total"] or bid["parts"]["hash"]):
        body += f_bytes(4, pb_block_id(bid))  # a zero BlockID is omitted (CanonicalizeBlockID)
    body += f_bytes(5, pb_timestamp(sig["timestamp"]), always=True)
    body += f_bytes(6, chain_id.encode())
    return uvarint(len(body)) + body


def address_of(pk: bytes):
    return hashlib.sha256(pk).digest()[:20].hex().upper()


def registry_set_hash(vals):
    """validators_hash of a registry's validators ({pub_key, power}), put in CometBFT's order
    (power descending, then address ascending) as CometBFT would hold them."""
    order = sorted(vals, key=lambda v: (-v["power"], address_of(base64.b64decode(v["pub_key"]))))
    return validators_hash([{"pub_key": {"value": v["pub_key"]}, "voting_power": v["power"]} for v in order])


# ---- shape of CometBFT's JSON (chain.header) ---------------------------------------------
def _keys(o, keys, where):
    if not isinstance(o, dict) or set(o) != set(keys):
        raise ValueError(f"{where}: members must be exactly {sorted(keys)}")


def _hex(s, where, lengths=(64,)):
    if not isinstance(s, str) or not UHEX.match(s) or len(s) not in lengths:
        raise ValueError(f"{where}: not upper-case hex of length {lengths}")


def _dec(s, where):
    if not isinstance(s, str) or not DEC.match(s) or int(s) >= 2**63:
        raise ValueError(f"{where}: not a decimal string")


def _int(v, where):
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ValueError(f"{where}: not a non-negative integer")


def _block_id(b, where):
    _keys(b, ["hash", "parts"], where)
    _hex(b["hash"], where + ".hash", (0, 64))
    _keys(b["parts"], ["total", "hash"], where + ".parts")
    _int(b["parts"]["total"], where + ".parts.total")
    _hex(b["parts"]["hash"], where + ".parts.hash", (0, 64))


def check_shape(sh):
    _keys(sh, ["header", "commit"], "signed_header")
    h, c = sh["header"], sh["commit"]
    _keys(h, HEADER_FIELDS, "header")
    _keys(h["version"], ["block", "app"], "header.version")
    _dec(h["version"]["block"], "header.version.block")
    _dec(h["version"]["app"], "header.version.app")
    if not isinstance(h["chain_id"], str):
        raise ValueError("header.chain_id: not a string")
    _dec(h["height"], "header.height")
    go_time(h["time"])
    _block_id(h["last_block_id"], "header.last_block_id")
    for k in HEADER_FIELDS[5:13]:
        if k == "app_hash":  # any bytes to CometBFT; whether they are the right ones is chain.app_hash
            _hex(h[k], "header." + k, range(0, 2 * 64 + 1, 2))
        else:
            _hex(h[k], "header." + k, (0, 64))
    _hex(h["proposer_address"], "header.proposer_address", (40,))
    _keys(c, ["height", "round", "block_id", "signatures"], "commit")
    _dec(c["height"], "commit.height")
    _int(c["round"], "commit.round")
    _block_id(c["block_id"], "commit.block_id")
    if not isinstance(c["signatures"], list):
        raise ValueError("commit.signatures: not an array")
    for i, s in enumerate(c["signatures"]):
        w = f"commit.signatures[{i}]"
        _keys(s, ["block_id_flag", "validator_address", "timestamp", "signature"], w)
        _int(s["block_id_flag"], w + ".block_id_flag")
        _hex(s["validator_address"], w + ".validator_address", (0, 40))
        go_time(s["timestamp"])
        if s["signature"] is not None:
            if not isinstance(s["signature"], str):
                raise ValueError(w + ".signature: not a string or null")
            if base64.b64encode(base64.b64decode(s["signature"], validate=True)).decode() != s["signature"]:
                raise ValueError(w + ".signature: not canonical base64")


def check_validator_entries(vals):
    if not isinstance(vals, list):
        raise ValueError("validators: not an array")
    for i, v in enumerate(vals):
        w = f"validators[{i}]"
        _keys(v, ["address", "pub_key", "voting_power"], w)
        _hex(v["address"], w + ".address", (40,))
        _keys(v["pub_key"], ["type", "value"], w + ".pub_key")
        if v["pub_key"]["type"] != "tendermint/PubKeyEd25519":
            raise ValueError(w + ".pub_key.type: not tendermint/PubKeyEd25519")
        pk = base64.b64decode(v["pub_key"]["value"], validate=True)
        if len(pk) != 32 or base64.b64encode(pk).decode() != v["pub_key"]["value"]:
            raise ValueError(w + ".pub_key.value: not canonical base64 of 32 bytes")
        _dec(v["voting_power"], w + ".voting_power")


# ---- the rules --------------------------------------------------------------------------
LATER = ("chain.validators_hash", "chain.signatures", "chain.commit")


def check(bundle, sets, at_checkpoint, add):
    """`sets`: the validator sets the registry went through, the pinned one first (only that
    one when a registry change was refused); `at_checkpoint`: the registry's validators at the
    checkpoint, or None when a refused change leaves them unknown."""
    cb = bundle["cometbft"]
    cp = bundle["checkpoint"]["checkpoint"]
    try:
        check_shape(cb["signed_header"])
    except (ValueError, TypeError, KeyError) as e:
        add("chain.header", False, str(e))
        return  # nothing below can be computed from a malformed header
    add("chain.header", True, "CometBFT v0.38 signed header JSON")
    h, c, vals = cb["signed_header"]["header"], cb["signed_header"]["commit"], cb["validators"]

    add("chain.chain_id", h["chain_id"] == cp["chain_id"], f"header chain {h['chain_id']!r}")
    add("chain.height", int(h["height"]) == cp["height"] + 1,
        f"header height {h['height']}, checkpoint height {cp['height']}")
    app = sm3(b"TIEZHENG-APPHASH-V1" + cp["anchor_log_size"].to_bytes(8, "big")
              + hexb(cp["anchor_log_root"]) + hexb(cp["registry_root"]))
    add("chain.app_hash", h["app_hash"] == app.hex().upper(), f"expected {app.hex().upper()}")
    secs, nanos = go_time(h["time"])  # compared at nanosecond precision
    add("chain.time", secs * 10**9 + nanos > ts_ms(cp["time"]) * 10**6, f"header time {h['time']}")

    # chain.next_validators: updates of block H take effect at H+2, so header H+1 names the
    # registry's set at the checkpoint as its next validators. It needs only the header, not
    # cometbft.validators, so it is checked before the rules that do.
    if at_checkpoint is None:
        add("chain.next_validators", None,
            "not checked: a registry change was refused, the registry at the checkpoint is unknown")
    else:
        try:
            nh = registry_set_hash(at_checkpoint).hex().upper()
            add("chain.next_validators", h["next_validators_hash"] == nh,
                f"expected {nh}, the {len(at_checkpoint)} validators of the registry at the checkpoint")
        except (ValueError, TypeError, KeyError) as e:
            add("chain.next_validators", False, f"cannot check: {e}")

    # chain.validators: well-formed entries, exactly one of the registry's sets, derived
    # addresses, CometBFT order. The rules below need that set: not checked when it is not.
    try:
        check_validator_entries(vals)
    except (ValueError, TypeError, KeyError) as e:
        add("chain.validators", False, str(e))
        for r in LATER:
            add(r, None, "not checked: cometbft.validators is malformed")
        return
    # as sets of (address, key, power): a validator's member is the registry's, not CometBFT's
    candidates = [sorted((v["address"].upper(), v["pub_key"], v["power"]) for v in s) for s in sets]
    listed = [(v["address"], v["pub_key"]["value"], int(v["voting_power"])) for v in vals]
    problems = []
    if not any(candidates):
        problems.append("the policy pins no validators")
    if sorted(listed) not in candidates:
        problems.append("not the pinned validator set" if len(candidates) == 1 else
                        f"none of the {len(candidates)} validator sets the registry went through")
    for a, pk, _ in listed:
        if address_of(base64.b64decode(pk)) != a:
            problems.append(f"address {a} is not derived from its key")
    order = sorted(listed, key=lambda v: (-v[2], bytes.fromhex(v[0])))
    if listed != order:
        problems.append("not in CometBFT order")
    add("chain.validators", not problems, "; ".join(problems) or (
        f"{len(vals)} pinned validators" if len(candidates) == 1 else
        f"{len(vals)} validators: set {candidates.index(sorted(listed)) + 1} of the {len(candidates)}"
        " the registry went through"))
    if problems:
        for r in LATER:
            add(r, None, "not checked: the validator set is not one the registry has had")
        return

    vh = validators_hash(vals).hex().upper()
    add("chain.validators_hash", h["validators_hash"] == vh, f"computed {vh}")

    # chain.signatures: one entry per validator in set order, absent entries as CometBFT writes
    # them, every vote (for the block or for nil) verifies with the key of the validator it names.
    by_address = {v["address"]: v for v in vals}
    sigs, problems, signers = c["signatures"], [], set()
    if len(sigs) != len(vals):
        problems.append(f"{len(sigs)} commit entries for {len(vals)} validators")
    for i, s in enumerate(sigs):
        flag = s["block_id_flag"]
        if flag == 1:
            if s["validator_address"] or s["timestamp"] != ZERO_TIME or s["signature"] is not None:
                problems.append(f"absent entry {i} carries an address, time or signature")
            continue
        if flag not in (2, 3):
            problems.append(f"entry {i}: unknown block_id_flag {flag}")
            continue
        if i >= len(vals) or s["validator_address"] != vals[i]["address"]:
            problems.append(f"entry {i} is not by validator {i} of the set")
        v = by_address.get(s["validator_address"])
        if v is None:
            problems.append(f"entry {i} is by {s['validator_address']!r}, not a validator of the set")
            continue
        sig = base64.b64decode(s["signature"] or "")
        pk = base64.b64decode(v["pub_key"]["value"])
        if not ed25519.verify(pk, vote_sign_bytes(c, s, h["chain_id"]), sig):
            problems.append(f"entry {i}: ed25519 signature does not verify")
        elif flag == 2:
            signers.add(v["address"])
    add("chain.signatures", not problems, "; ".join(problems) or f"{len(sigs)} entries verified")

    # chain.commit: for this header, and the validators whose votes for the block verify (each
    # once, wherever its entry stands) hold more than two thirds of the power.
    bh = header_hash(h).hex().upper()
    total = sum(v[2] for v in listed)
    signed = sum(int(by_address[a]["voting_power"]) for a in signers)
    cproblems = []
    if c["height"] != h["height"]:
        cproblems.append("commit height is not the header's")
    if c["block_id"]["hash"] != bh:
        cproblems.append(f"commit block hash is not the header hash {bh}")
    if not signed * 3 > total * 2:
        cproblems.append(f"signed power {signed} of {total} is not above two thirds")
    add("chain.commit", not cproblems, "; ".join(cproblems) or f"power {signed}/{total} committed block {bh}")
