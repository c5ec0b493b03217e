"""Ed25519 signature verification with the ZIP-215 rule (pure Python, after RFC 8032's reference code).

CometBFT v0.38 validators verify votes with ZIP-215, so a verifier of its commits applies the
same rule (VERIFYING.md §4.11): S must be below L; A and R may be non-canonical encodings
(y from p to 2^255 - 1 is taken mod p, and x = 0 with the sign bit set is accepted); and the
equation is the cofactored one, [8]([S]B - R - [k]A) = 0, with k = SHA-512(R || A || M) over
the encodings as given. schemas/vectors/ed25519-speccheck.json holds the published edge cases.
"""
import hashlib

p = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
d = -121665 * pow(121666, -1, p) % p
SQRT_M1 = pow(2, (p - 1) // 4, p)


def _add(P, Q):  # extended coordinates (X, Y, Z, T)
    A = (P[1] - P[0]) * (Q[1] - Q[0]) % p
    B = (P[1] + P[0]) * (Q[1] + Q[0]) % p
    C = 2 * P[3] * Q[3] * d % p
    D = 2 * P[2] * Q[2] % p
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F % p, G * H % p, F * G % p, E * H % p)


def _mul(s, P):
    Q = (0, 1, 1, 0)
    while s:
        if s & 1:
            Q = _add(Q, P)
        P = _add(P, P)
        s >>= 1
    return Q


def _equal(P, Q):
    return (P[0] * Q[2] - Q[0] * P[2]) % p == 0 and (P[1] * Q[2] - Q[1] * P[2]) % p == 0


def _recover_x(y, sign):
    if y >= p:
        return None
    x2 = (y * y - 1) * pow(d * y * y + 1, -1, p) % p
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (p + 3) // 8, p)
    if (x * x - x2) % p:
        x = x * SQRT_M1 % p
    if (x * x - x2) % p:
        return None
    if x & 1 != sign:
        x = p - x
    return x


def _decompress(b):
    """A point from its 32-byte encoding, as ZIP-215 reads it (non-canonical y and -0 accepted)."""
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y = (y & ((1 << 255) - 1)) % p
    x2 = (y * y - 1) * pow(d * y * y + 1, -1, p) % p
    x = pow(x2, (p + 3) // 8, p)
    if (x * x - x2) % p:
        x = x * SQRT_M1 % p
    if (x * x - x2) % p:
        return None
    if x != 0 and x & 1 != sign:
        x = p - x
    return (x, y, 1, x * y % p)


def _neg(P):
    return ((-P[0]) % p, P[1], P[2], (-P[3]) % p)


_gy = 4 * pow(5, -1, p) % p
G = (_recover_x(_gy, 0), _gy, 1, _recover_x(_gy, 0) * _gy % p)


def verify(public: bytes, msg: bytes, sig: bytes) -> bool:
    if len(public) != 32 or len(sig) != 64:
        return False
    A = _decompress(public)
    R = _decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if A is None or R is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), "little") % L
    # Cofactored: [8]([S]B - R - [k]A) is the identity.
    D = _add(_mul(s, G), _neg(_add(R, _mul(k, A))))
    return _equal(_mul(8, D), (0, 1, 1, 0))
