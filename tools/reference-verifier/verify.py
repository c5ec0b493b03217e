#!/usr/bin/env python3
"""Independent reference verifier for Tiezheng evidence bundles, written from VERIFYING.md alone.

usage: verify.py BUNDLE.json [--policy POLICY.json] [--media FILE] [--json]
exit 0 valid, 1 a rule fails, 2 unusable input.
"""
import argparse, base64, json, re, sys

import schema
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
    has_cb = b.get("cometbft") is not None
    R.rule("bundle.mode", lambda: ((b["mode"], has_cb) in (("embedded", False), ("consortium", True)),
                                   f"mode {b.get('mode')!r}, cometbft layer {'present' if has_cb else 'absent'}"))
    # Later rules run even when bundle.schema failed ("every rule is checked when its inputs
    # exist"); a rule whose input is missing or mistyped fails with "cannot check".
    if pinned is None:
        if b.get("governance"):
            raise Unusable("a bundle with registry changes needs a pinned policy (--policy)")
        pinned = b.get("policy")
        if schema.check(pinned, "policy.schema.json") or policy_problems(pinned):
            raise Unusable("no --policy, and the bundle's own policy copy is not a policy")

    # §3 + 4.3 governance: build the registry at the checkpoint
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
                                           "governance.approvers", "governance.quorum", R)
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
            R.add(r, not v, "; ".join(v) or f"{len(gov)} registry changes")
        # A change refused under any governance rule leaves the registry at the checkpoint
        # unknown to the chain layer: it checks against the pinned validators alone.
        known = not any(probs.values())
    else:
        for r in ("type", "chain_id", "sequence", "approvers", "approvals", "quorum", "change"):
            R.add("governance." + r, None, "no registry changes")
        known = True

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

    # 4.4 proof
    proof, man = get(b, "proof"), get(b, "proof", "manifest")
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

    # 4.5 media
    if media is None:
        for r in ("media.item", "media.sha256", "media.bytes", "media.segments"):
            R.add(r, None, "no media file given")
    else:
        f_sm3 = sm3(media).hex()
        item = None
        for it in (man or {}).get("items") or []:
            if item is None and any(get(h, "algorithm") == "SM3" and get(h, "value") == f_sm3
                                    for h in get(it, "hashes") or []):
                item = it
        R.add("media.item", item is not None, f"file SM3 {f_sm3}")
        if item is None:
            for r in ("media.sha256", "media.bytes", "media.segments"):
                R.add(r, None, "no matching item")
        else:
            f_sha = sha256(media).hex()
            R.rule("media.sha256", lambda: (any(h["algorithm"] == "SHA-256" and h["value"] == f_sha for h in item["hashes"]),
                                            f"file SHA-256 {f_sha}"))
            R.rule("media.bytes", lambda: (len(media) == item["bytes"], f"file {len(media)} bytes, item {item['bytes']}"))
            if item.get("recording") is None:
                R.add("media.segments", None, "not a recording")
            else:
                def media_segments():
                    bad = [s["index"] for s in item["recording"]["segments"]
                           if sm3(media[s["offset"]:s["offset"] + s["bytes"]]).hex() != s["sm3"]]
                    return not bad, f"segments whose bytes differ: {bad}" if bad else "all segments match"
                R.rule("media.segments", media_segments)

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
    try:
        proof_sm3 = sm3_doc(proof)
    except Exception:  # noqa: BLE001
        proof_sm3 = None
    R.rule("receipt.proof_sm3", lambda: (rc["proof_sm3"] == proof_sm3, f"SM3(proof) = {proof_sm3}"))
    R.rule("receipt.manifest_sm3", lambda: (rc["manifest_sm3"] == sm3_doc(man), "SM3 of the manifest's RFC 8785 bytes"))

    # 4.7 leaf
    leaf, inc = get(b, "batch", "leaf"), get(b, "batch", "inclusion")
    R.rule("leaf.salt", lambda: re.fullmatch(r"[0-9a-f]{32}", leaf["salt"]) is not None)
    R.rule("leaf.proof_sm3", lambda: (leaf["proof_sm3"] == proof_sm3, "SM3 of the proof"))
    R.rule("leaf.inclusion", lambda: inc["algorithm"] == "SM3" and inc["tree_size"] == hdr["leaf_count"] and
           verify_inclusion(leaf_hash(jcs(leaf)), inc["leaf_index"], inc["tree_size"], inc["path"], bytes.fromhex(hdr["root"])))

    # 4.8 batch
    batch_pk = reg.active_notary(get(hdr, "notary_key_id"))
    R.rule("batch.type", lambda: hdr["type"] == "tiezheng.batch-header.v1")
    R.rule("batch.notary", lambda: (batch_pk is not None and hdr["notary_key_id"] == rc["notary_key_id"],
                                    "an active notary of the registry, and the receipt's notary"))

    def batch_sig():
        if batch_pk is None:
            return False, "batch notary is not an active notary of the registry"
        if b["batch"]["header"]["signature"]["public_key"] != batch_pk:
            return False, "signature block does not carry the notary's key"
        return sm2_verify_block(b["batch"]["header"]["signature"], jcs(hdr))
    R.rule("batch.signature", batch_sig)
    # reading: batch numbers start at 1 (schema: "from 1, without gaps"), so 0 fails here too
    R.rule("batch.sequence", lambda: hdr["batch_seq"] >= 1 and (hdr["previous_header_sm3"] is None) == (hdr["batch_seq"] == 1))
    R.rule("batch.window", lambda: ts_ms(hdr["window_start"]) <= ts_ms(hdr["window_end"]))

    # 4.9 anchor
    rec, ainc, cp = get(b, "anchor", "record"), get(b, "anchor", "inclusion"), get(b, "checkpoint", "checkpoint")
    R.rule("anchor.batch_header_sm3", lambda: (rec["batch_header_sm3"] == sm3_doc(hdr), "SM3 of the unsigned batch header"))
    for f in ("notary_key_id", "batch_seq", "root", "leaf_count"):
        R.rule("anchor." + f, lambda f=f: (rec[f] == hdr[f], f"record {rec[f]!r}, header {hdr[f]!r}"))
    R.rule("anchor.inclusion", lambda: ainc["algorithm"] == "SM3" and ainc["tree_size"] == cp["anchor_log_size"] and
           verify_inclusion(leaf_hash(jcs(rec)), ainc["leaf_index"], ainc["tree_size"], ainc["path"],
                            bytes.fromhex(cp["anchor_log_root"])))
    R.rule("anchor.height", lambda: rec["height"] <= cp["height"])
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
    return b


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
    code = None
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
        import certificate
        if certificate.is_certificate(raw):
            certificate.check(raw, pinned, media, R, check_bundle)
        else:
            check_bundle(raw, pinned, media, R)
    except Unusable as e:
        R.add("input", False, f"unusable input: {e}")
        code = 2
    except Exception as e:  # noqa: BLE001 - last resort: never a traceback
        R.add("bundle.schema", False, f"internal error on malformed input: {type(e).__name__}: {e}")
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
