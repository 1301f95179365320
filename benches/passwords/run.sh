#!/bin/bash
# Password recovery speed: Probity against John the Ripper (Debian package `john`) on the same
# hashes and the same word list, in the same run.
#
# For each scheme (md5crypt, sha512crypt, descrypt) it generates HASHES hashes with fixed salts
# (Perl's crypt(), i.e. the C library's), writes them as a shadow file in a small root file system
# for `probity scan --wordlist` and as `user:hash` lines for john, and a word list of WORDS
# deterministic words. Two hashes of each scheme have a password near the end of the list; the
# others have passwords in no list, so both tools go through the whole list for them. Each tool
# gets a fresh state (john: an empty pot file and a new session). Figures are crypts per second: hashes
# times candidates tried, over wall-clock time.
#
# usage: benches/passwords/run.sh [PROBITY]
#   PROBITY  the binary (default: $CARGO_TARGET_DIR or target, /release/probity)
#   env: HASHES (default 50), WORDS (default 20000), SHA512_HASHES (default 4: SHA-512-crypt is
#        about 15 times slower than MD5-crypt), SCHEMES (default "md5crypt sha512crypt descrypt")
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
probity=${1:-${CARGO_TARGET_DIR:-$root/target}/release/probity}
hashes=${HASHES:-50}
words=${WORDS:-20000}
sha512_hashes=${SHA512_HASHES:-4}
schemes=${SCHEMES:-md5crypt sha512crypt descrypt}
command -v john >/dev/null || { echo "john is not installed (apt-get install john)" >&2; exit 2; }
[ -x "$probity" ] || { echo "no probity binary at $probity (cargo build --release)" >&2; exit 2; }
work=$(mktemp -d)
# John 1.9.0 (Debian's, without the jumbo patch) has no --pot option: its pot file is always
# ~/.john/john.pot. Each scheme starts from an empty pot; the user's own is put back at the end.
pot=~/.john/john.pot
mkdir -p ~/.john
[ -f "$pot" ] && cp -p "$pot" "$work/saved.pot"
restore() {
    if [ -f "$work/saved.pot" ]; then cp -p "$work/saved.pot" "$pot"; else rm -f "$pot"; fi
    rm -rf "$work"
}
trap restore EXIT

# The word list: WORDS pseudo-random words of 6 to 8 lowercase letters and digits (DES crypt only
# reads 8 characters), the same on every run.
python3 - "$work/words.txt" "$words" <<'PY'
import random, sys
r = random.Random(5)
alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
seen, out = set(), []
while len(out) < int(sys.argv[2]):
    w = "".join(r.choice(alphabet) for _ in range(r.randint(6, 8)))
    if w not in seen:
        seen.add(w)
        out.append(w)
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY

# The candidates Probity tries besides the word list (built-in list and account names), so that
# its count of crypts is exact.
extra=$(python3 - "$root/rules/credentials.toml" "$work/words.txt" "$hashes" <<'PY'
import sys, tomllib
builtin = {c.split(":", 1)[1] for l in tomllib.load(open(sys.argv[1], "rb"))["list"] for c in l["credentials"]}
words = set(open(sys.argv[2]).read().split())
names = {f"user{i}" for i in range(int(sys.argv[3]))}
print(len((builtin | names) - words))
PY
)

printf '%-12s %6s %7s | %-22s | %-22s | %s\n' scheme hashes words "probity: s, found, c/s" "john: s, found, c/s" "probity/john"
for scheme in $schemes; do
    n=$hashes
    [ "$scheme" = sha512crypt ] && n=$sha512_hashes
    dir="$work/$scheme"
    mkdir -p "$dir/rootfs/etc"
    perl - "$scheme" "$n" "$work/words.txt" "$dir/rootfs/etc/shadow" "$dir/john.txt" <<'PL'
use strict;
my ($scheme, $n, $wordfile, $shadow, $johnfile) = @ARGV;
open(my $wf, '<', $wordfile) or die; my @w = <$wf>; chomp @w;
open(my $s, '>', $shadow) or die; open(my $j, '>', $johnfile) or die;
my @chars = ('.', '/', 0..9, 'A'..'Z', 'a'..'z');
for my $i (0 .. $n - 1) {
    # Passwords near the end of the list for two hashes; none for the others.
    my $pw = ($i == 0 || $i == int($n / 2)) ? $w[$#w - $i] : "absent$i";
    my $salt8 = join('', map { $chars[($i * 7 + $_ * 13) % 64] } 0 .. 7);
    my $setting = $scheme eq 'md5crypt' ? "\$1\$$salt8\$"
        : $scheme eq 'sha512crypt' ? "\$6\$$salt8\$"
        : substr($salt8, 0, 2);
    my $h = crypt($pw, $setting);
    print $s "user$i:$h:19000:0:99999:7:::\n";
    print $j "user$i:$h\n";
}
PL
    candidates=$((words + extra))

    start=$(date +%s.%N)
    "$probity" scan "$dir/rootfs" --wordlist "$work/words.txt" --format json -q -o "$dir/report.json"
    end=$(date +%s.%N)
    p_secs=$(echo "$end - $start" | bc -l)
    p_found=$(python3 -c "import json,sys; print(sum(a['recovered'] for a in json.load(open(sys.argv[1]))['inventory']['accounts']))" "$dir/report.json")

    format=$scheme
    [ "$scheme" = sha512crypt ] && format=crypt   # john 1.9.0 (Debian): SHA-512-crypt through crypt(3)
    rm -f "$pot"
    start=$(date +%s.%N)
    john --wordlist="$work/words.txt" --format="$format" --session="$dir/john" "$dir/john.txt" \
        >"$dir/john.out" 2>&1
    end=$(date +%s.%N)
    j_secs=$(echo "$end - $start" | bc -l)
    j_found=$(john --show --format="$format" "$dir/john.txt" | grep -c '^user' || true)

    p_cs=$(echo "$n * $candidates / $p_secs" | bc -l)
    j_cs=$(echo "$n * $words / $j_secs" | bc -l)
    printf '%-12s %6d %7d | %7.2f s %3d %10.0f | %7.2f s %3d %10.0f | %.2f\n' \
        "$scheme" "$n" "$words" "$p_secs" "$p_found" "$p_cs" "$j_secs" "$j_found" "$j_cs" \
        "$(echo "$p_cs / $j_cs" | bc -l)"
done
for s in $schemes; do echo "john's own figure, $s: $(grep -ho '[0-9.]*[KM]*c/s' "$work/$s/john.out" | tail -1)"; done
