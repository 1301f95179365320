#!/bin/bash
# The unpacking benchmark (docs/benchmarks.md): `probity unpack` vs binwalk v3 (`binwalk -Me`) vs
# unblob on the same inputs, in the same run: wall time and peak RSS (medians of RUNS runs, fresh
# output directory each time, warm page cache), and what each extracted (regular files, symbolic
# links) in its last run.
#
# Inputs: the TL-WR841N v10 image and the MT7628 root file system from ../shared/corpus (skipped
# when absent), and a synthetic ~100 MB flash image built here: a uImage (LZMA kernel stand-in)
# followed by a squashfs (xz) of 10,000 generated files (gen_image.py).
#
# Peers: binwalk v3 (`cargo install binwalk`) and unblob (`pip install unblob`), when installed.
# Both hand squashfs to `sasquatch`, which Debian does not package; they get a shim that runs
# `unsquashfs` (squashfs-tools 4.5) with sasquatch's extra flags removed.
#
# Outputs go to OUTDIR (default /dev/shm/probity-bench, a tmpfs, when /dev/shm exists): on ext4,
# creating thousands of files right after deleting the previous run's thousands makes the kernel
# search for inodes not recently freed, which adds seconds of noise that has nothing to do with
# the tools (see docs/benchmarks.md).
#
# usage: benches/unpack/run.sh [WORKDIR]   (default: benches/work; needs ~2 GB of disk)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top="$here/../.."
work=${1:-"$top/benches/work"}
runs=${RUNS:-5}
mkdir -p "$work"
work=$(cd "$work" && pwd)
if [ -z "${OUTDIR:-}" ]; then
    if [ -d /dev/shm ]; then OUTDIR=/dev/shm/probity-bench; else OUTDIR="$work/out"; fi
fi
mkdir -p "$OUTDIR"
trap 'rm -rf "$OUTDIR"' EXIT
cd "$top"
cargo build --release --quiet
probity="$top/target/release/probity"
corpus="$top/../shared/corpus"

# The synthetic image.
syn="$work/synthetic.bin"
if [ ! -f "$syn" ]; then
    rm -rf "$work/synroot"
    python3 "$here/gen_image.py" "$work/synroot" 10000
    python3 - "$work/kernel" <<'PY'
import random, sys
rng = random.Random(7)
words = b"irq timer sched mm vfs net ipv4 tcp udp eth0 wlan0 driver probe init module".split()
out = bytearray(b"Linux version 4.14.241 (builder@probity-bench) #1 SMP PREEMPT\n")
while len(out) < 3 << 20:
    out += b" ".join(rng.choice(words) for _ in range(8)) + b"\n"
    out += rng.randbytes(rng.randint(0, 64))
open(sys.argv[1], "wb").write(out[: 3 << 20])
PY
    xz --format=lzma -9 -c "$work/kernel" > "$work/kernel.lzma"
    mkimage -A mips -O linux -T kernel -C lzma -a 0x80000000 -e 0x80000000 -n "bench kernel" \
        -d "$work/kernel.lzma" "$work/uImage" >/dev/null
    mksquashfs "$work/synroot" "$work/rootfs.sqfs" -comp xz -noappend -all-root -quiet >/dev/null
    python3 - "$work/uImage" "$work/rootfs.sqfs" "$syn" <<'PY'
import sys
kernel, rootfs = (open(p, "rb").read() for p in sys.argv[1:3])
part = 0x200000
assert len(kernel) <= part
image = kernel + b"\xff" * (part - len(kernel)) + rootfs
image += b"\xff" * (-len(image) % 0x10000)
open(sys.argv[3], "wb").write(image)
PY
    rm -rf "$work/synroot" "$work/kernel" "$work/kernel.lzma" "$work/uImage" "$work/rootfs.sqfs"
fi

inputs=()
for f in "$corpus/firmware/tplink-tl-wr841n-v10-3.16.9.bin" "$corpus/firmware/tplink-mt7628/rootfs.squashfs"; do
    if [ -f "$f" ]; then inputs+=("$f"); else echo "skipping $f: not present"; fi
done
inputs+=("$syn")

shim="$work/shim"
mkdir -p "$shim"
cat > "$shim/sasquatch" <<'SH'
#!/bin/sh
# sasquatch is not packaged in Debian: give its callers unsquashfs, minus sasquatch-only flags.
noexit=0
for a in "$@"; do
    shift
    case $a in
        -le|-be) ;;
        -no-exit-code) noexit=1 ;;
        *) set -- "$@" "$a" ;;
    esac
done
unsquashfs "$@"
rc=$?
[ $noexit = 1 ] && exit 0
exit $rc
SH
chmod +x "$shim/sasquatch"
ln -sf sasquatch "$shim/sasquatch-v4be"
export PATH="$shim:$PATH"

tools=(probity)
command -v binwalk >/dev/null && tools+=(binwalk) || echo "binwalk not installed (cargo install binwalk)"
command -v unblob >/dev/null && tools+=(unblob) || echo "unblob not installed (pip install unblob)"

# runs a tool on an input into a fresh directory; prints "wall_s max_rss_kib"
once() {
    local tool=$1 input=$2 out=$3
    rm -rf "$out"
    case $tool in
        probity) cmd=("$probity" unpack "$input" -o "$out" -q) ;;
        binwalk) cmd=(binwalk -Me -C "$out" "$input") ;;
        unblob) cmd=(unblob --log "$work/unblob-log.txt" -e "$out" "$input") ;;
    esac
    /usr/bin/time -f '%e %M' -o "$work/time" "${cmd[@]}" >"$work/$tool.log" 2>&1 || true
    cat "$work/time"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "probity $($probity --version | cut -d' ' -f2)$(command -v binwalk >/dev/null && echo ", $(binwalk --version)")$(command -v unblob >/dev/null && echo ", unblob $(unblob --version 2>/dev/null | tail -1)"), $(unsquashfs -version 2>&1 | head -1)"
for input in "${inputs[@]}"; do
    cat "$input" >/dev/null
    echo
    echo "$(basename "$input"): $(stat -c %s "$input") bytes"
    printf '%-10s %8s %12s %8s %8s\n' tool "wall s" "max RSS MiB" files links
    for tool in "${tools[@]}"; do
        out="$OUTDIR/$tool"
        for i in $(seq "$runs"); do once "$tool" "$input" "$out"; done | sort -n \
            | awk -v n="$runs" 'NR == int((n + 1) / 2) {print}' > "$work/median"
        read -r wall rss < "$work/median"
        files=$(find "$out" -type f ! -path "$out/manifest.json" | wc -l)
        links=$(find "$out" -type l | wc -l)
        printf '%-10s %8s %12s %8s %8s\n' "$tool" "$wall" "$(awk -v k="$rss" 'BEGIN {printf "%.0f", k / 1024}')" "$files" "$links"
    done
done
