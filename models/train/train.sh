#!/usr/bin/env bash
# train.sh - trains models/plate.traineddata, a small Tesseract LSTM model for
# licence plates, from plate texts rendered with text2image.
#
#   models/train/train.sh [--install]          # everything, about an hour on one core
#
# Environment (all optional):
#   PW_TRAIN_WORK        working folder (default /tmp/platewatch-train); it is
#                        large (hundreds of MB) and never part of the repository
#   PW_TRAIN_ITERATIONS  lstmtraining iterations (default 50000)
#   PW_TRAIN_LINES       plate lines rendered per font and variant (default 600)
#   PW_TRAIN_NET         network specification (default below)
#   PW_TRAIN_OUTPUT      where the final model goes (default models/plate.traineddata)
#
# The steps are: random plate texts from models/formats/*.fmt (plates.py,
# fixed seeds), a unicharset of A-Z, 0-9, space and dash, a starter
# traineddata from combine_lang_model, rendered and degraded lines from
# text2image in several plate-like fonts, lstmtraining from scratch (the
# Debian eng model is an integer "fast" model that cannot be continued), and
# conversion of the final checkpoint to an integer model for speed. See
# docs/ocr-training.md for the settings and the figures of the shipped model.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${PW_TRAIN_WORK:-/tmp/platewatch-train}
iterations=${PW_TRAIN_ITERATIONS:-50000}
lines=${PW_TRAIN_LINES:-600}
output=${PW_TRAIN_OUTPUT:-$root/models/plate.traineddata}
# A small network: one convolution, a y-summarising LSTM, then forward,
# reverse and forward LSTMs along x. It is the shape of Tesseract's own
# models, narrowed because 38 characters need far less than a language.
net=${PW_TRAIN_NET:-'[1,36,0,1 Ct3,3,16 Mp3,3 Lfys48 Lfx96 Lrx96 Lfx192 O1c###]'}

# lstmtraining and tesseract use OpenMP; one thread keeps the training to one
# core on the shared machines and makes runs repeatable.
export OMP_THREAD_LIMIT=1

# Fonts from Debian packages that resemble plate lettering: DIN 1451 (Open
# DIN), condensed and narrow grotesques, routed signage lettering (US plates)
# and bold sans faces. Names as text2image --list_available_fonts gives them.
fonts=(
    "OSP-DIN Medium Condensed"
    "DejaVu Sans Bold Semi-Condensed"
    "DejaVu Sans Semi-Condensed"
    "DejaVu Sans Bold"
    "DejaVu Sans Mono Bold"
    "Liberation Sans Narrow Bold Condensed"
    "Liberation Sans Narrow Condensed"
    "Liberation Sans Bold"
    "Nimbus Sans Narrow Bold Semi-Condensed"
    "Nimbus Sans Narrow Semi-Condensed"
    "Nimbus Sans Bold"
    "Roboto Condensed, Bold"
    "Roboto Condensed, Medium"
    "Roboto Condensed"
    "Routed Gothic"
    "Routed Gothic Narrow Condensed"
    "Routed Gothic Wide"
    "FreeSans Semi-Bold"
    "B612 Bold"
    "B612 Mono Bold"
)
packages=(tesseract-ocr libtesseract-dev python3 fonts-dejavu-core fonts-dejavu-extra fonts-opendin
          fonts-routed-gothic fonts-roboto-unhinted fonts-urw-base35 fonts-liberation
          fonts-freefont-ttf fonts-b612)

log() { printf '%s train.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The training tools and fonts are not needed to run platewatch, so they are
# installed here (with --install) rather than listed in scripts/packages.txt.
if [[ ${1:-} == --install ]]; then
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -qq
        apt-get install -y --no-install-recommends "${missing[@]}"
    fi
fi
for tool in text2image tesseract unicharset_extractor combine_lang_model lstmtraining python3; do
    command -v "$tool" >/dev/null || { echo "train.sh: $tool is missing (run with --install)" >&2; exit 1; }
done

start=$(date +%s)
mkdir -p "$work"/{text,lines,eval,starter,ckpt}
cd "$work"

# 1. Plate texts. Training and evaluation use different seeds so that the
# evaluation lines lstmtraining reports on are unseen texts.
nfonts=${#fonts[@]}
python3 "$here/plates.py" "$root/models/formats" $((nfonts * 4 * lines)) 1 > text/train.txt
python3 "$here/plates.py" "$root/models/formats" $((nfonts * 40)) 2 > text/eval.txt
log "texts: $(wc -l < text/train.txt) training, $(wc -l < text/eval.txt) evaluation lines"

# 2. Unicharset and starter traineddata. The character set is fixed (the
# reader whitelists A-Z, 0-9 and space; dashes are printed on plates and
# must be recognised as something), not taken from the random texts, so that
# every run has the same output layer. The recoder is a pass-through: with
# 38 Latin characters there is nothing to compress, and it needs no langdata.
{ echo "ABCDEFGHIJKLMNOPQRSTUVWXYZ"; echo "0123456789"; echo "A-B C"; } > text/charset.txt
# combine_lang_model insists on reading a radical-stroke table (for Han
# scripts) even with a pass-through recoder; a comment line satisfies it.
echo '# No Han characters: no radicals.' > starter/radical-stroke.txt
rm -rf starter/plate
unicharset_extractor --output_unicharset starter/plate.unicharset --norm_mode 1 text/charset.txt >/dev/null 2>&1
combine_lang_model --input_unicharset starter/plate.unicharset --script_dir starter \
    --output_dir starter --lang plate --pass_through_recoder >starter/combine.log 2>&1
starter=starter/plate/plate.traineddata
[[ -s $starter ]] || { echo "train.sh: combine_lang_model failed, see $work/starter/combine.log" >&2; exit 1; }

# 3. Rendered lines. Every font is rendered in four variants that differ in
# resolution (real characters are 14-40 px high, so low resolutions give the
# blur of an upscaled small plate), stroke weight (exposure: thin or bloated
# print after binarisation), letter spacing and noise. Three of the four are
# distorted (blur and noise): the reader hands Tesseract grey, soft-edged
# lines, and a model trained on crisp renderings alone reads the faint
# middle strokes of M and W as H and U. text2image seeds its
# own random generator with a constant, so the images are reproducible.
render() { # render TEXTFILE OUTBASE FONT VARIANT
    local text=$1 base=$2 font=$3 v=$4 res exp spacing pt extra=()
    case $v in
        0) res=300 exp=0 spacing=0.05 pt=12 ;;
        1) res=150 exp=1 spacing=0.15 pt=12 extra=(--distort_image --invert=false) ;;
        2) res=80 exp=-1 spacing=0.0 pt=14 extra=(--distort_image --invert=false) ;;
        3) res=100 exp=2 spacing=0.3 pt=12 extra=(--distort_image --invert=false) ;;
    esac
    text2image --text "$text" --outputbase "$base" --font "$font" --fonts_dir /usr/share/fonts \
        --ptsize "$pt" --resolution "$res" --exposure "$exp" --char_spacing "$spacing" \
        --xsize $((res * 4)) --ysize $((res * 12)) --margin $((res / 6)) --leading $((res / 10)) \
        "${extra[@]}" >"$base.t2i.log" 2>&1
    # lstm.train cuts the page into its lines using the box file and writes
    # them, with their texts, to one .lstmf file.
    # A page set occasionally fails here ("Deserialize header failed", seen
    # with --distort_image); it is left out rather than stopping the run.
    if ! tesseract "$base.tif" "$base" --psm 6 lstm.train >"$base.tess.log" 2>&1; then
        log "skipped $base: tesseract lstm.train failed, see $base.tess.log"
        rm -f "$base.lstmf"
    fi
    rm -f "$base.tif"
}
: > lines/list.txt
: > eval/list.txt
for ((f = 0; f < nfonts; f++)); do
    tag=$(printf 'f%02d' "$f")
    for v in 0 1 2 3; do
        chunk=$(((f * 4 + v) * lines))
        sed -n "$((chunk + 1)),$((chunk + lines))p" text/train.txt > "lines/$tag.v$v.txt"
        render "lines/$tag.v$v.txt" "lines/$tag.v$v" "${fonts[$f]}" "$v"
        [[ -s lines/$tag.v$v.lstmf ]] && echo "$work/lines/$tag.v$v.lstmf" >> lines/list.txt
    done
    # Evaluation: 40 unseen texts per font, in the low-resolution variant
    # closest to the hard dev crops.
    sed -n "$((f * 40 + 1)),$((f * 40 + 40))p" text/eval.txt > "eval/$tag.txt"
    render "eval/$tag.txt" "eval/$tag" "${fonts[$f]}" 1
    [[ -s eval/$tag.lstmf ]] && echo "$work/eval/$tag.lstmf" >> eval/list.txt
done
log "rendered $(wc -l < lines/list.txt) training and $(wc -l < eval/list.txt) evaluation pages in $(($(date +%s) - start)) s"

# 4. Training from scratch. lstmtraining shuffles its samples with a fixed
# seed; the learning rate is the one tesstrain uses for training from scratch.
# The default target error (1 %) would stop too early on these clean lines.
# The output layer has one class per unicharset entry (its first line is the
# count); lstmtraining does not fill in the ### itself.
rm -f ckpt/*
classes=$(head -1 starter/plate/plate.unicharset)
lstmtraining --traineddata "$starter" --net_spec "${net//###/$classes}" --model_output ckpt/plate \
    --learning_rate 0.002 --target_error_rate 0.002 --train_listfile lines/list.txt --eval_listfile eval/list.txt \
    --max_iterations "$iterations" --debug_interval 0 >ckpt/train.log 2>&1 || {
    # lstmtraining's background evaluation thread can abort at exit on a
    # distorted sample it cannot decode ("pixReadMem: Unknown format") after
    # the last checkpoint has been written; only a missing checkpoint is fatal.
    [[ -s ckpt/plate_checkpoint ]] || { echo "train.sh: lstmtraining failed, see $work/ckpt/train.log" >&2; exit 1; }
    log "lstmtraining exited with an error after its last checkpoint (see ckpt/train.log)"
}
log "trained $iterations iterations in $(($(date +%s) - start)) s: $(grep -E 'At iteration|Finished' ckpt/train.log | tail -1)"

# 5. The final checkpoint as an integer traineddata: several times faster
# than the float model at the same accuracy within a fraction of a point.
lstmtraining --stop_training --convert_to_int --continue_from ckpt/plate_checkpoint \
    --traineddata "$starter" --model_output "$work/plate.traineddata" >ckpt/stop.log 2>&1
lstmeval --model "$work/plate.traineddata" --eval_listfile eval/list.txt >ckpt/eval.log 2>&1 || true
log "evaluation on rendered lines: $(grep -E 'BCER|Char error' ckpt/eval.log | tail -1)"
cp "$work/plate.traineddata" "$output"
log "wrote $output ($(stat -c %s "$output") bytes) after $(($(date +%s) - start)) s"
