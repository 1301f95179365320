#!/bin/sh
# Builds Probity and the demo input, then scans it: the README's "main job" command.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
cargo build --release --quiet
./demo/build.sh
exec ./target/release/probity scan target/demo/rootfs "$@"
