#!/usr/bin/env bash
# test-summary.sh BUILD_DIR: sums Criterion's "Synthesis" lines from meson's
# test log (meson hides them) and prints the closing "N passed, N failed".
# A test program that died before printing its synthesis counts as one
# failure; a passing test that is not a Criterion suite counts as one pass,
# and one that skips itself (exit 77, e.g. a check that needs ../shared) is
# counted apart as skipped, neither passed nor failed.
set -euo pipefail
log="${1:?build dir}/meson-logs/testlog.txt"
[ -f "$log" ] || { echo "0 passed, 1 failed"; exit 0; }
awk '
function close_block() {
    if (!inblock) return
    if (synth) { passed += p; failed += f }
    else if (result ~ /exit status 0|^OK/) passed++
    else if (result ~ /exit status 77|^SKIP/) skipped++
    else failed++
    if (synth && result !~ /exit status 0/ && f == 0) failed++
}
/^=+ [0-9]+\/[0-9]+ =+$/ { close_block(); inblock = 1; synth = 0; p = 0; f = 0; result = ""; next }
/^result:/ { result = $0; sub(/^result: */, "", result) }
/Synthesis: Tested:/ {
    synth = 1
    for (i = 1; i <= NF; i++) {
        if ($i == "Passing:") p += $(i + 1)
        if ($i == "Failing:" || $i == "Crashing:") f += $(i + 1)
    }
}
END {
    close_block()
    if (skipped) printf "%d skipped (exit status 77: each says why in the test log)\n", skipped
    printf "%d passed, %d failed\n", passed, failed
}
' "$log"
