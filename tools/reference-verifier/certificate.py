"""§5 certificates (placeholder until implemented)."""
import json


def is_certificate(raw):
    try:
        d = json.loads(raw)
    except Exception:  # noqa: BLE001
        return False
    return isinstance(d, dict) and "certificate" in d and "signature" in d and "type" not in d


def check(raw, pinned, media, R, check_bundle):
    R.add("certificate.format", None, "certificates not implemented")
