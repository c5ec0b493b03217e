"""§5.1 public digests (公开摘要): the digest's own rules (`digest.*`); its ledger layers are the
bundle's and are checked by the bundle verifier's `check_layers`, with no proof."""
import json

import schema
from certificate import number_of, standing
from prims import jcs, key_id, sm2_verify_block, strict_json


def is_digest(raw):
    try:
        d = json.loads(raw)
    except Exception:  # noqa: BLE001
        return False
    return isinstance(d, dict) and "digest" in d and "certificate" not in d


def check(raw, pinned, media, R, check_layers):
    try:
        doc = strict_json(raw)
    except ValueError as e:
        R.add("digest.format", False, f"not strict JSON: {e}")
        return
    errs = schema.check(doc, "public-digest.schema.json")
    R.add("digest.format", not errs, "; ".join(errs[:8]) or "matches schemas/public-digest.schema.json")
    d, sig = doc.get("digest"), doc.get("signature")
    if not isinstance(d, dict):
        return

    def rules(reg):
        """The digest's rules, against the registry at the checkpoint (§3)."""
        def signature():
            pk = reg.active_notary(d["receipt"]["receipt"]["notary_key_id"])
            if pk is None:
                return False, "the receipt's notary is not an active notary of the registry: no key to verify with"
            if sig["public_key"] != pk:
                return False, "signature block does not carry the key of the receipt's notary"
            return sm2_verify_block(sig, jcs(d))
        R.rule("digest.signature", signature)

        def issuer():
            iss = d["issuer"]
            ok, detail = standing(iss)
            kid = d["receipt"]["receipt"]["notary_key_id"]
            if iss["key_id"] != kid or iss["key_id"] != key_id(iss["public_key"]):
                return False, "issuer key is not the receipt's notary's key, or key_id not its SM3" + ("" if ok else "; " + detail)
            return ok, detail
        R.rule("digest.issuer", issuer)

        def number():
            want = number_of(d["checkpoint"]["checkpoint"]["chain_id"], d["proof_sm3"], d["anchor"]["record"])
            return d["number"] == want, f"stated {d['number']}, derived {want}"
        R.rule("digest.number", number)

    check_layers(d, pinned, media, R, digest_rules=rules)
