#!/usr/bin/env bash
# platewatch set-up on Debian 12: installs the missing packages of
# scripts/packages.txt, configures and builds, then runs the main job or the
# tests. Every step is idempotent, so running it again only rebuilds.
#
#   scripts/setup.sh run      install, build, run the lane daemon on a generated
#                             recording and print the events a subscriber receives
#   scripts/setup.sh console  install, build, run the lane daemon on the recording
#                             (looped) and platewatch-gate with its web console on
#                             http://127.0.0.1:8080 (officer / sample-officer) until Ctrl-C
#   scripts/setup.sh test     install, build, run every test suite
#   scripts/setup.sh asan     the same tests built with ASan + UBSan
#   scripts/setup.sh gate     a lane-controller host's build: platewatch-gate
#                             alone (-Dlanes=disabled), its tests, and a check
#                             that it links no OpenCV, Tesseract or GStreamer
#   scripts/setup.sh deps     install the packages only
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=${PW_BUILD_DIR:-build}

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_deps() {
    local wanted missing=()
    wanted=$(grep -Ev '^\s*(#|$)' scripts/packages.txt)
    for pkg in $wanted; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "all $(echo "$wanted" | wc -w) Debian packages present"
        return
    fi
    log "installing ${#missing[@]} missing packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# configure DIR [meson options...]: sets up DIR once, reconfigures when options change.
configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" --werror "$@" >/dev/null
    fi
}

build_tree() {
    log "building in $build"
    configure "$build"
    ninja -C "$build" >/dev/null
}

run_tests() {
    local dir=$1 status=0
    log "running the test suites in $dir"
    meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier "${PW_TIMEOUT_MULTIPLIER:-1}" \
        >"$dir/test-output.txt" 2>&1 || status=$?
    grep -E '^ *[0-9]+/[0-9]+ ' "$dir/test-output.txt" || true
    # A failure on a machine nobody can log into must say which assertion
    # failed and why, so the failing tests' own lines are shown too.
    if [ $status -ne 0 ]; then
        grep -E '\[(FAIL|----)\]|Assertion|timed out|signal' "$dir/test-output.txt" | head -n 60 || true
    fi
    scripts/test-summary.sh "$dir"
    return $status
}

# gate_only_links EXE: the gate built for a lane-controller host must not
# need the lane side's libraries (they are not on such a host).
gate_only_links() {
    local libs
    libs=$(ldd "$1" | grep -E 'opencv|tesseract|gstreamer|v4l' || true)
    if [ -n "$libs" ]; then
        log "$1 links lane-side libraries:"
        printf '%s\n' "$libs" >&2
        echo "0 passed, 1 failed"
        return 1
    fi
    log "$1 links no OpenCV, Tesseract, GStreamer or libv4l2"
}

# sample_inputs OUT PW: the sample recording (three vehicles passing) and the
# CURVE keys of the daemon and one lane controller, made once.
sample_inputs() {
    local out=$1 pw=$2
    if [ ! -f "$out/lane.webm" ]; then
        log "generating a sample recording of three vehicles passing ($out/lane.webm)"
        "$build/apps/pw-synth" drive --out "$out/lane.webm" --plates "AB-123-CD:FR,WX 48213:PL,7FKM294:US" >/dev/null
    fi
    [ -f "$out/server.key" ] || "$pw" keygen "$out/server" >/dev/null
    [ -f "$out/clients/controller.key" ] || "$pw" keygen "$out/clients/controller" >/dev/null
}

# sample_lane_conf OUT FILE PORT JOURNAL [EXTRA]: a one-lane daemon configuration
# on the sample recording, publishing on PORT and replaying on PORT + 1.
sample_lane_conf() {
    local out=$1 file=$2 port=$3 journal=$4 extra=${5:-}
    cat >"$file" <<CONF
[site]
id = sample
[security]
secret_key = $out/server.key
allow_list = $out/clients
[lane l01]
source = file://$here/$out/lane.webm
camera = cam-l01
countries = FR,PL,US
publish = tcp://127.0.0.1:$port
replay = tcp://127.0.0.1:$((port + 1))
journal = $out/$journal
final_after_ms = 800
pace = true
$extra
CONF
}

# The main job: the lane daemon on a generated drive-by recording, and a
# subscriber that prints the plate events it receives (CURVE-encrypted).
run_main() {
    local out="$build/sample" pw="$build/apps/platewatch/platewatch" pid status=0
    mkdir -p "$out/clients"
    rm -f "$out"/lane.journal*
    sample_inputs "$out" "$pw"
    sample_lane_conf "$out" "$out/platewatchd.conf" 17700 lane.journal
    log "starting platewatchd on the recording (log: $out/platewatchd.log); the subscriber prints each event"
    OMP_THREAD_LIMIT=1 "$build/apps/platewatchd" --config "$out/platewatchd.conf" 2>"$out/platewatchd.log" &
    pid=$!
    "$pw" tail --connect tcp://127.0.0.1:17700 --replay tcp://127.0.0.1:17701 --from-start \
        --server-key "$out/server.pub" --key "$out/clients/controller.key" \
        --kind vehicle.new --kind vehicle.update --kind vehicle.final --text --seconds 14 || status=$?
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || status=$?
    log "expected plates: AB123CD (FR), WX48213 (PL), 7FKM294 (US); platewatchd exited with status $status"
    return $status
}

# The officer's console on the sample recording: the lane daemon (looped,
# with JPEG crops) publishes to platewatch-gate, which decides against three
# sample declarations (one matches, one is a near miss for an officer to
# look at, one plate is not declared) and serves the console.
run_console() {
    local out="$build/sample" pw="$build/apps/platewatch/platewatch" gate="$build/apps/platewatch-gate/platewatch-gate"
    local port=${PW_CONSOLE_PORT:-8080} pid status=0
    mkdir -p "$out/clients"
    rm -f "$out"/console.journal* "$out"/console-gate.db*
    sample_inputs "$out" "$pw"
    sample_lane_conf "$out" "$out/console-platewatchd.conf" 17710 console.journal "loop = true
jpeg_crops = true"
    cat >"$out/console-gate.conf" <<CONF
[gate]
store = $out/console-gate.db
[events]
endpoint = tcp://127.0.0.1:17710
replay_endpoint = tcp://127.0.0.1:17711
server_public_key = $out/server.pub
client_secret_key = $out/clients/controller.key
backfill = true
[console]
listen = 127.0.0.1:$port
[metrics]
listen = 127.0.0.1:$((port + 1))
CONF
    local from until
    from=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
    until=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
    "$gate" -C "$out/console-gate.conf" add -r SAMPLE-AB123CD -v AB123CD -c FR --from "$from" --until "$until"
    "$gate" -C "$out/console-gate.conf" add -r SAMPLE-WX48218 -v WX48218 -c PL --from "$from" --until "$until"
    echo "sample-officer" | "$gate" -C "$out/console-gate.conf" user add officer
    log "starting platewatchd on the looped recording (log: $out/console-platewatchd.log)"
    OMP_THREAD_LIMIT=1 "$build/apps/platewatchd" --config "$out/console-platewatchd.conf" \
        2>"$out/console-platewatchd.log" &
    pid=$!
    log "console: http://127.0.0.1:$port (officer / sample-officer); metrics: http://127.0.0.1:$((port + 1))/metrics; Ctrl-C stops"
    "$gate" -C "$out/console-gate.conf" run >"$out/console-decisions.jsonl" || status=$?
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || true
    return $status
}

case "${1:-}" in
deps) install_deps ;;
console) install_deps && build_tree && run_console ;;
run) install_deps && build_tree && run_main ;;
test) install_deps && build_tree && run_tests "$build" ;;
asan)
    install_deps
    build=${PW_ASAN_BUILD_DIR:-build-asan}
    log "building in $build with AddressSanitizer and UndefinedBehaviorSanitizer"
    configure "$build" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
    ninja -C "$build" >/dev/null
    # The sanitizer options are in the suites' environment (tests/meson.build).
    # Criterion's parallel runner itself leaks a few bytes per worker; one job keeps the report ours.
    export CRITERION_JOBS=1
    PW_TIMEOUT_MULTIPLIER=4 run_tests "$build"
    ;;
gate)
    install_deps
    build=${PW_GATE_BUILD_DIR:-build-gate}
    log "building the gate alone in $build (-Dlanes=disabled)"
    configure "$build" -Dlanes=disabled
    ninja -C "$build" >/dev/null
    gate_only_links "$build/apps/platewatch-gate/platewatch-gate" && run_tests "$build"
    ;;
*)
    echo "usage: scripts/setup.sh run|console|test|asan|gate|deps" >&2
    exit 2
    ;;
esac
