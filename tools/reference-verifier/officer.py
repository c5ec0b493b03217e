"""§4.4.2 `officer`: the collectors' own signatures over the manifest (the proof's
`officer_signatures`) and the notary's credentials of their keys (the bundle's `officers`)."""
from prims import jcs, key_id, sm2_verify_block, ts_ms

RULES = ("officer.signature", "officer.credential")
CREDENTIAL_TYPE = "tiezheng.officer-certificate.v1"


def entries(v):
    """A list member that may be left out: absent (and, for this layer, `null` or `[]`, which fail
    `bundle.schema`) is no entry at all."""
    return [] if v is None else v


def check(proof, officers, rc, R):
    """The rules of the `officer` layer for `proof` (with its `officer_signatures`), the bundle's
    `officers` and the signed receipt's `rc`."""
    sigs = entries(proof.get("officer_signatures") if isinstance(proof, dict) else None)
    creds = entries(officers)
    if not sigs and not creds:
        for r in RULES:
            R.add(r, None, "no officer signed and the bundle carries no credential")
        return
    verified = []  # (entry, the SM3 of its key) of every entry that meets every condition

    def signature_rule():
        man = proof["manifest"]
        msg, collectors, device = jcs(man), man["case"]["collectors"], proof["signature"]["public_key"]
        bad, ids, keys = [], set(), set()
        for i, e in enumerate(sigs):
            # Officers and keys are compared with the entries accepted before this one.
            oid, block = e["officer_id"], e["signature"]
            problems = []
            if oid not in collectors:
                problems.append(f"entry {i}: {oid!r} is not one of case.collectors")
            if oid in ids:
                problems.append(f"entry {i}: officer {oid!r} signs twice")
            if block["public_key"] in keys:
                problems.append(f"entry {i} ({oid!r}): a key that already signed")
            if block["public_key"] == device:
                problems.append(f"entry {i} ({oid!r}): signed with the device's key")
            ok, why = sm2_verify_block(block, msg)
            if not ok:
                problems.append(f"entry {i} ({oid!r}): {why}")
            if problems:
                bad += problems
                continue
            verified.append((e, key_id(block["public_key"])))
            ids.add(oid)
            keys.add(block["public_key"])
        return not bad, "; ".join(bad) or f"{len(sigs)} officers signed the manifest"
    R.rule("officer.signature", signature_rule)

    def credential_rule():
        bad = []
        for e, kid in verified:
            mine = [c for c in creds if c["certificate"]["key_id"] == kid]
            if len(mine) != 1:
                bad.append(f"{len(mine)} credentials of the key {e['officer_id']!r} signed with, not one")
                continue
            bad += [f"the credential of {e['officer_id']!r}: {p}" for p in credential_problems(mine[0], e, rc)]
        carried = {key_id(e["signature"]["public_key"]) for e in sigs}
        bad += [f"credential {i} ({c['certificate']['key_id']}): of a key no officer signed with"
                for i, c in enumerate(creds) if c["certificate"]["key_id"] not in carried]
        return not bad, "; ".join(bad) or f"{len(verified)} signers' credentials, bound by the receipting notary"
    R.rule("officer.credential", credential_rule)


def credential_problems(cred, entry, rc):
    """What keeps the credential `cred` from binding the key of officer signature `entry`, under
    the notary that signed the receipt `rc`."""
    c, block, bad = cred["certificate"], cred["signature"], []
    key = entry["signature"]["public_key"]
    if c["type"] != CREDENTIAL_TYPE:
        bad.append(f"type {c['type']!r}")
    if c["public_key"] != key or c["key_id"] != key_id(key):
        bad.append("binds another key")
    if c["officer"]["officer_id"] != entry["officer_id"]:
        bad.append(f"binds the key to officer {c['officer']['officer_id']!r}")
    if c["notary_key_id"] != rc["notary_key_id"]:
        bad.append("issued by another notary than the receipt's")
    if ts_ms(c["issued_at"]) > ts_ms(rc["received_at"]):
        bad.append(f"issued at {c['issued_at']}, after the receipt ({rc['received_at']})")
    # the receipting notary is the key whose SM3 is the receipt's notary_key_id; whether the
    # registry trusts it is receipt.notary's to say
    if key_id(block["public_key"]) != rc["notary_key_id"]:
        bad.append("not signed by the receipting notary")
    else:
        ok, why = sm2_verify_block(block, jcs(c))
        if not ok:
            bad.append(f"the notary's signature does not verify: {why}")
    return bad
