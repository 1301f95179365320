#!/bin/sh
# Builds Probity's demo input from the committed sources in demo/src: a small router flash image,
# target/demo/firmware.bin, laid out like real ones:
#
#   0x000000  U-Boot legacy image (uImage) holding a gzip-compressed kernel stand-in
#   0x010000  squashfs 4.0 (xz) root file system with planted weaknesses
#   ...       erased flash (0xFF) up to a 64 KiB boundary
#
# The planted weaknesses: a web server with a User-Agent backdoor (modelled on CVE-2013-6026,
# cross-compiled for MIPS when mipsel-linux-gnu-gcc is installed), a shadow file with a publicly
# known fixed root hash, a boot script that starts a root shell on telnet, and a setuid helper.
# The unpacked tree is also left in target/demo/rootfs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../target/demo"}
rm -rf "$out/rootfs" "$out/firmware.bin"
mkdir -p "$out"
cp -R "$here/src/rootfs" "$out/rootfs"
root="$out/rootfs"
mkdir -p "$root/usr/sbin" "$root/bin" "$root/proc" "$root/sys" "$root/tmp" "$root/dev"
cc=gcc
if command -v mipsel-linux-gnu-gcc >/dev/null 2>&1; then
    cc=mipsel-linux-gnu-gcc
fi
"$cc" -O2 -o "$root/usr/sbin/httpd" "$here/src/httpd.c"
cp "$root/usr/sbin/httpd" "$root/usr/sbin/diagd"
chmod 4755 "$root/usr/sbin/diagd"
ln -sf ../usr/sbin/httpd "$root/bin/webs"
chmod 0755 "$root/etc/init.d/rcS"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The kernel stand-in: the version banner a Linux image carries, and filler.
{
    printf 'Linux version 4.14.241 (builder@probity-demo) (gcc version 12.2.0 (Debian 12.2.0-14)) #1 SMP PREEMPT\n'
    seq 1 4000
} | gzip -9 -n > "$work/kernel.gz"
mkimage -A mips -O linux -T kernel -C gzip -a 0x80000000 -e 0x80000000 -n "DEMO-1000 kernel" \
    -d "$work/kernel.gz" "$work/uImage" >/dev/null
mksquashfs "$root" "$work/rootfs.sqfs" -comp xz -noappend -all-root -quiet \
    -p 'dev/console c 600 0 0 5 1' >/dev/null
python3 - "$work/uImage" "$work/rootfs.sqfs" "$out/firmware.bin" <<'PY'
import sys
kernel, rootfs, out = (open(p, "rb").read() if i < 2 else p for i, p in enumerate(sys.argv[1:]))
assert len(kernel) <= 0x10000, "the kernel stand-in must fit in 64 KiB"
image = kernel + b"\xff" * (0x10000 - len(kernel)) + rootfs
image += b"\xff" * (-len(image) % 0x10000)
open(out, "wb").write(image)
PY
echo "demo: built $out/firmware.bin ($(wc -c < "$out/firmware.bin") bytes; web server compiled with $cc)"
