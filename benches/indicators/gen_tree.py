#!/usr/bin/env python3
"""Generates the indicator-pass benchmark tree: N files totalling about SIZE bytes, deterministic.

usage: gen_tree.py OUT_DIR TOTAL_BYTES FILE_COUNT

Files are spread over nested directories like a root file system. About 40% are text-like (config
and script lines), the rest binary (pseudo-random bytes, like compressed or compiled data). A few
files carry planted indicators so that every tool has matches to report.
"""
import os
import random
import sys

WORDS = ("option interface lan wan proto static dhcp ipaddr netmask gateway dns hostname "
         "enable disable telnetd httpd dropbear uci config firewall zone forward accept reject "
         "drop input output wireless radio channel htmode ssid encryption psk2 key mode ap").split()
PLANTED = [b"xmlset_roodkcableoj28840ybtide", b"w302r_mfg", b"PrOw!aN_fXp", b"MPSJKMDHAI"]


def main():
    out, total, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(20261124)
    # Log-uniform sizes, rescaled so they add up to the requested total.
    raw = [2 ** rng.uniform(9, 19) for _ in range(count)]
    scale = total / sum(raw)
    sizes = [max(1, int(s * scale)) for s in raw]
    text_line = " ".join(WORDS).encode() + b"\n"
    written = 0
    for i, size in enumerate(sizes):
        d = os.path.join(out, f"d{i % 50:02d}", f"s{(i // 50) % 20:02d}")
        os.makedirs(d, exist_ok=True)
        if rng.random() < 0.4:
            reps = size // len(text_line) + 1
            data = bytearray((text_line * reps)[:size])
        else:
            data = bytearray(rng.randbytes(size))
        if i % 997 == 0 and size > 64:
            p = PLANTED[(i // 997) % len(PLANTED)]
            at = rng.randrange(0, size - len(p))
            data[at:at + len(p)] = p
        with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as fh:
            fh.write(data)
        written += size
    print(f"{count} files, {written} bytes in {out}")


if __name__ == "__main__":
    main()
