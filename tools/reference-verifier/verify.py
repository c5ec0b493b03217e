#!/usr/bin/env python3
"""Independent reference verifier for Tiezheng evidence bundles, written from VERIFYING.md alone.

usage: verify.py BUNDLE.json|CERTIFICATE.json|PUBLIC-DIGEST.json [--policy POLICY.json] [--media FILE] [--json]
       verify.py OPINION.json --policy POLICY.json [--json]     (an appraisal opinion package, §6)
exit 0 valid, 1 a rule fails, 2 unusable input.
"""
import argparse, base64, json, re, sys

import officer, profile, record, schema
from chain import address_of
from prims import (HEX64, Unusable, is_ts, jcs, key_id, leaf_hash, sm2_point, sm2_verify_block,
                   sm3, sm3_doc, sha256, strict_json, ts_ms, verify_inclusion)

MEMBER_ID = re.compile(r"^[a-z0-9-]{1,64}$")
OID = {"SM3": "1.2.156.10197.1.401", "SHA-256": "2.16.840.1.101.3.4.2.1"}


class Report:
    def __init__(self):
        self.checks = []

    def add(self, rule, ok, detail=""):
        status = "skip" if ok is None else ("pass" if ok else "fail")
        self.checks.append({"rule": rule, "status": status, "detail": detail})

    def rule(self, name, fn):
        """Run one rule; a malformed input that makes it throw is a failure of that rule."""
        try:
            res = fn()
        except Exception as e:  # noqa: BLE001 - a malformed bundle must never crash us
            res = (False, f"cannot check: {type(e).__name__}: {e}")
        ok, detail = res if isinstance(res, tuple) else (res, "")
        self.add(name, ok, detail)
        return ok

    @property
    def failed(self):
        out = []
        for c in self.checks:
            if c["status"] == "fail" and c["rule"] not in out:
                out.append(c["rule"])
        return out


# ---- §3 the registry ---------------------------------------------------------------------
class Registry:
    def __init__(self, policy):
        self.chain_id = policy["chain_id"]
        self.members = [dict(id=m["id"], public_key=m["public_key"], power=m["power"]) for m in policy["members"]]
        self.notaries = {key_id(k): {"public_key": k, "active": True} for k in policy["notary_keys"]}
        # CometBFT validators in policy order; `member` absent is the same as null (no member)
        self.validators = [validator(v["address"], v["pub_key"], v["power"], v.get("member"))
                           for v in policy.get("validators") or []]
        # every validator set the registry went through, the pinned one first (§3): the
        # CometBFT layer may have been committed by any of them
        self.validator_sets = [self.validators]
        self.seq = 0

    def member(self, mid):
        return next((m for m in self.members if m["id"] == mid), None)

    def total(self):
        return sum(m["power"] for m in self.members)

    def active_notary(self, kid):
        n = self.notaries.get(kid) if isinstance(kid, str) else None
        return n["public_key"] if n and n["active"] else None

    def change_problem(self, c):
        """governance.change: why change `c` is invalid against this registry, or None."""
        a = c.get("action")
        if a == "set_member":
            if not MEMBER_ID.match(c["member"]):
                return f"bad member identifier {c['member']!r}"
            if not 1 <= c["power"] <= 1_000_000:
                return f"power {c['power']} outside 1–1000000"
            if sm2_point(c["public_key"]) is None:
                return "member key is not an SM2 point"
            if any(m["public_key"] == c["public_key"] and m["id"] != c["member"] for m in self.members):
                return "key already used by another member"
        elif a == "remove_member":
            if self.member(c["member"]) is None:
                return f"no member {c['member']!r}"
            if len(self.members) == 1:
                return "would remove the last member"
        elif a == "add_notary":
            if sm2_point(c["public_key"]) is None:
                return "notary key is not an SM2 point"
            if self.active_notary(key_id(c["public_key"])):
                return "notary already active"
        elif a == "remove_notary":
            if not self.active_notary(c["notary_key_id"]):
                return "notary not present"
        elif a not in ("set_validator", "remove_validator"):
            return f"unknown action {a!r}"
        return self.validators_after(c)[1]

    def validators_after(self, c):
        """(the validators after change `c`, why `c` leaves no valid set or None); every
        change is checked here, since set/remove_member move the member's validator too."""
        a, vals = c["action"], [dict(v) for v in self.validators]
        if a == "set_member":  # the member's validator follows its power
            for v in vals:
                if v["member"] == c["member"]:
                    v["power"] = c["power"]
        elif a == "remove_member":
            vals = [v for v in vals if v["member"] != c["member"]]
        elif a == "set_validator":
            vals, why = self.with_validator(vals, c["member"], c["pub_key"])
            if why:
                return None, why
        elif a == "remove_validator":
            if not any(v["pub_key"] == c["pub_key"] for v in vals):
                return None, "validator not present"
            vals = [v for v in vals if v["pub_key"] != c["pub_key"]]
        if self.validators and not vals:
            return None, "would leave the chain without a validator"
        return vals, None

    def with_validator(self, vals, mid, pub_key):
        """set_validator: `pub_key` becomes member `mid`'s one validator, with its power."""
        m = self.member(mid)
        if m is None:
            return None, f"no member {mid!r} to run the validator"
        if not ed25519_key(pub_key):
            return None, "validator key is not canonical base64 of a 32-byte ed25519 key"
        same = next((v for v in vals if v["pub_key"] == pub_key), None)
        if same is not None and same["member"] == mid:
            return None, "already the member's validator"
        if same is not None and same["member"] is not None:
            return None, f"the validator of member {same['member']!r}"
        new = validator(address_of(base64.b64decode(pub_key)), pub_key, m["power"], mid)
        vals = [v for v in vals if v["member"] != mid]  # key rotation: the old one goes
        at = next((i for i, v in enumerate(vals) if v["pub_key"] == pub_key), None)
        if at is None:
            vals.append(new)
        else:  # an unlabelled (genesis) validator with this key becomes the member's, in place
            vals[at] = new
        return vals, None

    def apply(self, c, seq):
        a = c["action"]
        vals = self.validators_after(c)[0]
        if vals != self.validators:  # a change that leaves the set as it was adds no set
            self.validators = vals
            self.validator_sets.append(vals)
        if a == "set_member":
            m = self.member(c["member"])
            if m:
                m.update(public_key=c["public_key"], power=c["power"])
            else:
                self.members.append(dict(id=c["member"], public_key=c["public_key"], power=c["power"]))
        elif a == "remove_member":
            self.members = [m for m in self.members if m["id"] != c["member"]]
        elif a == "add_notary":
            self.notaries[key_id(c["public_key"])] = {"public_key": c["public_key"], "active": True}
        elif a == "remove_notary":
            self.notaries[c["notary_key_id"]]["active"] = False
        self.seq = seq

    def root(self):
        lines = [f"member {m['id']} {m['public_key']} {m['power']}\n" for m in self.members]
        lines += [f"notary {k}\n" for k in sorted(k for k, n in self.notaries.items() if n["active"])]
        if self.seq > 0:
            lines.append(f"governance {self.seq}\n")
        return sm3("".join(lines).encode("utf-8")).hex()


def validator(address, pub_key, power, member):
    """A registry validator as a policy writes it (`member` None: no member runs it)."""
    return dict(address=address, pub_key=pub_key, power=power, member=member)


def ed25519_key(b64):
    """Canonical base64 of 32 bytes: decoding and re-encoding gives the same text."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, TypeError):
        return False
    return len(raw) == 32 and base64.b64encode(raw).decode() == b64


def policy_problems(pol):
    """What makes a (schema-valid) policy unusable beyond its schema: a validator's `member`
    must be a listed member, with that member's power, and a member runs at most one (§2)."""
    power = {m["id"]: m["power"] for m in pol["members"]}
    probs, runs = [], set()
    for i, v in enumerate(pol.get("validators") or []):
        mid = v.get("member")
        if mid is None:
            continue
        if mid not in power:
            probs.append(f"validators[{i}].member {mid!r} is not a member")
        elif v["power"] != power[mid]:
            probs.append(f"validators[{i}] has power {v['power']}, its member {mid!r} {power[mid]}")
        if mid in runs:
            probs.append(f"member {mid!r} runs more than one validator")
        runs.add(mid)
    return probs


def signed_by_members(entries, registry, message, who, sig_rule, set_rule, quorum_rule, R):
    """Shared by governance approvals and checkpoint cosignatures: every entry a distinct member,
    every signature valid with that member's registry key, quorum power × 3 > total × 2."""
    seen, bad_set, bad_sig, power = set(), [], [], 0
    for e in entries:
        m = registry.member(e["member"])
        if m is None or e["member"] in seen:
            bad_set.append(f"{e['member']!r} is {'not a member' if m is None else 'repeated'}")
            seen.add(e["member"])
            continue
        seen.add(e["member"])
        ok, why = sm2_verify_block(e["signature"], message)
        if ok and e["signature"]["public_key"] != m["public_key"]:
            ok, why = False, "block key is not the member's registry key"
        if ok:
            power += m["power"]
        else:
            bad_sig.append(f"{e['member']}: {why}")
    total = registry.total()
    return ({set_rule: bad_set, sig_rule: bad_sig,
             quorum_rule: [] if power * 3 > total * 2 else [f"{who} power {power} of {total} is not above two thirds"]},
            f"power {power} of {total}")


# ---- §4 the layers -------------------------------------------------------------------------
def get(obj, *path):
    """obj[path...] or None when the (malformed) bundle lacks it; rules reading None then fail."""
    try:
        for p in path:
            obj = obj[p]
        return obj
    except (KeyError, IndexError, TypeError):
        return None


def wgs84_problems(man):
    """proof.schema limits the JSON Schema cannot state: WGS-84 ranges, file names without directories."""
    probs = []
    for i, it in enumerate(man["items"]):
        for where, pt in (("os_fix", get(it, "location", "os_fix")), ("gps", get(it, "metadata", "gps"))):
            if pt is not None:
                if not -90 <= float(pt["latitude"]) <= 90 or not -180 <= float(pt["longitude"]) <= 180:
                    probs.append(f"item {i} {where}: outside WGS-84 latitude/longitude ranges")
        if "/" in it["file_name"] or "\\" in it["file_name"] or it["file_name"] in ("", ".", ".."):
            probs.append(f"item {i}: file name has directories")
    return probs


def check_bundle(raw, pinned, media, R):
    # 4.1 bundle
    try:
        b = strict_json(raw)
    except UnicodeError as e:
        R.add("bundle.json", False, f"not UTF-8 text: {e}")
        return
    except json.JSONDecodeError as e:
        R.add("bundle.json", False, f"not JSON: {e}")
        raise Unusable("input is not JSON")
    except (ValueError, RecursionError) as e:
        R.add("bundle.json", False, str(e))
        return
    R.add("bundle.json", True, "strict JSON")
    errs = schema.check(b, "bundle.schema.json")
    R.add("bundle.schema", not errs, "; ".join(errs[:8]) or "matches schemas/bundle.schema.json")
    if not isinstance(b, dict):
        return
    R.rule("bundle.type", lambda: (b["type"] == "tiezheng.bundle.v1", f"type {b.get('type')!r}"))
    # Later rules run even when bundle.schema failed ("every rule is checked when its inputs
    # exist"); a rule whose input is missing or mistyped fails with "cannot check".
    check_layers(b, pinned, media, R)
    return b


PROOF_RULES = ("proof.type", "proof.schema", "proof.signature", "proof.key_id", "proof.chain_link", "proof.content",
               "proof.item_hashes", "proof.recording_segments", "proof.recording_chain", "proof.recording_flags",
               "proof.session_summary", "proof.session_record")
NO_PROOF = "a public digest carries no proof (VERIFYING.md §5.1)"


def check_layers(b, pinned, media, R, digest_rules=None):
    """The rules of §4 from `bundle.mode` on, on a bundle or on a public digest's layers.

    A public digest (§5.1) passes `digest_rules`, a function of the registry at the checkpoint
    that checks the digest's own rules first. Its layers carry no proof: every rule that needs
    the proof is skipped, `digest.proof_sm3` stands for the proof's SM3 and `digest.items` for
    the manifest's items (`media.*`)."""
    public = digest_rules is not None
    if pinned is None:
        if b.get("governance"):
            raise Unusable(f"a {'digest' if public else 'bundle'} with registry changes needs a pinned policy (--policy)")
        pinned = b.get("policy")
        if schema.check(pinned, "policy.schema.json") or policy_problems(pinned):
            raise Unusable(f"no --policy, and the {'digest' if public else 'bundle'}'s own policy copy is not a policy")
    reg, known, gov_checks = registry_at_checkpoint(b, pinned)
    if public:
        digest_rules(reg)
        R.add("bundle.json", True, "strict JSON (digest.format)")
        for r in ("bundle.schema", "bundle.type"):
            R.add(r, None, "a public digest: digest.format instead")
    has_cb = b.get("cometbft") is not None
    R.rule("bundle.mode", lambda: ((b["mode"], has_cb) in (("embedded", False), ("consortium", True)),
                                   f"mode {b.get('mode')!r}, cometbft layer {'present' if has_cb else 'absent'}"))
    for c in gov_checks:
        R.add(*c)

    # 4.2 policy.copy
    def policy_copy():
        pol, probs = b["policy"], []
        if pol["chain_id"] != reg.chain_id:
            probs.append("chain ID differs")
        if [(m["id"], m["public_key"], m["power"]) for m in pol["members"]] != \
                [(m["id"], m["public_key"], m["power"]) for m in reg.members]:
            probs.append("members differ from the registry (ids, keys, power, order)")
        active = {n["public_key"] for n in reg.notaries.values() if n["active"]}
        if len(set(pol["notary_keys"])) != len(pol["notary_keys"]) or set(pol["notary_keys"]) != active:
            probs.append("notary keys are not the registry's active notaries")
        # as a set, each with its member (absent = none); addresses are hex in either case
        vset = lambda vals: sorted((v["address"].upper(), v["pub_key"], v["power"], v.get("member") is None,
                                    v.get("member") or "") for v in vals)
        if vset(pol.get("validators") or []) != vset(reg.validators):
            probs.append("validators (address, key, power, member) differ from the registry's")
        return not probs, "; ".join(probs) or "equals the registry at the checkpoint"
    R.rule("policy.copy", policy_copy)

    # 4.4 proof, 4.4.1 profile, 4.4.2 officer, 4.5 media
    if public:
        for r in PROOF_RULES + profile.RULES + officer.RULES:
            R.add(r, None, NO_PROOF)
        man = dev_pk = None
        check_media(media, get(b, "items"), R, segments=False)
        proof_sm3 = b.get("proof_sm3")
    else:
        proof, man = get(b, "proof"), get(b, "proof", "manifest")
        dev_pk = get(proof, "signature", "public_key")
        check_proof(proof, R)
        profile.check(man, get(b, "receipt", "receipt"), R, get(proof, "officer_signatures"))
        officer.check(proof, b.get("officers"), get(b, "receipt", "receipt"), R)
        check_media(media, get(man, "items"), R)
        try:
            proof_sm3 = sm3_doc(proof)
        except Exception:  # noqa: BLE001
            proof_sm3 = None

    # 4.6 receipt
    rc, hdr = get(b, "receipt", "receipt"), get(b, "batch", "header", "header")
    notary_pk = reg.active_notary(get(rc, "notary_key_id"))
    R.rule("receipt.type", lambda: (rc["type"] == "tiezheng.receipt.v1", f"type {rc['type']!r}"))
    R.rule("receipt.notary", lambda: (notary_pk is not None, "an active notary of the registry"))

    def receipt_sig():
        if notary_pk is None:
            return False, "receipt notary is not an active notary of the registry: no key to verify with"
        if b["receipt"]["signature"]["public_key"] != notary_pk:
            return False, "signature block does not carry the notary's key"
        return sm2_verify_block(b["receipt"]["signature"], jcs(rc))
    R.rule("receipt.signature", receipt_sig)
    if public:
        for r in ("receipt.device_key_id", "receipt.device_seq"):
            R.add(r, None, NO_PROOF)
    else:
        R.rule("receipt.device_key_id", lambda: rc["device_key_id"] == key_id(dev_pk))
        R.rule("receipt.device_seq", lambda: (rc["device_seq"] == man["device_seq"],
                                              f"receipt {rc['device_seq']}, manifest {man['device_seq']}"))
    R.rule("receipt.chain_gap", lambda: not (rc["device_seq"] == 1 and rc["chain_gap"] is not False))
    def window_ok():
        try:
            return ts_ms(hdr["window_start"]) <= ts_ms(hdr["window_end"])
        except Exception:  # noqa: BLE001
            return False
    if window_ok():
        R.rule("receipt.time", lambda: ts_ms(hdr["window_start"]) <= ts_ms(rc["received_at"]) <= ts_ms(hdr["window_end"]))
    else:
        R.add("receipt.time", None, "not applicable: the batch window is malformed (batch.window)")
    of = "digest.proof_sm3" if public else "SM3(proof)"
    R.rule("receipt.proof_sm3", lambda: (rc["proof_sm3"] == proof_sm3, f"{of} = {proof_sm3}"))
    if public:
        R.add("receipt.manifest_sm3", None, NO_PROOF)
    else:
        R.rule("receipt.manifest_sm3", lambda: (rc["manifest_sm3"] == sm3_doc(man), "SM3 of the manifest's RFC 8785 bytes"))

    # 4.7 leaf
    leaf, inc = get(b, "batch", "leaf"), get(b, "batch", "inclusion")
    R.rule("leaf.salt", lambda: re.fullmatch(r"[0-9a-f]{32}", leaf["salt"]) is not None)
    R.rule("leaf.proof_sm3", lambda: (leaf["proof_sm3"] == proof_sm3, of))
    R.rule("leaf.inclusion", lambda: inc["algorithm"] == "SM3" and inc["tree_size"] == hdr["leaf_count"] and
           verify_inclusion(leaf_hash(jcs(leaf)), inc["leaf_index"], inc["tree_size"], inc["path"], bytes.fromhex(hdr["root"])))

    # 4.8 batch
    batch_pk = reg.active_notary(get(hdr, "notary_key_id"))
    R.rule("batch.type", lambda: hdr["type"] == "tiezheng.batch-header.v1")
    R.rule("batch.notary", lambda: (batch_pk is not None and hdr["notary_key_id"] == rc["notary_key_id"],
                                    "an active notary of the registry, and the receipt's notary"))

    R.rule("batch.signature", lambda: header_signature(b["batch"]["header"], batch_pk))
    # reading: batch numbers start at 1 (schema: "from 1, without gaps"), so 0 fails here too
    R.rule("batch.sequence", lambda: hdr["batch_seq"] >= 1 and (hdr["previous_header_sm3"] is None) == (hdr["batch_seq"] == 1))
    R.rule("batch.window", lambda: ts_ms(hdr["window_start"]) <= ts_ms(hdr["window_end"]))

    # 4.9 anchor
    rec, ainc, cp = get(b, "anchor", "record"), get(b, "anchor", "inclusion"), get(b, "checkpoint", "checkpoint")
    for f in RECORD_FIELDS:
        R.rule("anchor." + f, lambda f=f: record_field(rec, hdr, f))
    R.rule("anchor.inclusion", lambda: record_included(rec, ainc, cp))
    R.rule("anchor.height", lambda: record_height(rec, cp))
    R.rule("anchor.time", lambda: ts_ms(hdr["window_end"]) <= ts_ms(rec["time"]) + 60_000
           and ts_ms(rec["time"]) <= ts_ms(cp["time"]))

    # 4.10 checkpoint
    R.rule("checkpoint.type", lambda: cp["type"] == "tiezheng.checkpoint.v1")
    R.rule("checkpoint.chain_id", lambda: (cp["chain_id"] == pinned["chain_id"], f"chain {cp['chain_id']!r}"))
    R.rule("checkpoint.registry_root", lambda: (cp["registry_root"] == reg.root(), f"registry root {reg.root()}"))
    try:
        res, detail = signed_by_members(b["checkpoint"]["cosignatures"], reg, jcs(cp), "cosigning",
                                        "checkpoint.cosignatures", "checkpoint.cosigners", "checkpoint.quorum", R)
    except Exception as e:  # noqa: BLE001
        res, detail = {r: [f"cannot check: {type(e).__name__}: {e}"] for r in
                       ("checkpoint.cosigners", "checkpoint.cosignatures", "checkpoint.quorum")}, ""
    for r in ("checkpoint.cosigners", "checkpoint.cosignatures", "checkpoint.quorum"):
        R.add(r, not res[r], "; ".join(res[r]) or detail)

    # 4.11 chain
    if has_cb:
        import chain
        try:
            sets = reg.validator_sets if known else reg.validator_sets[:1]
            chain.check(b, sets, reg.validators if known else None, R.add)
        except Exception as e:  # noqa: BLE001
            R.add("chain.header", False, f"cannot check: {type(e).__name__}: {e}")
    else:
        R.add("chain.header", None, "embedded mode: no CometBFT layer")

    # 4.12 custody
    check_custody(b, proof_sm3, rc, cp, reg, R)


# ---- shared by §4.8/§4.9 and §4.12 (a batch header, its anchor record, the record in the log) ----
def header_signature(signed, pk):
    """batch.signature: the signed batch header `signed` verifies with notary key `pk` (None: the
    notary is not an active notary of the registry), and its block carries that key."""
    if pk is None:
        return False, "batch notary is not an active notary of the registry"
    if signed["signature"]["public_key"] != pk:
        return False, "signature block does not carry the notary's key"
    return sm2_verify_block(signed["signature"], jcs(signed["header"]))


RECORD_FIELDS = ("batch_header_sm3", "notary_key_id", "batch_seq", "root", "leaf_count")


def record_field(rec, hdr, f):
    """anchor.<f>: the anchor record's `f` is the unsigned batch header's (for `batch_header_sm3`,
    the SM3 of its RFC 8785 bytes)."""
    if f == "batch_header_sm3":
        return rec[f] == sm3_doc(hdr), "SM3 of the unsigned batch header"
    return rec[f] == hdr[f], f"record {rec[f]!r}, header {hdr[f]!r}"


def record_included(rec, inc, cp):
    """anchor.inclusion: `inc` is SM3, for the checkpoint's anchor log, and leads from the record's
    leaf hash to the checkpoint's `anchor_log_root`."""
    return inc["algorithm"] == "SM3" and inc["tree_size"] == cp["anchor_log_size"] and \
        verify_inclusion(leaf_hash(jcs(rec)), inc["leaf_index"], inc["tree_size"], inc["path"],
                         bytes.fromhex(cp["anchor_log_root"]))


def record_height(rec, cp):
    """anchor.height: the record is at most at the checkpoint's height."""
    return rec["height"] <= cp["height"]


# ---- §4.12 custody -----------------------------------------------------------------------
CUSTODY_KINDS = ("received", "media_stored", "anchored", "certified", "viewed", "exported", "appraisal_step")
CUSTODY_RULES = ("custody.events", "custody.chain", "custody.inclusion", "custody.anchor")
ZERO = "0" * 64


def event_hash(e):
    """SM3 of the RFC 8785 bytes of the event without `hash` (a legacy event has no `item_prev`)."""
    return sm3_doc({k: v for k, v in e.items() if k != "hash"})


def check_custody(b, proof_sm3, rc, cp, reg, R):
    """§4.12: the proof's custody events, in the notary's custody log, committed by a batch header
    that the anchor log at the checkpoint holds."""
    cu = b.get("custody")
    if cu is None:
        for r in CUSTODY_RULES:
            R.add(r, None, "the bundle carries no custody events")
        return
    events, incs = get(cu, "events"), get(cu, "inclusions")
    signed = get(cu, "anchor", "header")
    hdr = get(signed, "header")
    com = get(hdr, "custody")

    def events_rule():
        if not isinstance(events, list) or not events:
            return False, "no events"
        bad = []
        for i, e in enumerate(events):
            if e["hash"] != event_hash(e):
                bad.append(f"event {i} (seq {e['seq']}): hash is not the SM3 of its RFC 8785 bytes without hash")
            if e["proof_sm3"] != proof_sm3:
                bad.append(f"event {i} (seq {e['seq']}): another proof's")
            if e["event"] not in CUSTODY_KINDS:
                bad.append(f"event {i} (seq {e['seq']}): unknown kind {e['event']!r}")
        if events[0]["event"] != "received":
            bad.append(f"the first event is {events[0]['event']!r}, not received")
        return not bad, "; ".join(bad) or f"{len(events)} events of the proof"
    R.rule("custody.events", events_rule)

    def chain_rule():
        bad, prev, last_seq = [], ZERO, None
        for i, e in enumerate(events):
            if "item_prev" not in e:
                bad.append(f"event {i} (seq {e['seq']}) has no item_prev")
            elif e["item_prev"] != prev:
                bad.append(f"event {i} (seq {e['seq']}): item_prev is not "
                           + ("64 zeros" if i == 0 else f"the hash of event {i - 1}"))
            if not isinstance(e["seq"], int) or isinstance(e["seq"], bool) or \
                    last_seq is not None and e["seq"] <= last_seq:
                bad.append(f"event {i}: seq {e['seq']} does not increase")
            prev, last_seq = e["hash"], e["seq"]
        return not bad, "; ".join(bad) or "each event links to the one before it"
    R.rule("custody.chain", chain_rule)

    def inclusion_rule():
        if len(incs) != len(events):
            return False, f"{len(incs)} inclusion proofs for {len(events)} events"
        if not isinstance(com, dict):
            return False, "the anchoring header carries no custody commitment"
        root, bad = bytes.fromhex(com["root"]), []
        for i, (e, inc) in enumerate(zip(events, incs)):
            if not (inc["algorithm"] == "SM3" and inc["leaf_index"] == e["seq"] - 1 and inc["tree_size"] == com["size"]
                    and verify_inclusion(leaf_hash(bytes.fromhex(e["hash"])), inc["leaf_index"], inc["tree_size"],
                                         inc["path"], root)):
                bad.append(f"event {i} (seq {e['seq']})")
        return not bad, ("not included in the committed log: " + ", ".join(bad)) if bad else \
            f"{len(events)} events in the log's first {com['size']}"
    R.rule("custody.inclusion", inclusion_rule)

    def anchor_rule():
        rec, inc = cu["anchor"]["record"], cu["anchor"]["inclusion"]
        bad = []
        if hdr["type"] != "tiezheng.batch-header.v1":
            bad.append(f"header type {hdr['type']!r}")
        if not isinstance(com, dict):
            bad.append("the header carries no custody commitment")
        if hdr["notary_key_id"] != rc["notary_key_id"]:
            bad.append("the header is not by the notary that signed the receipt")
        ok, why = header_signature(signed, reg.active_notary(hdr["notary_key_id"]))
        if not ok:
            bad.append(why)
        bad += [f"record {f}: {record_field(rec, hdr, f)[1]}" for f in RECORD_FIELDS if not record_field(rec, hdr, f)[0]]
        if not record_included(rec, inc, cp):
            bad.append("the record is not in the anchor log at the checkpoint")
        if not record_height(rec, cp):
            bad.append(f"record height {rec['height']} above the checkpoint's {cp['height']}")
        return not bad, "; ".join(bad) or f"batch {hdr['batch_seq']} commits the log's first {com['size']} events, " \
                                          f"anchored at height {rec['height']}"
    R.rule("custody.anchor", anchor_rule)


def registry_at_checkpoint(b, pinned):
    """§3 + §4.3: the registry at the checkpoint, built from the pinned policy and the registry
    changes `b` carries: (registry, whether every change holds, the governance.* checks as
    (rule, ok, detail))."""
    checks = []
    reg = Registry(pinned)
    gov = b.get("governance") or []
    if gov:
        probs = {r: [] for r in ("governance.type", "governance.chain_id", "governance.sequence",
                                 "governance.approvers", "governance.approvals", "governance.quorum",
                                 "governance.change")}
        for i, tx in enumerate(gov if isinstance(gov, list) else [gov]):
            try:
                p = tx["proposal"]
                if p["type"] != "tiezheng.governance.v1":
                    probs["governance.type"].append(f"#{i + 1}: type {p['type']!r}")
                if p["chain_id"] != pinned["chain_id"]:
                    probs["governance.chain_id"].append(f"#{i + 1}: chain {p['chain_id']!r}")
                if p["governance_seq"] != i + 1:
                    probs["governance.sequence"].append(f"#{i + 1}: governance_seq {p['governance_seq']}")
                res, _ = signed_by_members(tx["approvals"], reg, jcs(p), "approving", "governance.approvals",
                                           "governance.approvers", "governance.quorum", None)
                for k, v in res.items():
                    probs[k] += [f"#{i + 1}: {x}" for x in v]
                why = reg.change_problem(p["change"])
            except Exception as e:  # noqa: BLE001
                why = f"malformed registry change: {type(e).__name__}: {e}"
            if why:
                probs["governance.change"].append(f"#{i + 1}: {why}")
            else:
                reg.apply(p["change"], p["governance_seq"])
        for r, v in probs.items():
            checks.append((r, not v, "; ".join(v) or f"{len(gov)} registry changes"))
        # A change refused under any governance rule leaves the registry at the checkpoint
        # unknown to the chain layer: it checks against the pinned validators alone.
        known = not any(probs.values())
    else:
        for r in ("type", "chain_id", "sequence", "approvers", "approvals", "quorum", "change"):
            checks.append(("governance." + r, None, "no registry changes"))
        known = True
    return reg, known, checks


def check_proof(proof, R):
    """§4.4: the device's signed manifest."""
    man = get(proof, "manifest")
    dev_pk = get(proof, "signature", "public_key")
    R.rule("proof.type", lambda: (man["type"] == "tiezheng.manifest.v1", f"type {man['type']!r}"))

    def proof_schema():
        merrs = schema.check(man, "manifest.schema.json")
        merrs = merrs or wgs84_problems(man)
        return not merrs, "; ".join(merrs[:8]) or "within schemas/manifest.schema.json"
    R.rule("proof.schema", proof_schema)
    R.rule("proof.signature", lambda: sm2_verify_block(proof["signature"], jcs(man)))
    R.rule("proof.key_id", lambda: (man["device"]["key_id"] == key_id(dev_pk), "device.key_id vs SM3(public key)"))
    R.rule("proof.chain_link", lambda: ((man["previous_manifest_sm3"] is None) == (man["device_seq"] == 1),
                                        f"device_seq {man['device_seq']}"))
    summary = get(man, "session_summary")
    R.rule("proof.content", lambda: (bool(man["items"]) != (summary is not None),
                                     f"{len(man['items'])} items, summary {'present' if summary else 'absent'}"))

    def item_hashes():
        bad = [i for i, it in enumerate(man["items"])
               if sorted((h["algorithm"], h["oid"]) for h in it["hashes"]) != sorted(OID.items())]
        return not bad, f"items without exactly one SM3 and one SHA-256 digest: {bad}" if bad else "ok"
    R.rule("proof.item_hashes", item_hashes)

    try:
        recs = [(i, it, it["recording"]) for i, it in enumerate(man["items"]) if it.get("recording") is not None]
    except Exception:  # noqa: BLE001
        recs = []

    def segments():
        bad = []
        for i, it, rec in recs:
            off = 0
            for k, s in enumerate(rec["segments"]):
                if s["index"] != k or s["offset"] != off or s["bytes"] <= 0:
                    bad.append(f"item {i} segment {k}")
                off += s["bytes"]
            if off != it["bytes"]:
                bad.append(f"item {i}: segments cover {off} of {it['bytes']} bytes")
        return not bad, "; ".join(bad) or f"{len(recs)} recordings"

    def rec_chain():
        bad = []
        for i, _, rec in recs:
            prev = bytes(32)
            for s in rec["segments"]:
                prev = sm3(prev + b"".join(s[k].to_bytes(8, "big") for k in ("index", "offset", "bytes"))
                           + bytes.fromhex(s["sm3"]))
                if s["chain"] != prev.hex():
                    bad.append(f"item {i} segment {s['index']}")
        return not bad, "; ".join(bad) or f"{len(recs)} recordings"

    def rec_flags():
        bad = []
        for i, it in enumerate(man["items"]):
            rec = it["recording"]
            codes = {f["code"] for f in it["findings"]}
            interrupted = bool(rec and rec["interrupted"])
            truncated = bool(rec and rec["truncated"])
            if truncated and not interrupted:
                bad.append(f"item {i}: truncated but not interrupted")
            if rec is not None and it["kind"] not in ("video", "audio"):
                bad.append(f"item {i}: a recording on a {it['kind']} item")
            # reading: recording_truncated ⇔ truncated; (either code) ⇔ interrupted
            if ("recording_truncated" in codes) != truncated or \
                    bool(codes & {"recording_truncated", "recording_interrupted"}) != interrupted:
                bad.append(f"item {i}: interruption findings disagree with the flags")
        return not bad, "; ".join(bad) or "ok"

    for name, fn in (("proof.recording_segments", segments), ("proof.recording_chain", rec_chain)):
        if recs:
            R.rule(name, fn)
        else:
            R.add(name, None, "no recordings")
    R.rule("proof.recording_flags", rec_flags)

    def session():
        s = summary
        seqs = [e["device_seq"] for e in s["manifests"]]
        ok = ts_ms(s["opened_at"]) <= ts_ms(s["closed_at"]) and all(x < y for x, y in zip(seqs, seqs[1:])) \
            and all(q < man["device_seq"] for q in seqs)
        return ok, f"{len(seqs)} manifests listed"
    if summary is not None:
        R.rule("proof.session_summary", session)
    else:
        R.add("proof.session_summary", None, "not a session summary")
    if get(summary, "record") is not None:  # the collection record and its inventory (record.py)
        R.rule("proof.session_record", lambda: record.session_record(summary))
    else:
        R.add("proof.session_record", None, "no collection record")


def check_media(media, items, R, segments=True):
    """§4.5: the file the court holds, matched by SM3 to one of `items` (the manifest's; a public
    digest's items state no recording segments, so it passes `segments=False`)."""
    if media is None:
        for r in ("media.item", "media.sha256", "media.bytes", "media.segments"):
            R.add(r, None, "no media file given")
        return
    f_sm3 = sm3(media).hex()
    item = None
    for it in items if isinstance(items, list) else []:
        if item is None and any(get(h, "algorithm") == "SM3" and get(h, "value") == f_sm3
                                for h in get(it, "hashes") or []):
            item = it
    R.add("media.item", item is not None, f"file SM3 {f_sm3}")
    if item is None:
        for r in ("media.sha256", "media.bytes") + (("media.segments",) if segments else ()):
            R.add(r, None, "no matching item")
    else:
        f_sha = sha256(media).hex()
        R.rule("media.sha256", lambda: (any(h["algorithm"] == "SHA-256" and h["value"] == f_sha for h in item["hashes"]),
                                        f"file SHA-256 {f_sha}"))
        R.rule("media.bytes", lambda: (len(media) == item["bytes"], f"file {len(media)} bytes, item {item['bytes']}"))
        if segments and item.get("recording") is None:
            R.add("media.segments", None, "not a recording")
        elif segments:
            def media_segments():
                bad = [s["index"] for s in item["recording"]["segments"]
                       if sm3(media[s["offset"]:s["offset"] + s["bytes"]]).hex() != s["sm3"]]
                return not bad, f"segments whose bytes differ: {bad}" if bad else "all segments match"
            R.rule("media.segments", media_segments)
    if not segments:
        R.add("media.segments", None, "a public digest states no recording segments (VERIFYING.md §5.1)")


def load_policy(path):
    try:
        with open(path, "rb") as f:
            pol = strict_json(f.read())
    except (OSError, ValueError) as e:
        raise Unusable(f"policy: {e}")
    errs = schema.check(pol, "policy.schema.json") or policy_problems(pol)
    if errs:
        raise Unusable("policy is not a policy: " + "; ".join(errs[:5]))
    return pol


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("--policy")
    ap.add_argument("--media")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    R = Report()
    code, last_resort = None, "bundle.schema"
    try:
        pinned = load_policy(a.policy) if a.policy else None
        try:
            with open(a.input, "rb") as f:
                raw = f.read()
            media = None
            if a.media:
                with open(a.media, "rb") as f:
                    media = f.read()
        except OSError as e:
            raise Unusable(str(e))
        if raw.startswith(b"%PDF"):
            raise Unusable("certificate PDFs are not supported by this verifier")
        import appraisal, certificate, digest
        if appraisal.is_opinion(raw):
            last_resort = "appraisal.schema"
            appraisal.check(raw, pinned, R, check_bundle)
        elif certificate.is_certificate(raw):
            certificate.check(raw, pinned, media, R, check_bundle)
        elif digest.is_digest(raw):
            last_resort = "digest.format"
            digest.check(raw, pinned, media, R, check_layers)
        else:
            check_bundle(raw, pinned, media, R)
    except Unusable as e:
        R.add("input", False, f"unusable input: {e}")
        code = 2
    except Exception as e:  # noqa: BLE001 - last resort: never a traceback
        R.add(last_resort, False, f"internal error on malformed input: {type(e).__name__}: {e}")
    failed = [r for r in R.failed if r != "input"]
    valid = code is None and not failed
    if code is None:
        code = 0 if valid else 1
    if a.json:
        print(json.dumps({"valid": valid, "failed": failed, "checks": R.checks}, ensure_ascii=False))
    else:
        for c in R.checks:
            print(f"{c['status']:4}  {c['rule']:28} {c['detail']}")
        print("VALID" if valid else ("UNUSABLE INPUT" if code == 2 else "INVALID: " + ", ".join(failed)))
    return code


if __name__ == "__main__":
    sys.exit(main())
