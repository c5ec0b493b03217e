#!/usr/bin/env python3
"""Signature-preserving forgeries of the embedded example and the example certificate: every
example signature is made with the GB/T 32918 test key, whose private key is published in
schemas/vectors/sm2-sm3.json, so a forgery can be re-signed end to end and must then be refused
by the semantic rule named."""
import base64, copy, json, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import certificate, prims, verify  # noqa: E402
from prims import A, B, GX, GY, N, jcs, leaf_hash, sm3, sm3_doc  # noqa: E402

ROOT = os.path.join(HERE, "..", "..", "schemas")
V = json.load(open(os.path.join(ROOT, "vectors", "sm2-sm3.json")))["sm2_sign"]
D, PK = int(V["private_key"], 16), V["public_key_uncompressed"]
BASE = json.load(open(os.path.join(ROOT, "examples", "bundle.json")))
POLICY = json.load(open(os.path.join(ROOT, "examples", "policy.json")))
CERT = json.load(open(os.path.join(ROOT, "examples", "certificate.json")))  # its bundle is receipted under POLICY
PK2 = "04%064x%064x" % prims._ec_mul(12345, (GX, GY))
VK, VK2 = (base64.b64encode(bytes([i]) * 32).decode() for i in (1, 2))  # ed25519 keys (only their bytes matter)


def sign(msg):
    x, y = prims.sm2_point(PK)
    z = sm3(b"\x00\x80" + b"1234567812345678" + b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY, x, y)))
    e = int.from_bytes(sm3(z + msg), "big")
    while True:
        k = random.randrange(1, N)
        r = (e + prims._ec_mul(k, (GX, GY))[0]) % N
        s = pow(1 + D, -1, N) * (k - r * D) % N
        if r and r + k != N and s:
            break
    der = b"".join(b"\x02" + bytes([len(i)]) + i for i in (v.to_bytes(v.bit_length() // 8 + 1, "big") for v in (r, s)))
    return {"algorithm": "SM2-with-SM3", "oid": prims.SM2_OID, "sm2_id": "1234567812345678", "public_key": PK,
            "value": base64.b64encode(b"\x30" + bytes([len(der)]) + der).decode()}


def resign(b, registry=None):
    """Recompute every hash and signature downstream of the edited manifest / receipt / header."""
    man = b["proof"]["manifest"]
    b["proof"]["signature"] = sign(jcs(man))
    rc = b["receipt"]["receipt"]
    rc["proof_sm3"], rc["manifest_sm3"] = sm3_doc(b["proof"]), sm3_doc(man)
    b["receipt"]["signature"] = sign(jcs(rc))
    b["batch"]["leaf"]["proof_sm3"] = rc["proof_sm3"]
    h = b["batch"]["header"]["header"]
    h["root"] = leaf_hash(jcs(b["batch"]["leaf"])).hex()
    b["batch"]["header"]["signature"] = sign(jcs(h))
    rec = b["anchor"]["record"]
    rec["root"], rec["batch_header_sm3"] = h["root"], sm3_doc(h)
    cp = b["checkpoint"]["checkpoint"]
    cp["anchor_log_root"] = leaf_hash(jcs(rec)).hex()
    if registry is not None:
        cp["registry_root"] = registry.root()
    b["checkpoint"]["cosignatures"][0]["signature"] = sign(jcs(cp))
    return b


MEDIA = b"0123456789"


def recording(b, segs=((0, 4), (4, 6)), interrupted=False, truncated=False, kind="video", findings=()):
    it = b["proof"]["manifest"]["items"][0]
    it.update(kind=kind, bytes=sum(n for _, n in segs), fingerprint=None,
              findings=[{"code": c, "detail": "-"} for c in findings])
    it["hashes"][0]["value"], it["hashes"][1]["value"] = sm3(MEDIA).hex(), prims.sha256(MEDIA).hex()
    prev, out = bytes(32), []
    for i, (o, n) in enumerate(segs):
        s = sm3(MEDIA[o:o + n])
        prev = sm3(prev + i.to_bytes(8, "big") + o.to_bytes(8, "big") + n.to_bytes(8, "big") + s)
        out.append({"index": i, "offset": o, "bytes": n, "sm3": s.hex(), "chain": prev.hex()})
    it["recording"] = {"recording_id": "ab" * 16, "segment_max_bytes": 4, "segment_max_ms": 1000,
                       "segments": out, "interrupted": interrupted, "truncated": truncated}
    return b


def governed(changes, fix_policy=True, approvals=1):
    b, reg, txs = copy.deepcopy(BASE), verify.Registry(POLICY), []
    for seq, change in changes:
        p = {"type": "tiezheng.governance.v1", "chain_id": POLICY["chain_id"], "governance_seq": seq,
             "change": change, "reason": "test"}
        txs.append({"proposal": p, "approvals": [{"member": "court", "signature": sign(jcs(p))}] * approvals})
        if reg.change_problem(change) is None:
            reg.apply(change, seq)
    b["governance"] = txs
    if fix_policy:
        b["policy"]["members"] = reg.members
        b["policy"]["notary_keys"] = [n["public_key"] for n in reg.notaries.values() if n["active"]]
        if reg.validators:  # the embedded example pins none: left out while there are none
            b["policy"]["validators"] = reg.validators
    return resign(b, reg)


def edit(fn):
    b = copy.deepcopy(BASE)
    fn(b)
    return resign(b)


def summary(closed="2026-11-21T09:30:00.000+08:00", seqs=(1,)):
    def f(b):
        m = b["proof"]["manifest"]
        m["items"] = []
        m["session_summary"] = {"opened_at": "2026-11-21T09:00:00.000+08:00", "closed_at": closed,
                                "manifests": [{"device_seq": q, "manifest_sm3": "00" * 32, "files": []} for q in seqs]}
    return f


def first(b, gap=False, prev=None):
    b["proof"]["manifest"].update(device_seq=1, previous_manifest_sm3=prev)
    b["receipt"]["receipt"].update(device_seq=1, chain_gap=gap)


def setp(path, value):
    def f(b):
        o = b
        for p in path[:-1]:
            o = o[p]
        o[path[-1]] = value
    return f


CASES = [  # (description, bundle, media, expected failed rules: exactly these)
    ("re-signed, unchanged", resign(copy.deepcopy(BASE)), None, []),
    ("recording with its file", resign(recording(copy.deepcopy(BASE))), MEDIA, []),
    ("recording, another file", resign(recording(copy.deepcopy(BASE))), MEDIA[:9] + b"x", ["media.item"]),
    ("recording on a photo", resign(recording(copy.deepcopy(BASE), kind="photo")), None, ["proof.recording_flags"]),
    ("interrupted, no finding", resign(recording(copy.deepcopy(BASE), interrupted=True)), None, ["proof.recording_flags"]),
    ("interrupted with finding", resign(recording(copy.deepcopy(BASE), interrupted=True, findings=["recording_interrupted"])), None, []),
    ("truncated, not interrupted", resign(recording(copy.deepcopy(BASE), truncated=True, findings=["recording_truncated"])), None, ["proof.recording_flags"]),
    ("segment gap", resign(recording(copy.deepcopy(BASE), segs=((0, 4), (5, 5)))), None, ["proof.recording_segments"]),
    ("empty segment", resign(recording(copy.deepcopy(BASE), segs=((0, 4), (4, 0), (4, 6)))), None, ["proof.recording_segments"]),
    ("device_seq 1 with previous", edit(lambda b: first(b, prev="00" * 32)), None, ["proof.chain_link"]),
    ("device_seq 1 with chain gap", edit(lambda b: first(b, gap=True)), None, ["receipt.chain_gap"]),
    ("session summary", edit(summary()), None, []),
    ("summary lists its own seq", edit(summary(seqs=(1, 2))), None, ["proof.session_summary"]),
    ("summary closes before it opens", edit(summary(closed="2026-11-21T08:00:00.000+08:00")), None, ["proof.session_summary"]),
    ("receipt after the window", edit(setp(["receipt", "receipt", "received_at"], "2026-11-21T09:31:01.001+08:00")), None, ["receipt.time"]),
    ("window closes > 60 s after anchor", edit(setp(["batch", "header", "header", "window_end"], "2026-11-21T09:32:02.001+08:00")), None, ["anchor.time"]),
    ("window closes = anchor + 60 s", edit(setp(["batch", "header", "header", "window_end"], "2026-11-21T09:32:02.000+08:00")), None, []),
    ("record after the checkpoint", edit(setp(["anchor", "record", "time"], "2026-11-21T01:31:02.001Z")), None, ["anchor.time"]),
    ("batch_seq 2 without previous", edit(lambda b: (b["batch"]["header"]["header"].update(batch_seq=2), b["anchor"]["record"].update(batch_seq=2))), None, ["batch.sequence"]),
    ("latitude 91", edit(setp(["proof", "manifest", "items", 0, "location", "os_fix", "latitude"], "91.0")), None, ["proof.schema"]),
    ("device key ID", edit(setp(["proof", "manifest", "device", "key_id"], "00" * 32)), None, ["proof.key_id"]),
    ("add a notary", governed([(1, {"action": "add_notary", "public_key": PK2})]), None, []),
    ("add an active notary again", governed([(1, {"action": "add_notary", "public_key": PK})]), None, ["governance.change"]),
    ("remove the receipting notary", governed([(1, {"action": "remove_notary", "notary_key_id": prims.key_id(PK)})]), None,
     ["receipt.notary", "receipt.signature", "batch.notary", "batch.signature"]),
    ("remove an absent notary", governed([(1, {"action": "remove_notary", "notary_key_id": prims.key_id(PK2)})]), None, ["governance.change"]),
    ("remove the last member", governed([(1, {"action": "remove_member", "member": "court"})]), None, ["governance.change"]),
    ("bad member identifier", governed([(1, {"action": "set_member", "member": "Police", "public_key": PK2, "power": 1})]), None, ["governance.change"]),
    ("member key used twice", governed([(1, {"action": "set_member", "member": "police", "public_key": PK, "power": 1})]), None, ["governance.change"]),
    ("second member: no checkpoint quorum", governed([(1, {"action": "set_member", "member": "police", "public_key": PK2, "power": 1})]), None, ["checkpoint.quorum"]),
    ("change numbered 2", governed([(2, {"action": "add_notary", "public_key": PK2})]), None, ["governance.sequence"]),
    ("one member approves twice", governed([(1, {"action": "add_notary", "public_key": PK2})], approvals=2), None, ["governance.approvers"]),
    ("policy copy before the change", governed([(1, {"action": "add_notary", "public_key": PK2})], fix_policy=False), None, ["policy.copy"]),
    ("court runs a validator", governed([(1, {"action": "set_validator", "member": "court", "pub_key": VK})]), None, []),
    ("court's validator, key rotated", governed([(1, {"action": "set_validator", "member": "court", "pub_key": VK}),
                                                 (2, {"action": "set_validator", "member": "court", "pub_key": VK2})]), None, []),
    ("court's validator set twice", governed([(1, {"action": "set_validator", "member": "court", "pub_key": VK}),
                                              (2, {"action": "set_validator", "member": "court", "pub_key": VK})]), None, ["governance.change"]),
    ("a validator for a non-member", governed([(1, {"action": "set_validator", "member": "police", "pub_key": VK})]), None, ["governance.change"]),
    ("a 31-byte validator key", governed([(1, {"action": "set_validator", "member": "court", "pub_key": base64.b64encode(bytes(31)).decode()})]),
     None, ["governance.change"]),
    ("a validator key, not canonical", governed([(1, {"action": "set_validator", "member": "court", "pub_key": VK[:-2] + "R="})]),
     None, ["governance.change"]),
    ("remove the last validator", governed([(1, {"action": "set_validator", "member": "court", "pub_key": VK}),
                                            (2, {"action": "remove_validator", "pub_key": VK})]), None, ["governance.change"]),
    ("remove an absent validator", governed([(1, {"action": "remove_validator", "pub_key": VK})]), None, ["governance.change"]),
    ("policy copy without the validator", governed([(1, {"action": "set_validator", "member": "court", "pub_key": VK})], fix_policy=False),
     None, ["policy.copy"]),
]



def issuer(fn):
    """The example certificate with its issuer edited by `fn`, signed again (§5 certificate.signature)."""
    d = copy.deepcopy(CERT)
    fn(d["certificate"]["issuer"])
    d["signature"] = sign(jcs(d["certificate"]))
    return d


CERT_CASES = [  # (description, certificate, expected failed rules: exactly these)
    ("certificate re-signed, unchanged", issuer(lambda i: None), []),
    ("notary office without a filing number", issuer(lambda i: i.update(operator_type="notary_office", filing_number=None)), []),
    ("another real credit code", issuer(lambda i: i.update(credit_code="91330100716105852F")), []),
    ("credit code check character", issuer(lambda i: i.update(credit_code="91330100716105852G")), ["certificate.issuer_standing"]),
    ("credit code, two characters swapped", issuer(lambda i: i.update(credit_code="91330100716105825F")), ["certificate.issuer_standing"]),
    ("credit code of 17 characters", issuer(lambda i: i.update(credit_code="91330100716105852")),
     ["certificate.format", "certificate.issuer_standing"]),
    ("credit code with an I", issuer(lambda i: i.update(credit_code="9I330100716105852F")),
     ["certificate.format", "certificate.issuer_standing"]),
    ("credit code, region not digits", issuer(lambda i: i.update(credit_code="913301A0716105852F")),
     ["certificate.format", "certificate.issuer_standing"]),
    ("operator type court", issuer(lambda i: i.update(operator_type="court")), ["certificate.format", "certificate.issuer_standing"]),
    ("legal name only white space", issuer(lambda i: i.update(legal_name="\u3000 ")), ["certificate.issuer_standing"]),
    ("contact empty", issuer(lambda i: i.update(contact="")), ["certificate.format", "certificate.issuer_standing"]),
    ("name of 201 characters", issuer(lambda i: i.update(name="铁" * 201)), ["certificate.format", "certificate.issuer_standing"]),
    ("filing number of 100 characters", issuer(lambda i: i.update(filing_number="备" * 100)), []),
    ("filing number of 101 characters", issuer(lambda i: i.update(filing_number="备" * 101)), ["certificate.issuer_standing"]),
    ("filing number only white space", issuer(lambda i: i.update(filing_number="\t")), ["certificate.issuer_standing"]),
    ("filing number left out", issuer(lambda i: i.pop("filing_number")), ["certificate.format"]),
    ("issuer with an unknown member", issuer(lambda i: i.update(license="x")), ["certificate.format"]),
]

if __name__ == "__main__":
    bad = 0
    for what, b, media, expected in CASES:
        R = verify.Report()
        verify.check_bundle(json.dumps(b, ensure_ascii=False).encode(), POLICY, media, R)
        ok = R.failed == expected
        bad += not ok
        print(("ok   " if ok else "FAIL ") + f"{what:38} {R.failed}" + ("" if ok else f" (expected {expected})"))
    for what, d, expected in CERT_CASES:
        R = verify.Report()
        certificate.check(json.dumps(d, ensure_ascii=False).encode(), POLICY, None, R, verify.check_bundle)
        ok = R.failed == expected
        bad += not ok
        print(("ok   " if ok else "FAIL ") + f"{what:38} {R.failed}" + ("" if ok else f" (expected {expected})"))
    sys.exit(1 if bad else 0)
