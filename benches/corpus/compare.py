#!/usr/bin/env python3
"""Per-sample comparison of `probity unpack` and binwalk v3 on every corpus sample (docs/benchmarks.md).

usage: benches/corpus/compare.py [CORPUS] [OUT.md]

For every file under CORPUS/formats and CORPUS/firmware (default ../shared/corpus), runs
`probity unpack SAMPLE -o DIR` and `binwalk -Me -C DIR SAMPLE` (when installed) into fresh
directories on a tmpfs, and records: for Probity, the share of the sample's bytes explained by
recognised structures (and with the zero or 0xFF padding after them), regular files written (manifest.json excluded), problems, wall time; for
binwalk, regular files written, extractions it reported as failed, wall time (each run is stopped after TIMEOUT seconds). Writes a markdown table
to OUT.md (default: stdout) and a summary line per tool. binwalk gets the same `sasquatch` shim as in
benches/unpack/run.sh.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
PROBITY = os.path.join(TOP, "target", "release", "probity")
SHIM = """#!/bin/sh
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
"""


def files_in(d):
    n = 0
    for root, _dirs, names in os.walk(d):
        for name in names:
            p = os.path.join(root, name)
            if os.path.isfile(p) and not os.path.islink(p) and p != os.path.join(d, "manifest.json"):
                n += 1
    return n


TIMEOUT = 120


def run(cmd, env=None):
    """Runs cmd; returns (seconds, exit code or None on timeout, output)."""
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return time.monotonic() - t, None, ""
    return time.monotonic() - t, p.returncode, p.stdout.decode("utf-8", "replace")


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "..", "shared", "corpus")
    out = open(sys.argv[2], "w") if len(sys.argv) > 2 else sys.stdout
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=TOP, check=True)
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = tempfile.mkdtemp(prefix="probity-corpus-", dir=base)
    shim = os.path.join(work, "shim")
    os.makedirs(shim)
    for name in ("sasquatch", "sasquatch-v4be"):
        with open(os.path.join(shim, name), "w") as f:
            f.write(SHIM)
        os.chmod(os.path.join(shim, name), 0o755)
    env = dict(os.environ, PATH=shim + ":" + os.environ["PATH"])
    binwalk = shutil.which("binwalk")
    samples = []
    for sub in ("firmware", "formats"):
        for root, _dirs, names in os.walk(os.path.join(corpus, sub)):
            for name in names:
                samples.append(os.path.relpath(os.path.join(root, name), corpus))
    samples.sort()
    print("# Corpus comparison: probity unpack vs binwalk v3\n", file=out)
    print(
        "Written by `python3 benches/corpus/compare.py ../shared/corpus docs/corpus-comparison.md` (see\n"
        "`docs/benchmarks.md`, \"Real-world formats\"). \"explained\": bytes of the sample inside recognised\n"
        "structures; \"with padding\": the same plus zero or 0xFF padding; \"problems\": entries in Probity's\n"
        "manifest; \"binwalk failed\": binwalk's \"extraction failed\" lines.\n",
        file=out,
    )
    print("| sample | bytes | explained | with padding | probity files | problems | probity s | binwalk files | binwalk failed | binwalk s |", file=out)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", file=out)
    totals = {"pf": 0, "bf": 0, "pt": 0.0, "bt": 0.0, "pfail": 0, "bfail": 0, "more": 0, "fewer": 0, "btimeout": 0}
    for s in samples:
        path = os.path.join(corpus, s)
        size = os.path.getsize(path)
        pdir = os.path.join(work, "p")
        shutil.rmtree(pdir, ignore_errors=True)
        pt, rc, _ = run([PROBITY, "unpack", path, "-o", pdir, "-q"])
        if rc is None:
            explained, accounted, pfiles, problems = f"timed out after {TIMEOUT} s", "-", 0, 1
        elif rc == 0:
            m = json.load(open(os.path.join(pdir, "manifest.json")))
            root = next((c for c in m["coverage"]["containers"] if c["artifact"] == 0), None)
            if root and root["size"]:
                padding = sum(u["length"] for u in root["unexplained"] if u["class"] in ("zero_padding", "ff_padding"))
                explained = f"{100.0 * root['explained_bytes'] / root['size']:.1f}%"
                accounted = f"{100.0 * (root['explained_bytes'] + padding) / root['size']:.1f}%"
            else:
                explained = accounted = "-"
            pfiles = files_in(pdir)
            problems = len(m["problems"])
        else:
            explained, accounted, pfiles, problems = "error", "-", 0, 1
        totals["pf"] += pfiles
        totals["pt"] += pt
        totals["pfail"] += 1 if pfiles == 0 else 0
        brow = ("-", "-", "-")
        if binwalk:
            bdir = os.path.join(work, "b")
            shutil.rmtree(bdir, ignore_errors=True)
            bt, brc, log = run([binwalk, "-Me", "-C", bdir, path], env=env)
            bfiles = files_in(bdir) if os.path.isdir(bdir) else 0
            failed = len(re.findall(r"Extraction of \S+ data at offset \S+ failed", log))
            if brc is None:
                failed = f"timed out after {TIMEOUT} s"
                totals["btimeout"] += 1
            totals["bf"] += bfiles
            totals["bt"] += bt
            totals["bfail"] += 1 if bfiles == 0 else 0
            totals["more"] += pfiles > bfiles
            totals["fewer"] += pfiles < bfiles
            brow = (bfiles, failed, f"{bt:.2f}")
        print(f"| {s} | {size:,} | {explained} | {accounted} | {pfiles} | {problems} | {pt:.2f} | {brow[0]} | {brow[1]} | {brow[2]} |", file=out, flush=True)
    print(file=out)
    print(
        f"Totals over {len(samples)} samples: probity {totals['pf']} files in {totals['pt']:.1f} s, "
        f"nothing extracted from {totals['pfail']}; binwalk {totals['bf']} files in {totals['bt']:.1f} s, "
        f"nothing extracted from {totals['bfail']}, timed out on {totals['btimeout']}; probity extracted more files from {totals['more']} "
        f"samples, fewer from {totals['fewer']}.",
        file=out,
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
