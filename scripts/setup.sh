#!/usr/bin/env bash
# platewatch set-up on Debian 12: installs the missing packages of
# scripts/packages.txt, configures and builds, then runs the main job or the
# tests. Every step is idempotent, so running it again only rebuilds.
#
#   scripts/setup.sh run      install, build, read the generated sample plates
#   scripts/setup.sh test     install, build, run every test suite
#   scripts/setup.sh asan     the same tests built with ASan + UBSan
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
    scripts/test-summary.sh "$dir"
    return $status
}

sample_images() {
    local out="$build/sample"
    "$build/synth/pw-synth" scenes --out "$out" --count 6 --seed 7 >/dev/null
    ls "$out"/*.jpg
}

run_main() {
    log "reading the generated sample plates (ground truth in $build/sample/manifest.csv)"
    # shellcheck disable=SC2046
    "$build/cli/platewatch" read --country FR,DE,NL,PL,GB,US $(sample_images)
}

case "${1:-}" in
deps) install_deps ;;
run) install_deps && build_tree && run_main ;;
test) install_deps && build_tree && run_tests "$build" ;;
asan)
    install_deps
    build=${PW_ASAN_BUILD_DIR:-build-asan}
    log "building in $build with AddressSanitizer and UndefinedBehaviorSanitizer"
    configure "$build" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
    ninja -C "$build" >/dev/null
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$here/tests/lsan.supp:print_suppressions=0"
    PW_TIMEOUT_MULTIPLIER=4 run_tests "$build"
    ;;
*)
    echo "usage: scripts/setup.sh run|test|asan|deps" >&2
    exit 2
    ;;
esac
