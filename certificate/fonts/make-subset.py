#!/usr/bin/env python3
"""Makes NotoSansCJKsc-Regular-GB2312.otf: the certificate's embedded font.

Source: Debian's fonts-noto-cjk, /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc,
face 2 (Noto Sans CJK SC), SIL Open Font License 1.1 (OFL.txt beside this script).
Kept: printable ASCII, Latin-1, general punctuation, arrows and maths signs used on the
certificate, CJK symbols and punctuation, full-width forms, and every character of GB 2312
(6763 hanzi and 682 symbols). Needs fonttools (`pip install fonttools`):

    python3 certificate/fonts/make-subset.py
"""
import subprocess, sys, pathlib

here = pathlib.Path(__file__).resolve().parent
src = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
chars = set()
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
ranges = [(0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x2030, 0x203B), (0x2190, 0x2193),
          (0x2212, 0x2212), (0x2264, 0x2265), (0x25A0, 0x25A1), (0x2713, 0x2717),
          (0x3000, 0x303F), (0xFF01, 0xFF5E), (0xFFFD, 0xFFFD)]
for a, b in ranges:
    chars.update(chr(c) for c in range(a, b + 1))
codes = ",".join(f"U+{ord(c):04X}" for c in sorted(chars))
out = here / "NotoSansCJKsc-Regular-GB2312.otf"
subprocess.run([
    "pyftsubset", src, "--font-number=2", f"--unicodes={codes}", f"--output-file={out}",
    "--layout-features=", "--no-hinting", "--name-IDs=*",
    "--name-languages=*", "--drop-tables+=VORG,vhea,vmtx,DSIG,BASE,JSTF,MATH,meta",
], check=True)
print(f"{out.name}: {out.stat().st_size} bytes, {len(chars)} characters requested", file=sys.stderr)
