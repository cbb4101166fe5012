#!/usr/bin/env bash
# train.sh - fine-tunes a float Tesseract LSTM model into
# models/plate.traineddata, the plate model platewatch reads with.
#
#   models/train/train.sh [--install]        # about 10-12 minutes on 2 cores (598 s measured)
#   models/train/train.sh --smoke            # a few iterations on a handful of lines (the test suite;
#                                            # skipped, exit 77, without ../shared/data/train)
#
# Training material, every line prepared by the reader's own code
# (pw-train-lines: the localiser's crop, then pw_ocr_prepare_line):
#   - the dev photographs of ../shared/data/plates on the training folds
#     (sha1(image) % 5 in PW_TRAIN_FOLDS; the other folds are never seen,
#     so that accuracy is measured on them), as the localiser cuts them and
#     as the labelled box cuts them;
#   - the real Brazilian crops of ../shared/data/train/br-crops;
#   - synthetic plates from models/train/render.py: plate-like fonts and
#     collages of real plate characters, degraded as real crops are;
#   - plates rendered by synth/ in street-like scenes (pw-train-lines
#     --synth-texts), the renderer of the test suites and sample recordings.
# Evaluation during training uses PW_TRAIN_EVAL_FOLDS of the photographs
# (held out as well) to watch over-fitting.
#
# Environment (all optional):
#   PW_TRAIN_DATA        the shared data folder (default ../shared/data beside the checkout)
#   PW_TRAIN_WORK        working folder (default /tmp/platewatch-train), never in the repository
#   PW_TRAIN_FOLDS       photograph folds to learn from (default 2,3,4: fold 1 chose the recipe
#                        and fold 0 gives the reported figures, so neither is learnt from)
#   PW_TRAIN_EVAL_FOLDS  photograph folds lstmtraining reports on (default 1)
#   PW_TRAIN_SYNTH       synthetic plates rendered by render.py (default 8000)
#   PW_TRAIN_SCENES      plates rendered by synth/ in scenes (default 3000)
#   PW_TRAIN_JITTER      variations of each training photograph's plate (pw-train-lines --jitter;
#                        default 4: run G of docs/ocr-training.md)
#   PW_TRAIN_REAL_WEIGHT times each real line is listed, to weigh it against synthetic ones (default 3)
#   PW_TRAIN_ITERATIONS  lstmtraining iterations (default 20000)
#   PW_TRAIN_RATE        learning rate (default 0.0005)
#   PW_TRAIN_PREPS       preparations written per crop (default adaptive,plain)
#   PW_TRAIN_CHARSET     base (the base model's characters) or plate (A-Z 0-9 only); default base
#   PW_TRAIN_HEAD        full (the base's whole network, default) or INDEX:SPEC, e.g. 5:[O1c1]:
#                        the network is cut after layer INDEX and SPEC's layers are appended
#                        (lstmtraining --append_index), a smaller and faster head
#   PW_TRAIN_OUTPUT      where the integer model goes (default models/plate.traineddata)
#   PW_TRAIN_CORRECTIONS a folder written by `platewatch-gate export-corrections` (a site's
#                        officer-checked crops): learnt from as real lines (docs/console.md)
#   PW_BUILD_DIR         the build folder with pw-train-lines (default build)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${PW_TRAIN_DATA:-$root/../shared/data}
work=${PW_TRAIN_WORK:-/tmp/platewatch-train}
folds=${PW_TRAIN_FOLDS:-2,3,4}
eval_folds=${PW_TRAIN_EVAL_FOLDS:-1}
synth=${PW_TRAIN_SYNTH:-8000}
scenes=${PW_TRAIN_SCENES:-3000}
real_weight=${PW_TRAIN_REAL_WEIGHT:-3}
jitter=${PW_TRAIN_JITTER:-4}
iterations=${PW_TRAIN_ITERATIONS:-20000}
rate=${PW_TRAIN_RATE:-0.0005}
preps=${PW_TRAIN_PREPS:-adaptive,plain}
charset=${PW_TRAIN_CHARSET:-base}
head=${PW_TRAIN_HEAD:-full}
output=${PW_TRAIN_OUTPUT:-$root/models/plate.traineddata}
build=${PW_BUILD_DIR:-$root/build}
tessdata=/usr/share/tesseract-ocr/5/tessdata

# lstmtraining and tesseract use OpenMP: one thread each, as at run time.
export OMP_THREAD_LIMIT=1

log() { printf '%s train.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

smoke=0
case ${1:-} in
--install)
    packages=(tesseract-ocr libtesseract-dev python3-pil python3-numpy fonts-dejavu-extra fonts-liberation
              fonts-roboto-unhinted fonts-opendin fonts-routed-gothic fonts-urw-base35 fonts-bebas-neue
              fonts-open-sans fonts-noto-core)
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    ;;
--smoke)
    smoke=1
    # Never the shipped model, and a folder of its own unless one is given.
    work=${PW_TRAIN_WORK:-$(mktemp -d /tmp/platewatch-train-smoke.XXXXXX)}
    output=${PW_TRAIN_OUTPUT:-$work/plate-smoke.traineddata}
    ;;
esac

for tool in lstmtraining combine_tessdata "$build/models/train/pw-train-lines"; do
    command -v "$tool" >/dev/null || { echo "train.sh: $tool is missing (build first; --install for the tools)" >&2; exit 1; }
done
base=$data/train/base/fra.traineddata
if [[ ! -f $base ]]; then
    echo "train.sh: $base is missing: the float base model lives in the shared data beside the checkout" >&2
    # 77 is meson's "skipped": the smoke test says why and does not fail where the data is absent.
    ((smoke)) && { echo "train.sh: SKIPPED: the training smoke test needs ../shared/data/train"; exit 77; }
    exit 1
fi

start=$(date +%s)
mkdir -p "$work"/{base,lines,ckpt,manifests}
cd "$work"
lines_tool=$build/models/train/pw-train-lines

# The base model's LSTM network; --continue_from trains it further. With
# PW_TRAIN_CHARSET=base it keeps its own character set (A-Z and 0-9 are in
# it; the reader's whitelist keeps Tesseract to those at run time); with
# plate its output layer is cut down to A-Z, 0-9, space and dash
# (--old_traineddata maps the classes both sets share).
combine_tessdata -e "$base" base/fra.lstm >/dev/null 2>&1
cp "$base" base/fra.traineddata
traineddata=base/fra.traineddata
if [[ $charset == plate ]]; then
    mkdir -p starter
    { echo "ABCDEFGHIJKLMNOPQRSTUVWXYZ"; echo "0123456789"; echo "A-B C"; } > starter/charset.txt
    # combine_lang_model reads a radical-stroke table (for Han scripts) even
    # with a pass-through recoder; a comment line satisfies it.
    echo '# No Han characters: no radicals.' > starter/radical-stroke.txt
    rm -rf starter/plate
    unicharset_extractor --output_unicharset starter/plate.unicharset --norm_mode 1 starter/charset.txt >/dev/null 2>&1
    combine_lang_model --input_unicharset starter/plate.unicharset --script_dir starter \
        --output_dir starter --lang plate --pass_through_recoder >starter/combine.log 2>&1
    traineddata=starter/plate/plate.traineddata
    [[ -s $traineddata ]] || { echo "train.sh: combine_lang_model failed, see $work/starter/combine.log" >&2; exit 1; }
fi

# make_lines NAME MANIFEST [pw-train-lines options...]: training lines of one source, listed in lines/NAME.list.
make_lines() {
    local name=$1 manifest=$2
    shift 2
    rm -rf "lines/$name"
    "$lines_tool" --manifest "$manifest" --out "$work/lines/$name" --preps "$preps" --prefix "$name" "$@" \
        >"lines/$name.list" 2>"lines/$name.log" || { echo "train.sh: pw-train-lines failed, see $work/lines/$name.log" >&2; exit 1; }
    log "$name: $(tail -1 "lines/$name.log" | sed 's/^pw-train-lines: //')"
}

# A folder's labels.csv (image,plate_text) as a manifest of crops (no box).
crops_manifest() { # crops_manifest FOLDER SET > MANIFEST
    echo "image,plate_text,x,y,w,h,country,set"
    tail -n +2 "$1/labels.csv" | awk -F, -v dir="$1" -v set="$2" '{ printf "%s/%s,%s,,,,,XX,%s\n", dir, $1, $2, set }'
}

if ((smoke)); then
    # A handful of plates rendered by synth/, a few iterations: proves the
    # chain (lines, fine-tuning, integer conversion) works end to end.
    python3 "$here/plates.py" "$root/models/formats" 8 7 > manifests/smoke.txt
    rm -rf lines/smoke
    "$lines_tool" --synth-texts manifests/smoke.txt --seed 7 --out "$work/lines/smoke" --preps "$preps" \
        --prefix smoke >lines/smoke.list 2>lines/smoke.log ||
        { echo "train.sh: pw-train-lines failed, see $work/lines/smoke.log" >&2; exit 1; }
    log "smoke: $(tail -1 lines/smoke.log | sed 's/^pw-train-lines: //')"
    train_list=lines/smoke.list eval_list=lines/smoke.list iterations=${PW_TRAIN_ITERATIONS:-20}
else
    plates=$data/plates/manifest.csv
    make_lines photos "$plates" --folds "$folds" --label-box --jitter "$jitter" --seed 2
    make_lines held "$plates" --folds "$eval_folds"
    crops_manifest "$data/train/br-crops" br-crops > manifests/br.csv
    make_lines br manifests/br.csv
    : > lines/corrections.list
    if [ -n "${PW_TRAIN_CORRECTIONS:-}" ]; then
        crops_manifest "$PW_TRAIN_CORRECTIONS" corrections > manifests/corrections.csv
        make_lines corrections manifests/corrections.csv
    fi
    : > lines/synth.list
    if ((synth > 0)); then
        log "rendering $synth synthetic plates"
        /usr/bin/python3 "$here/render.py" --out synth --count "$synth" --seed 1 --formats "$root/models/formats" \
            --fonts-dir "$data/train/fonts" --glyphs "$data/train/glyphs" 2>synth.log
        crops_manifest "$work/synth" synth > manifests/synth.csv
        make_lines synth manifests/synth.csv
    fi
    # Plates rendered by synth/ (the project's own renderer, its Hershey
    # faces) in street-like scenes, found by the localiser: what the test
    # suites, the sample recording and pw-synth drive show the model.
    python3 "$here/plates.py" "$root/models/formats" "$scenes" 11 > manifests/scenes.txt
    rm -rf lines/scenes
    "$lines_tool" --synth-texts manifests/scenes.txt --seed 11 --out "$work/lines/scenes" --preps "$preps" \
        --prefix scenes >lines/scenes.list 2>lines/scenes.log ||
        { echo "train.sh: pw-train-lines failed, see $work/lines/scenes.log" >&2; exit 1; }
    log "scenes: $(tail -1 lines/scenes.log | sed 's/^pw-train-lines: //')"
    cat lines/scenes.list >> lines/synth.list
    # Real lines are listed several times: they are fewer than the synthetic
    # ones and they are what the model must read.
    : > lines/train.list
    for ((k = 0; k < real_weight; k++)); do cat lines/photos.list lines/br.list lines/corrections.list >> lines/train.list; done
    cat lines/synth.list >> lines/train.list
    # lstmtraining reads its list in order; a fixed shuffle mixes the sources.
    /usr/bin/python3 -c 'import random,sys; l=open(sys.argv[1]).read().split(); random.Random(5).shuffle(l); print("\n".join(l))' \
        lines/train.list > lines/train.shuf && mv lines/train.shuf lines/train.list
    train_list=lines/train.list eval_list=lines/held.list
fi
log "$(wc -l < "$train_list") training lines, $(wc -l < "$eval_list") evaluation lines, $(($(date +%s) - start)) s so far"

# Fine-tuning. The base knows Latin print; a few thousand iterations teach
# it plate lettering. lstmtraining reports the held-out error every few
# hundred iterations in ckpt/train.log (progress: tail -f it).
rm -f ckpt/plate*
old=()
[[ $charset == plate ]] && old=(--old_traineddata base/fra.traineddata)
if [[ $head != full ]]; then
    [[ $head =~ ^([0-9]+):(\[.*\])$ ]] || { echo "train.sh: PW_TRAIN_HEAD is INDEX:[SPEC], not $head" >&2; exit 2; }
    old+=(--append_index "${BASH_REMATCH[1]}" --net_spec "${BASH_REMATCH[2]}")
fi
lstmtraining --continue_from base/fra.lstm "${old[@]}" --traineddata "$traineddata" --model_output ckpt/plate \
    --learning_rate "$rate" --train_listfile "$train_list" --eval_listfile "$eval_list" \
    --max_iterations "$iterations" --target_error_rate 0.001 --debug_interval 0 >ckpt/train.log 2>&1 || {
    [[ -s ckpt/plate_checkpoint ]] || { echo "train.sh: lstmtraining failed, see $work/ckpt/train.log" >&2; exit 1; }
    log "lstmtraining exited with an error after its last checkpoint (see ckpt/train.log)"
}
log "trained: $(grep -E 'At iteration' ckpt/train.log | tail -1)"

# The last checkpoint as an integer model: several times faster to read with.
lstmtraining --stop_training --convert_to_int --continue_from ckpt/plate_checkpoint \
    --traineddata "$traineddata" --model_output "$work/plate.traineddata" >ckpt/stop.log 2>&1
combine_tessdata -l "$work/plate.traineddata" 2>&1 | grep -q 'int_mode=1' ||
    { echo "train.sh: the converted model is not an integer model (see ckpt/stop.log)" >&2; exit 1; }
cp "$work/plate.traineddata" "$output"
log "wrote $output ($(stat -c %s "$output") bytes) after $(($(date +%s) - start)) s"
if ((smoke)); then
    first=$(head -n 1 "$train_list")
    read_back=$(tesseract "${first%.lstmf}.png" - --psm 7 --tessdata-dir "$(dirname "$output")" \
        -l "$(basename "$output" .traineddata)" 2>&1) ||
        { echo "train.sh: the smoke model cannot be read with: $read_back" >&2; exit 1; }
    log "smoke: the model loads; it reads \"$(echo $read_back)\" where \"$(cat "${first%.lstmf}.gt.txt")\" is printed"
    [[ -n ${PW_TRAIN_WORK:-} ]] || rm -rf "$work"
fi
