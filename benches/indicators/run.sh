#!/bin/sh
# The indicator-pass benchmark (docs/benchmarks.md): probity vs yara vs grep -F on the same
# generated tree, warm page cache, same run; peak memory at several tree sizes.
#
# usage: benches/indicators/run.sh [WORKDIR]   (default: benches/work; needs ~2.4 GB of disk)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top="$here/../.."
work=${1:-"$top/benches/work"}
runs=${RUNS:-3}
mkdir -p "$work"
cd "$top"
cargo build --release --quiet
probity="$top/target/release/probity"
only_ind=$("$probity" rules list --format json | python3 -c 'import json,sys; print(" ".join(sorted({"--exclude-rule PRB-%s-*" % r["id"].split("-")[1] for r in json.load(sys.stdin) if not r["id"].startswith("PRB-IND-")})))')

# name:bytes:files. The first two have the same file count, so their memory differs only by bytes.
trees="tree-250m:268435456:5000 tree-1g-5k:1073741824:5000 tree-1g:1073741824:20000"
for spec in $trees; do
    IFS=: read -r name size count <<EOT
$spec
EOT
    [ -d "$work/$name" ] || python3 "$here/gen_tree.py" "$work/$name" "$size" "$count"
done

bytes_of() { find "$1" -type f -printf '%s\n' | awk '{s+=$1} END {print s}'; }

# median wall time (s) and max RSS (KiB) of a command over $runs runs
measure() {
    for i in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$work/time.$i" sh -c "$1" >/dev/null 2>"$work/stderr.$i" || true
    done
    cat "$work"/time.* | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) {print}'
    rm -f "$work"/time.* "$work"/stderr.*
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "probity $($probity --version | cut -d' ' -f2), $(yara --version | sed 's/^/yara /'), $(grep --version | head -1)"
for spec in $trees; do
    t=${spec%%:*}
    dir="$work/$t"
    total=$(bytes_of "$dir")
    files=$(find "$dir" -type f | wc -l)
    find "$dir" -type f -exec cat {} + >/dev/null   # warm the page cache
    echo
    echo "$t: $files files, $total bytes"
    printf '%-28s %10s %12s %12s\n' tool "wall s" "MB/s" "max RSS MiB"
    for tool in probity yara grep; do
        case $tool in
            # The indicator pass alone: the other analyzers (accounts, secrets, keys, services,
            # permissions; issue 5) are left out so that the figure stays comparable with yara's.
            probity) cmd="$probity scan '$dir' --format json -o /dev/null -q $only_ind" ;;
            yara) cmd="yara -r -p $(nproc) '$here/rules.yar' '$dir'" ;;
            grep) cmd="LC_ALL=C grep -F -r -a -o -b -f '$here/patterns.txt' '$dir'" ;;
        esac
        set -- $(measure "$cmd")
        mbps=$(awk -v b="$total" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }')
        rss=$(awk -v k="$2" 'BEGIN { printf "%.0f", k / 1024 }')
        printf '%-28s %10s %12s %12s\n' "$tool" "$1" "$mbps" "$rss"
    done
done
