#!/bin/sh
# Builds Probity's demo input from the committed sources in demo/src into target/demo/rootfs:
# a small router root file system with planted weaknesses (a User-Agent backdoor in the web server,
# a known fixed root password hash, a root shell on telnet at boot).
#
# The web server is cross-compiled for little-endian MIPS when mipsel-linux-gnu-gcc is installed
# (as on most routers), and built for the host otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../target/demo"}
rm -rf "$out/rootfs"
mkdir -p "$out"
cp -R "$here/src/rootfs" "$out/rootfs"
mkdir -p "$out/rootfs/usr/sbin" "$out/rootfs/bin" "$out/rootfs/proc" "$out/rootfs/sys" "$out/rootfs/tmp"
cc=gcc
if command -v mipsel-linux-gnu-gcc >/dev/null 2>&1; then
    cc=mipsel-linux-gnu-gcc
fi
"$cc" -O2 -o "$out/rootfs/usr/sbin/httpd" "$here/src/httpd.c"
ln -sf ../usr/sbin/httpd "$out/rootfs/bin/webs"
echo "demo: built $out/rootfs (web server compiled with $cc)"
