#!/bin/sh
# Builds the libFuzzer targets with clang in their own build folder and runs
# each for a bounded time (default 60 s each), for CI:
#     fuzz/run.sh [SECONDS]
# Targets: fuzz-detect (the localiser on random frames), fuzz-event (the
# event parser subscribers run on network bytes), fuzz-decode (image
# decoding). Exits non-zero when the build fails or a fuzzer finds a crash,
# leak or sanitizer error; the reproducer is left in build-fuzz/crash-*.
# Ends with "N passed, N failed", one count per target.
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
if [ ! -f "$build/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$build" "$root" -Dfuzz=true -Dtests=false \
        -Db_lundef=false --buildtype=debugoptimized >/dev/null
fi
ninja -C "$build" -j2 fuzz/fuzz-detect fuzz/fuzz-event fuzz/fuzz-decode synth/pw-synth >/dev/null

# Seeds: a rendered JPEG for the decoder, a valid event for the parser.
mkdir -p "$build/corpus-detect" "$build/corpus-event" "$build/corpus-decode"
if [ ! -f "$build/corpus-decode/seed.jpg" ]; then
    "$build/synth/pw-synth" scenes --out "$build/seed-scene" --count 1 --width 96 --height 64 >/dev/null
    cp "$build/seed-scene/scene-000.jpg" "$build/corpus-decode/seed.jpg"
fi
cat >"$build/corpus-event/seed.json" <<'EOF'
{"schema_version":1,"kind":"vehicle.final","stream_id":"0837e583-2d2f-4700-98a7-428ae13d39d3","instance_id":"291854b8-60ac-4966-857f-bb373bc2d7f9","site":"sample","lane":"l01","published_at":"2026-11-27T04:20:53.685035Z","event_id":"d54c1d26-dd01-4043-977d-f73b9ecff131","seq":4,"camera":"cam-l01","plate":"AB123CD","confidence":0.94,"country":"FR","first_seen":"2026-11-27T04:20:51.309352Z","last_seen":"2026-11-27T04:20:52.869372Z","frames":40,"best_frame":{"captured_at":"2026-11-27T04:20:52.629361Z","corners":[[450.1,476.1],[806.0,453.9],[808.9,500.1],[453.0,522.4]]},"latency_ms":815.7,"jpeg_bytes":0}
EOF

passed=0
failed=0
cd "$build"
for target in detect event decode; do
    echo "fuzz-$target: $seconds s"
    if ./fuzz/fuzz-$target -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        "corpus-$target" >"fuzz-$target.log" 2>&1; then
        passed=$((passed + 1))
        grep -E '^#[0-9]+.*DONE' "fuzz-$target.log" | tail -n 1 || true
    else
        failed=$((failed + 1))
        tail -n 40 "fuzz-$target.log"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
