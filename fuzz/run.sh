#!/bin/sh
# Builds the libFuzzer targets with clang in their own build folder and runs
# each one, for CI (bounded by time) or for the long run (bounded by runs):
#     fuzz/run.sh [SECONDS] [TARGET...]          # default 60 s a target, every target
#     FUZZ_RUNS=1000000 fuzz/run.sh 0 [TARGET...] # the long run: 10^6 executions each
# Targets: detect (the localiser on random frames), event (the event parser
# subscribers run on network bytes), decode (image decoding), config-daemon
# and config-gate (the two configuration files), formats (plate-format
# files), keys (CURVE key files and allow-lists), import (declaration CSV and
# JSON), replay-request (the replay ROUTER's request parser), subscriber (the
# subscriber library's handling of live and replay messages), manifest
# (image manifests), truth (the video benchmark's ground truth).
#
# Input size: messages are fuzzed up to PW_MAX_MSG_BYTES (5 MiB, the largest
# frame any platewatch socket accepts); files up to 8 MiB, more than any
# configuration, key, format, manifest or declarations file a person writes
# (depth and length limits beyond that are covered by regression tests). The
# localiser's input only seeds pixels (frames are sized by its header), so it
# keeps 64 KiB.
#
# Exits non-zero when the build fails or a fuzzer finds a crash, leak or
# sanitizer error; the reproducer is left in build-fuzz/crash-* (or leak-*,
# timeout-*). Prints each target's executions and time, and ends with
# "N passed, N failed", one count per target.
set -eu
seconds=${1:-60}
[ $# -gt 0 ] && shift
runs=${FUZZ_RUNS:-}
all="detect event decode config-daemon config-gate formats keys import replay-request subscriber manifest truth"
targets=${*:-$all}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
if [ ! -f "$build/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$build" "$root" -Dfuzz=true -Dtests=false \
        -Db_lundef=false --buildtype=debugoptimized >/dev/null
fi
ninja_targets="apps/pw-synth"
for t in $targets; do
    ninja_targets="$ninja_targets fuzz/fuzz-$t"
done
# shellcheck disable=SC2086 # one word per target
ninja -C "$build" -j2 $ninja_targets >/dev/null

# ---- Seeds: one valid input per target, so that the fuzzer starts inside the format ----
seed() { # seed TARGET NAME: stdin becomes corpus-TARGET/NAME
    mkdir -p "$build/corpus-$1"
    cat >"$build/corpus-$1/$2"
}
sep=$(printf '\377\376')
uuid=0837e583-2d2f-4700-98a7-428ae13d39d3
event='{"schema_version":1,"kind":"vehicle.final","stream_id":"'$uuid'","instance_id":"291854b8-60ac-4966-857f-bb373bc2d7f9","site":"sample","lane":"l01","published_at":"2026-11-27T04:20:53.685035Z","event_id":"d54c1d26-dd01-4043-977d-f73b9ecff131","seq":4,"camera":"cam-l01","plate":"AB123CD","confidence":0.94,"country":"FR","first_seen":"2026-11-27T04:20:51.309352Z","last_seen":"2026-11-27T04:20:52.869372Z","frames":40,"best_frame":{"captured_at":"2026-11-27T04:20:52.629361Z","corners":[[450.1,476.1],[806.0,453.9],[808.9,500.1],[453.0,522.4]]},"latency_ms":815.7,"jpeg_bytes":0}'
topic=plate.sample.l01.vehicle.final
mkdir -p "$build/corpus-detect" "$build/corpus-decode"
if [ ! -f "$build/corpus-decode/seed.jpg" ]; then
    "$build/apps/pw-synth" scenes --out "$build/seed-scene" --count 1 --width 96 --height 64 >/dev/null
    cp "$build/seed-scene/scene-000.jpg" "$build/corpus-decode/seed.jpg"
fi
printf '%s\n' "$event" | seed event seed.json
seed config-daemon platewatchd.conf <"$root/config/platewatchd.conf"
seed config-gate gate.conf <"$root/config/gate.conf"
seed formats FR.fmt <"$root/models/formats/FR.fmt"
seed formats GB.fmt <"$root/models/formats/GB.fmt"
# A throwaway key pair, only ever a fuzz seed: byte 0 chooses secret, public or allow-list.
key='[curve]
public-key=oUN$!nRpTZU{=8a2XxENcD*Ti@MUtn89$R:VQ?!Z
secret-key=7PaHS2*QwZgcQ8412TMZr?@ZOSNRfx1)l@g5x9@V'
printf '\000%s\n' "$key" | seed keys secret
printf '\001[curve]\npublic-key=oUN$!nRpTZU{=8a2XxENcD*Ti@MUtn89$R:VQ?!Z\n' | seed keys public
printf '\002[client-a]\npublic-key=oUN$!nRpTZU{=8a2XxENcD*Ti@MUtn89$R:VQ?!Z\n' | seed keys allow
printf '\001reference,vehicle_plate,trailer_plate,country,site,lane,window_start,window_end,status\nMRN1,AB12 CDE,XY99ZZ,GB,dover,l03,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,active\n"MRN,""2""",FR-123-AB,,FR,,,2025-03-01T10:00:00+01:00,2025-03-01T14:00:00Z,\n' | seed import csv
printf '\000[{"reference":"J1","vehicle_plate":"AB12CDE","country":"GB","window_start":"2025-03-01T10:00:00Z","window_end":"2025-03-01T14:00:00Z"}, 42]\n' | seed import json
printf '\000{"reference":"L1","vehicle_plate":1234567,"window_start":"2025-03-01T10:00:00Z","window_end":"2025-03-01T14:00:00Z","status":"cancelled"}\n{"reference":"L2"\n' | seed import jsonl
printf 'id%s%sREPLAY%sr1%s%s%s0%s500' "$sep" "$sep" "$sep" "$sep" "$uuid" "$sep" "$sep" | seed replay-request replay
printf 'id%s%sINFO%s\001\000x' "$sep" "$sep" "$sep" | seed replay-request info
printf '\000%s%s%s' "$topic" "$sep" "$event" | seed subscriber live
printf '\001%sEVENT%s1%s%s%s%s' "$sep" "$sep" "$sep" "$topic" "$sep" "$event" | seed subscriber replay
printf '\001%sEND%s1%s{"stream_id":"%s","first_seq":1,"last_seq":9,"sent":0}' "$sep" "$sep" "$sep" "$uuid" | seed subscriber end
printf 'image,plate_text,x,y,w,h,country,set\neu/a.jpg,ab123,10,20,100,25,EU,eu\n\nus-crops/b.png,XYZ9,,,,,US,us-crops\n' | seed manifest manifest.csv
printf '\001recording,plate_text,country,first_frame,last_frame,first_ms,last_ms\na.webm,AB-123-CD,FR,20,49,800,1960\na.webm,wx48213,PL,,,2800,3960\n' | seed truth passages
printf '\000recording,frame,plate_text,x,y,w,h\nrec,3,AB123CD,10,20,100,24\nrec,4,AB123CD,11,20,100,26\n' | seed truth boxes

max_len() {
    case $1 in
        detect) echo 65536 ;;
        event | subscriber | replay-request) echo 5242880 ;;
        *) echo 8388608 ;;
    esac
}

passed=0
failed=0
cd "$build"
for target in $targets; do
    mkdir -p "corpus-$target"
    if [ -n "$runs" ]; then
        bound="-runs=$runs"
        echo "fuzz-$target: $runs runs"
    else
        bound="-max_total_time=$seconds"
        echo "fuzz-$target: $seconds s"
    fi
    start=$(date +%s)
    if ./fuzz/fuzz-$target "$bound" -max_len="$(max_len "$target")" -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 "corpus-$target" >"fuzz-$target.log" 2>&1; then
        passed=$((passed + 1))
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz-$target.log" | tail -n 1)
        echo "fuzz-$target: ${execs:-?} executions in $(($(date +%s) - start)) s, no crash"
    else
        failed=$((failed + 1))
        tail -n 40 "fuzz-$target.log"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
