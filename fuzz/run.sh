#!/bin/bash
# Runs every fuzz target for SECONDS each, JOBS at a time, seeded with the unpacking fixtures
# (tests/fixtures/build.sh) and, when present, the samples of ../shared/corpus. Crashes land in
# fuzz/artifacts/TARGET/. Grown corpora stay in fuzz/corpus/ (not committed).
#
# usage: fuzz/run.sh [SECONDS] [JOBS] [TARGET...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-600}
jobs=${2:-2}
shift 2 2>/dev/null || shift $#
cd "$here"
"$here/../tests/fixtures/build.sh" >/dev/null
fx="$here/../target/fixtures"
corpus="$here/../../shared/corpus"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build >/dev/null 2>&1
seed() {
    # Seeds: our fixtures and the corpus samples whose name or folder mentions the format.
    local t=$1 d="$here/corpus/$1"
    mkdir -p "$d"
    local key=${t#format_}
    case $key in
        sevenz) key=7z ;; android_sparse) key=simg ;; linux_kernel) key=Image ;; iso9660) key=iso ;; ihex) key=hex ;;
        engine) key=. ;;
    esac
    for f in "$fx"/* "$fx"/hostile/* "$corpus"/formats/*/* "$corpus"/formats/*/*/*; do
        [ -f "$f" ] || continue
        case $(basename "$f") in *bomb*) continue ;; esac
        if [[ "$f" == *"$key"* ]] && [ "$(stat -c %s "$f")" -le 4194304 ]; then
            cp -n "$f" "$d/$(basename "$f")" 2>/dev/null || true
        fi
    done
    [ -d "$here/seeds/$t" ] && cp -n "$here/seeds/$t"/* "$d/" 2>/dev/null || true
}
run() {
    local t=$1
    seed "$t"
    local log="$here/artifacts/$t.log"
    mkdir -p "$here/artifacts"
    cargo +nightly fuzz run "$t" "$here/corpus/$t" -- -max_total_time="$secs" -max_len=1048576 \
        -rss_limit_mb=3072 -timeout=30 >"$log" 2>&1 || true
    echo "$t: $(grep -E '^Done|SUMMARY' "$log" | tail -1)"
}
export -f run seed
export here secs fx corpus
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run {}'
