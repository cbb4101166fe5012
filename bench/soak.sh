#!/usr/bin/env bash
# soak.sh [--build DIR] [--restarts N] [--sighups N] [--minutes M] - does
# platewatchd hold its descriptors and memory over a lane's restarts and a
# long run? Three phases, each on a real platewatchd publishing over ZeroMQ
# on loopback (plain TCP; CURVE changes nothing here):
#
#   restarts  a lane on a short recording that loops, read as fast as it
#             decodes: every pass is one capture restart (pipeline torn down
#             and built anew), counted from the lane's stats (frames_in);
#   sighups   the same lane restarted by SIGHUP N times (the configuration
#             is touched each time, so the lane is drained and made anew);
#   long      a lane on a looping recording with plates, played in real time
#             as a camera delivers it (localiser, OCR, tracker, journal), for
#             M minutes.
#
# Each phase samples the daemon's open descriptors (/proc/PID/fd) and
# resident memory (VmRSS) and compares the mean of the first 10% of samples
# with the mean of the last 10% (the baseline is the same run's start):
# flat means within 5%. Prints a Markdown table for docs/BENCHMARKS.md.
# Defaults: 1000 restarts, 1000 SIGHUPs, 60 minutes.
set -euo pipefail
build=build restarts=1000 sighups=1000 minutes=60
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --restarts) restarts=$2; shift 2 ;;
    --sighups) sighups=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--restarts N] [--sighups N] [--minutes M]" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
work=$(mktemp -d /tmp/pw-soak-XXXXXX)
[ -n "${PW_SOAK_KEEP:-}" ] || trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
pw="$build/apps/platewatch/platewatch"
daemon="$build/apps/platewatchd"
synth="$build/apps/pw-synth"
export OMP_THREAD_LIMIT=1

# A loop of 2 + 2 * 1 frames: the restart phase is dominated by pipeline restarts.
"$synth" drive --out "$work/short.webm" --plates "AB-123-CD:FR" --width 320 --height 240 --fps 25 \
    --frames 2 --gap 1 >/dev/null
short_frames=4
"$synth" drive --out "$work/lane.webm" --plates "AB-123-CD:FR,WX 48213:PL,7FKM294:US" --width 800 \
    --height 450 --fps 25 --frames 30 --gap 20 >/dev/null

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

write_config() { # write_config FILE SOURCE PACE FINAL_AFTER_MS PUB REPLAY
    printf '[site]\nid = soak\nstats_interval_s = 1\n[security]\nallow_plain = true\n' >"$1"
    printf '[lane l1]\nsource = file://%s\ncountries = FR,PL,US\nloop = true\npace = %s\n' "$2" "$3" >>"$1"
    printf 'publish = tcp://127.0.0.1:%d\nreplay = tcp://127.0.0.1:%d\njournal = %s/l1.journal\n' "$5" "$6" "$work" >>"$1"
    printf 'final_after_ms = %d\n' "$4" >>"$1"
}

sample() { # sample PID PHASE COUNT: one line "phase count fds rss_kb" in samples.txt
    local fds rss
    fds=$(ls "/proc/$1/fd" | wc -l)
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$1/status")
    echo "$2 $3 $fds $rss" >>"$work/samples.txt"
}

frames_in() { # the lane's frames_in from its latest stats event, 0 before any
    local n
    n=$(grep -o 'frames_in [0-9]*' "$work/stats.txt" 2>/dev/null | tail -1 | cut -d' ' -f2)
    echo "${n:-0}"
}

started() { grep -c 'lane l1: started' "$work/d.log" || true; }

start_daemon() { # start_daemon CONFIG PUB: runs platewatchd and platewatch stats; sets pid, stats_pid
    rm -f "$work"/l1.journal* "$work/stats.txt"
    "$daemon" --config "$1" 2>"$work/d.log" &
    pid=$!
    "$pw" stats --plain -c "tcp://127.0.0.1:$2" >"$work/stats.txt" 2>/dev/null &
    stats_pid=$!
    local end=$((SECONDS + 120))
    until [ "$(started)" -ge 1 ]; do
        [ $SECONDS -lt $end ] || { echo "soak: the lane did not start:" >&2; cat "$work/d.log" >&2; exit 1; }
        kill -0 "$pid" || { echo "soak: platewatchd exited:" >&2; cat "$work/d.log" >&2; exit 1; }
        sleep 0.1
    done
}

stop_daemon() {
    kill -TERM "$pid"
    wait "$pid" || { echo "soak: platewatchd did not stop cleanly:" >&2; tail "$work/d.log" >&2; exit 1; }
    kill "$stats_pid" 2>/dev/null || true
    wait "$stats_pid" 2>/dev/null || true
}

: >"$work/samples.txt"
pub=$(port) rep=$(port)

# Phase 1: capture restarts of a looping recording.
write_config "$work/soak.conf" "$work/short.webm" false 600 "$pub" "$rep"
start_daemon "$work/soak.conf" "$pub"
t0=$SECONDS
loops=0
while [ "$loops" -lt "$restarts" ]; do
    sleep 0.5
    loops=$(($(frames_in) / short_frames))
    sample "$pid" restarts "$loops"
done
restart_s=$((SECONDS - t0))

# Phase 2: SIGHUPs, each restarting the lane (final_after_ms alternates).
t0=$SECONDS
for i in $(seq 1 "$sighups"); do
    write_config "$work/soak.conf" "$work/short.webm" false $((600 + i % 2)) "$pub" "$rep"
    before=$(started)
    kill -HUP "$pid"
    end=$((SECONDS + 60))
    until [ "$(started)" -gt "$before" ]; do
        [ $SECONDS -lt $end ] || { echo "soak: SIGHUP $i did not restart the lane:" >&2; tail "$work/d.log" >&2; exit 1; }
        sleep 0.02
    done
    sample "$pid" sighups "$i"
done
sighup_s=$((SECONDS - t0))
stop_daemon

# Phase 3: the long run, real time, with plates.
write_config "$work/long.conf" "$work/lane.webm" true 800 "$pub" "$rep"
start_daemon "$work/long.conf" "$pub"
t0=$SECONDS
end=$((SECONDS + minutes * 60))
while [ $SECONDS -lt $end ]; do
    sleep 5
    sample "$pid" long $((SECONDS - t0))
done
long_frames=$(frames_in)
long_finals=$(python3 - "$work/l1.journal" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(db.execute("SELECT COUNT(*) FROM events WHERE topic LIKE '%.vehicle.final'").fetchone()[0])
PY
)
stop_daemon

python3 - "$work/samples.txt" "$restart_s" "$sighup_s" "$minutes" "$long_frames" "$long_finals" <<'PY'
import sys
path, restart_s, sighup_s, minutes, long_frames, long_finals = sys.argv[1:]
phases = {}
for line in open(path):
    phase, count, fds, rss = line.split()
    phases.setdefault(phase, []).append((int(count), int(fds), int(rss)))

def ends(values):
    k = max(1, len(values) // 10)
    first, last = sum(values[:k]) / k, sum(values[-k:]) / k
    return first, last, last / first

print("| phase | what | samples | descriptors first 10% -> last 10% | RSS MB first 10% -> last 10% | flat (within 5%) |")
print("|---|---|---|---|---|---|")
what = {
    "restarts": lambda s: f"{s[-1][0]} capture restarts (loops) in {restart_s} s",
    "sighups": lambda s: f"{s[-1][0]} SIGHUP lane restarts in {sighup_s} s",
    "long": lambda s: f"{minutes} min real time, {long_frames} frames, {long_finals} vehicle.final",
}
worst = 0
for phase in ("restarts", "sighups", "long"):
    s = phases.get(phase, [])
    if not s:
        continue
    f0, f1, fr = ends([x[1] for x in s])
    r0, r1, rr = ends([x[2] for x in s])
    flat = abs(fr - 1) <= 0.05 and abs(rr - 1) <= 0.05
    worst = max(worst, abs(fr - 1), abs(rr - 1))
    print(f"| {phase} | {what[phase](s)} | {len(s)} | {f0:.1f} -> {f1:.1f} ({fr:.3f}x) | "
          f"{r0 / 1024:.1f} -> {r1 / 1024:.1f} ({rr:.3f}x) | {'yes' if flat else 'NO'} |")
sys.exit(0 if worst <= 0.05 else 1)
PY
