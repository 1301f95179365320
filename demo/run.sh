#!/bin/sh
# The README's main job: installs what is missing (Debian packages), builds Probity and the demo
# flash image from committed sources, then scans the image.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
./scripts/setup-debian
cargo build --release --quiet
./demo/build.sh
exec ./target/release/probity scan target/demo/firmware.bin "$@"
