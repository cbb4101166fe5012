#!/usr/bin/env bash
# bench-daemon.sh [BUILD_DIR] - the lane daemon at 25 fps 1280x720 with plates,
# in real time, with 1 and with 4 lanes on this machine: capture-to-publish
# latency of vehicle.new/update events (p50/p95/p99, from the events'
# latency_ms), vehicle.final count, frames dropped (the lanes' last stats
# event), and the daemon's peak resident memory (VmHWM). CURVE is on, as in
# production. Prints a Markdown table for docs/BENCHMARKS.md.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
work=$(mktemp -d /tmp/pw-bench-daemon-XXXXXX)
[ -n "${PW_BENCH_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
pw="$build/apps/platewatch/platewatch"
plates="AB-123-CD:FR,WX 48213:PL,7FKM294:US,KT-802-RV:FR,XR 51734:PL,3MHP468:US"
"$build/apps/pw-synth" drive --out "$work/lane.webm" --plates "$plates" --width 1280 --height 720 --fps 25 >/dev/null
mkdir -p "$work/clients"
"$pw" keygen "$work/server" >/dev/null
"$pw" keygen "$work/clients/bench" >/dev/null

write_config() { # write_config LANES
    {
        printf '[site]\nid = bench\nstats_interval_s = 1\n[security]\nsecret_key = %s/server.key\nallow_list = %s/clients\n' "$work" "$work"
        for i in $(seq 1 "$1"); do
            printf '[lane l%d]\nsource = file://%s/lane.webm\ncountries = FR,PL,US\n' "$i" "$work"
            printf 'publish = tcp://127.0.0.1:%d\nreplay = tcp://127.0.0.1:%d\n' $((17800 + 2 * i)) $((17801 + 2 * i))
            printf 'journal = %s/l%d.journal\nfinal_after_ms = 800\npace = true\n' "$work" "$i"
        done
    } >"$work/d$1.conf"
}

run() { # run LANES: one real-time pass over the clip; prints one table row
    local lanes=$1 pid peak=0 tails=()
    write_config "$lanes"
    rm -f "$work"/*.journal* "$work"/events-*.jsonl
    OMP_THREAD_LIMIT=1 "$build/apps/platewatchd" --config "$work/d$lanes.conf" --exit-at-end 2>"$work/d$lanes.log" &
    pid=$!
    for i in $(seq 1 "$lanes"); do
        "$pw" tail --connect tcp://127.0.0.1:$((17800 + 2 * i)) --replay tcp://127.0.0.1:$((17801 + 2 * i)) \
            --from-start --server-key "$work/server.pub" --key "$work/clients/bench.key" --seconds 40 \
            >"$work/events-$i.jsonl" 2>/dev/null &
        tails+=($!)
    done
    while kill -0 "$pid" 2>/dev/null; do
        hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${hwm:-0}" -gt "$peak" ] && peak=$hwm
        sleep 0.2
    done
    wait "$pid" || true
    kill "${tails[@]}" 2>/dev/null || true
    wait "${tails[@]}" 2>/dev/null || true
    python3 - "$lanes" "$peak" "$work" <<'PY'
import json, sys, glob
lanes, peak_kb, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lat, finals, dropped, frames = [], 0, 0, 0
for path in glob.glob(f"{work}/events-*.jsonl"):
    last_stats = None
    for line in open(path):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        kind = ev.get("kind")
        if kind in ("vehicle.new", "vehicle.update"):
            lat.append(ev["latency_ms"])
        elif kind == "vehicle.final":
            finals += 1
        elif kind == "stats":
            last_stats = ev["counters"]
    if last_stats:
        dropped += last_stats["frames_dropped"]
        frames += last_stats["frames_in"]
lat.sort()
pct = lambda q: lat[min(len(lat) - 1, int(q * (len(lat) - 1) + 0.5))] if lat else float("nan")
print(f"| {lanes} | {len(lat)} | {pct(0.5):.1f} | {pct(0.95):.1f} | {pct(0.99):.1f} | {finals} / {6 * lanes} "
      f"| {dropped} of {frames} | {peak_kb / 1024:.0f} |")
PY
}

echo "| lanes | new/update events | latency p50 ms | p95 ms | p99 ms | vehicle.final / passages | frames dropped | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
run 1
run 4
