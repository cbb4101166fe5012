#!/bin/sh
# Builds the libFuzzer targets with clang in their own build folder and runs
# the localiser's target for a bounded time (default 60 s), for CI:
#     fuzz/run.sh [SECONDS]
# Exits non-zero when the build fails or the fuzzer finds a crash, leak or
# sanitizer error; the reproducer is left in build-fuzz/crash-*.
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
if [ ! -f "$build/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$build" "$root" -Dfuzz=true -Dtests=false \
        -Db_lundef=false --buildtype=debugoptimized
fi
ninja -C "$build" -j2 fuzz/fuzz-detect
corpus="$build/corpus-detect"
mkdir -p "$corpus"
cd "$build"
exec ./fuzz/fuzz-detect -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -timeout=10 "$corpus"
