"""Primitives of VERIFYING.md §1: strict JSON, RFC 8785, SM3, SM2, Merkle trees, timestamps."""
import base64, datetime, hashlib, json, re

from gmssl import func, sm3 as _sm3


class Unusable(Exception):
    """Input the verifier cannot work with at all (exit 2)."""


# ---- digests ---------------------------------------------------------------------------
def sm3(data: bytes) -> bytes:
    return bytes.fromhex(_sm3.sm3_hash(func.bytes_to_list(data)))


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_INT = 2**53 - 1


# ---- strict JSON (bundle.json) ----------------------------------------------------------
def strict_json(raw: bytes):
    """UTF-8, no duplicate names, no fractions/exponents/NaN, integers within ±(2^53−1)."""
    text = raw.decode("utf-8")  # UnicodeDecodeError -> caller

    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                raise ValueError(f"duplicate member name {k!r}")
            obj[k] = v
        return obj

    def no_float(s):
        raise ValueError(f"non-integer number {s}")

    def int_in_range(s):
        v = int(s)
        if abs(v) > MAX_INT:
            raise ValueError(f"integer {s} outside ±(2^53−1)")
        return v

    def no_const(s):
        raise ValueError(f"{s} is not JSON")

    value = json.loads(text, object_pairs_hook=pairs, parse_float=no_float,
                       parse_int=int_in_range, parse_constant=no_const)
    _no_surrogates(value)
    return value


def _no_surrogates(v):
    """A \\uD800-style escape of a lone surrogate is not Unicode text (and has no UTF-8 bytes)."""
    if isinstance(v, str):
        v.encode("utf-8")  # raises UnicodeEncodeError (a ValueError) on a lone surrogate
    elif isinstance(v, list):
        for x in v:
            _no_surrogates(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            _no_surrogates(k)
            _no_surrogates(x)


# ---- RFC 8785 canonical bytes -----------------------------------------------------------
def jcs(v) -> bytes:
    return _jcs(v).encode("utf-8")  # lone surrogates raise UnicodeEncodeError


def _jcs(v) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(_jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _jcs(v[k]) for k in keys) + "}"
    raise ValueError(f"cannot canonicalise {type(v).__name__}")


def sm3_doc(v) -> str:
    return sm3(jcs(v)).hex()


# ---- timestamps (§1): RFC 3339, 3 fraction digits, Z or ±HH:MM -> epoch ms ---------------
TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})(Z|[+-]\d{2}:\d{2})$")


def ts_ms(s) -> int:
    m = TS.match(s) if isinstance(s, str) else None
    if not m:
        raise ValueError(f"bad timestamp {s!r}")
    y, mo, d, h, mi, se, ms = (int(x) for x in m.groups()[:7])
    off = m.group(8)
    tz = datetime.timezone.utc
    if off != "Z":
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            raise ValueError(f"bad offset {off}")
        sign = 1 if off[0] == "+" else -1
        tz = datetime.timezone(sign * datetime.timedelta(hours=oh, minutes=om))
    dt = datetime.datetime(y, mo, d, h, mi, se, ms * 1000, tzinfo=tz)
    return int(dt.timestamp()) * 1000 + ms  # dt.timestamp() is exact at whole seconds


def is_ts(s) -> bool:
    try:
        ts_ms(s)
        return True
    except (ValueError, TypeError):
        return False


# ---- SM2 (GB/T 32918.2, §1) --------------------------------------------------------------
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
SM2_ID = b"1234567812345678"
SM2_OID = "1.2.156.10197.1.501"
PUBKEY = re.compile(r"^04[0-9a-f]{128}$")


def _ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def _ec_mul(k, pt):
    acc = None
    while k:
        if k & 1:
            acc = _ec_add(acc, pt)
        pt = _ec_add(pt, pt)
        k >>= 1
    return acc


def sm2_point(pub_hex):
    """The public key as an affine point, or None if not an uncompressed point on the curve."""
    if not isinstance(pub_hex, str) or not PUBKEY.match(pub_hex):
        return None
    x, y = int(pub_hex[2:66], 16), int(pub_hex[66:], 16)
    if x >= P or y >= P or (y * y - (x * x * x + A * x + B)) % P:
        return None
    return x, y


def key_id(pub_hex) -> str:
    """§1 key ID: SM3 of the 65 bytes 04‖X‖Y."""
    return sm3(bytes.fromhex(pub_hex)).hex()


def _der_int(buf, i):
    if i + 2 > len(buf) or buf[i] != 0x02:
        raise ValueError("expected INTEGER")
    ln = buf[i + 1]
    if ln == 0 or ln > 33 or i + 2 + ln > len(buf):
        raise ValueError("bad INTEGER length")
    body = buf[i + 2:i + 2 + ln]
    if body[0] & 0x80:
        raise ValueError("negative INTEGER")
    if ln > 1 and body[0] == 0 and not body[1] & 0x80:
        raise ValueError("non-minimal INTEGER")
    return int.from_bytes(body, "big"), i + 2 + ln


def parse_sig_value(b64):
    """Canonical padded standard base64 of strict DER SEQUENCE{r, s}; r, s in [1, n−1]."""
    if not isinstance(b64, str):
        raise ValueError("value is not a string")
    der = base64.b64decode(b64, validate=True)
    if base64.b64encode(der).decode() != b64:
        raise ValueError("non-canonical base64")
    if len(der) < 2 or der[0] != 0x30 or der[1] >= 0x80 or der[1] != len(der) - 2:
        raise ValueError("bad DER SEQUENCE")
    r, i = _der_int(der, 2)
    s, i = _der_int(der, i)
    if i != len(der):
        raise ValueError("trailing DER bytes")
    if not (1 <= r < N and 1 <= s < N):
        raise ValueError("r or s outside [1, n−1]")
    return r, s


def sm2_verify_block(block, message: bytes):
    """Check a §1 signature block over `message`; returns (ok, detail)."""
    if not isinstance(block, dict):
        return False, "signature block is not an object"
    if block.get("algorithm") != "SM2-with-SM3" or block.get("oid") != SM2_OID \
            or block.get("sm2_id") != SM2_ID.decode():
        return False, "algorithm, OID or SM2 ID is not SM2-with-SM3 / 1.2.156.10197.1.501 / 1234567812345678"
    pt = sm2_point(block.get("public_key"))
    if pt is None:
        return False, "public key is not an uncompressed point on the SM2 curve"
    try:
        r, s = parse_sig_value(block.get("value"))
    except (ValueError, TypeError) as e:
        return False, f"signature value: {e}"
    entl = (len(SM2_ID) * 8).to_bytes(2, "big")
    z = sm3(entl + SM2_ID + b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY, pt[0], pt[1])))
    e = int.from_bytes(sm3(z + message), "big")
    t = (r + s) % N
    if t == 0:
        return False, "t = 0"
    xy = _ec_add(_ec_mul(s, (GX, GY)), _ec_mul(t, pt))
    if xy is None or (e + xy[0]) % N != r:
        return False, "SM2 signature does not verify"
    return True, "SM2 signature verifies"


# ---- Merkle trees (RFC 6962 / 9162 §2.1) ---------------------------------------------------
def leaf_hash(data: bytes, h=sm3) -> bytes:
    return h(b"\x00" + data)


def node_hash(left: bytes, right: bytes, h=sm3) -> bytes:
    return h(b"\x01" + left + right)


def merkle_root(leaves, h=sha256) -> bytes:
    """RFC 6962 root over raw leaf data (split at the largest power of two < n)."""
    n = len(leaves)
    if n == 0:
        return h(b"")
    if n == 1:
        return leaf_hash(leaves[0], h)
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(merkle_root(leaves[:k], h), merkle_root(leaves[k:], h), h)


def verify_inclusion(leaf: bytes, index, size, path, root: bytes) -> bool:
    """RFC 9162 §2.1.3.2 with SM3; `leaf` is the leaf hash."""
    if not (isinstance(index, int) and isinstance(size, int)) or not 0 <= index < size:
        return False
    if not isinstance(path, list) or len(path) > 64:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if not isinstance(p, str) or not HEX64.match(p) or sn == 0:
            return False
        p = bytes.fromhex(p)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
