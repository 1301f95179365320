#!/usr/bin/env python3
"""Generates the root file system tree for the synthetic unpacking benchmark image.

usage: gen_image.py DIR [FILES]

Deterministic (fixed seed): FILES files (default 10,000) in 100 directories two levels deep, sizes
log-uniform from 64 bytes to 96 KiB; 40% text-like (a small vocabulary, compressible about 4:1), 60%
pseudo-random (incompressible), so that the squashfs of the tree is about 100 MB. A few symbolic
links and executable files make the tree look like a root file system.
"""
import os
import random
import sys

WORDS = (
    b"config interface option network wan lan dhcp static proto ipaddr netmask gateway dns "
    b"wireless device radio0 channel ssid encryption key firewall zone input output forward "
    b"accept reject drop masq option list server enabled disabled 0 1 true false root admin"
).split()


def text(rng, size):
    out = bytearray()
    while len(out) < size:
        line = b" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        out += line + b"\n"
    return bytes(out[:size])


def main():
    root = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rng = random.Random(20261124)
    os.makedirs(root, exist_ok=True)
    dirs = [os.path.join(root, f"d{a:02}", f"s{b}") for a in range(25) for b in range(4)]
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    for i in range(files):
        d = dirs[i % len(dirs)]
        size = int(64 * (96 * 1024 / 64) ** rng.random())
        if rng.random() < 0.4:
            body = text(rng, size)
            name = f"f{i:05}.conf"
        else:
            body = rng.randbytes(size)
            name = f"f{i:05}.bin"
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(body)
        if i % 50 == 0:
            os.chmod(path, 0o755)
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    for i in range(20):
        link = os.path.join(root, "bin", f"tool{i}")
        if not os.path.lexists(link):
            os.symlink(f"../d00/s0/f{i * 100:05}.bin", link)


if __name__ == "__main__":
    main()
