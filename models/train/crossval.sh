#!/usr/bin/env bash
# crossval.sh - honest accuracy of the training recipe on every dev photograph:
# five models, each trained by train.sh without one fold (sha1(image) % 5)
# and measured by `platewatch bench images` on that fold only, then the five
# folds' counts added up per set. The model trained without fold 0 is the one
# shipped (models/plate.traineddata), so its own figures are fold 0's rows.
#
#   models/train/crossval.sh [FOLD...]       # default 0 1 2 3 4; two trainings at a time
#
# Environment: PW_CV_WORK (default /tmp/platewatch-cv), PW_CV_JOBS (trainings
# at once, default 2), and every PW_TRAIN_* setting of train.sh. Each fold's
# table is in $PW_CV_WORK/foldK.txt, the summed table on stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${PW_CV_WORK:-/tmp/platewatch-cv}
jobs=${PW_CV_JOBS:-2}
build=${PW_BUILD_DIR:-$root/build}
plates=${PW_TRAIN_DATA:-$root/../shared/data}/plates/manifest.csv
folds=("$@")
((${#folds[@]})) || folds=(0 1 2 3 4)
mkdir -p "$work"

train_fold() { # train_fold K: the model that never saw fold K, and its table on fold K
    local k=$1 others
    others=$(seq 0 4 | grep -v "^$k$" | paste -sd,)
    mkdir -p "$work/model$k"
    PW_TRAIN_WORK="$work/train$k" PW_TRAIN_FOLDS="$others" PW_TRAIN_EVAL_FOLDS="$k" \
        PW_TRAIN_OUTPUT="$work/model$k/plate.traineddata" "$here/train.sh" >"$work/train$k.log" 2>&1
    OMP_THREAD_LIMIT=1 "$build/apps/platewatch/platewatch" bench images --folds "$k" --tessdata "$work/model$k" \
        "$plates" >"$work/fold$k.txt"
    echo "fold $k: trained on $others, measured on $k"
}

running=0
for k in "${folds[@]}"; do
    train_fold "$k" &
    if ((++running >= jobs)); then
        wait -n
        running=$((running - 1))
    fi
done
wait

# Sums images and exact, 1-edit and top-N counts per set over the folds' tables.
awk '$1 != "set" && $1 != "all" {
        n[$1] += $2; ex[$1] += $2 * $4 / 100; e1[$1] += $2 * $5 / 100; top[$1] += $2 * $6 / 100
        if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 }
     }
     END {
        printf "%-10s %6s %7s %7s %7s\n", "set", "images", "exact", "1-edit", "top-N"
        for (i = 1; i <= m; i++) { s = order[i]; N += n[s]; EX += ex[s]; E1 += e1[s]; TOP += top[s]
            printf "%-10s %6d %6.1f%% %6.1f%% %6.1f%%\n", s, n[s], 100 * ex[s] / n[s], 100 * e1[s] / n[s], 100 * top[s] / n[s] }
        printf "%-10s %6d %6.1f%% %6.1f%% %6.1f%%\n", "all", N, 100 * EX / N, 100 * E1 / N, 100 * TOP / N
     }' $(for k in "${folds[@]}"; do echo "$work/fold$k.txt"; done)
