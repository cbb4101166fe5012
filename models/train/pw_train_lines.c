/*
 * pw_train_lines.c - pw-train-lines: turns labelled plate images into
 * Tesseract training lines made exactly as the reader makes them at run
 * time, so that the plate model learns from what it will be asked to read.
 *
 *   pw-train-lines --manifest FILE --out DIR [--folds 1,2,3,4] [--sets eu,us]
 *                  [--preps adaptive,otsu,clahe,plain] [--label-box] [--jitter N]
 *                  [--seed N] [--prefix P]
 *   pw-train-lines --synth-texts FILE --seed N --out DIR [...]
 *
 * FILE is in the dev set's manifest format (image,plate_text,x,y,w,h,
 * country,set). A row with a box is a photograph: the localiser runs on it
 * and its candidate that best covers the labelled box (IoU > 0.4) is the
 * crop; with --label-box the labelled box itself, cut as pw-ocr-eval cuts
 * it, is a second crop. A row without a box is a crop already, scaled to
 * the localiser's crop height as the reader scales such images. Each crop
 * goes through the OCR's own preparations (pw_ocr_prepare_line), and every
 * line image is written as DIR/P<n>.<prep>.png with its text (.gt.txt), a
 * WordStr box file (.box) and the .lstmf sample lstmtraining reads, made in
 * this process with Tesseract's lstm.train settings. The .lstmf paths are
 * printed on stdout, one a line, for lstmtraining's list files.
 *
 * With --synth-texts, each line of FILE (a plate text as printed) is
 * rendered by synth/ in a street-like scene of random style and found by
 * the localiser like a photograph's plate.
 *
 * --jitter N adds N variations of each labelled plate (a photograph's box
 * or a whole crop): its corners moved at random, as a localiser's box and
 * the camera's angle vary, then blurred or cut to a lower resolution at
 * random. A few hundred real photographs show the model a few hundred
 * crops; their variations show it the same real glyphs as reading meets
 * them. The variations depend only on --seed and the row's position.
 *
 * --folds keeps only the images whose sha1 % 5 is listed, so that a model
 * can be trained on some folds and measured on the others.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <tesseract/capi.h>

#include "cvshim.h"
#include "detect.h"
#include "manifest.h"
#include "ocr.h"
#include "pw_build_config.h"
#include "synth.h"

/* IoU above which a localiser candidate counts as the labelled plate (as in bench images). */
#define MATCH_IOU 0.4

typedef struct {
    char *manifest, *out, *folds, *sets, *preps, *prefix, *tessdata, *synth_texts;
    int label_box, seed, jitter;
} options;

typedef struct {
    options opt;
    int preps[PW_OCR_N_PREPS];
    size_t n_preps;
    pw_detector *det;
    TessBaseAPI *api;   /* set up with lstm.train: writes one .lstmf per line */
    TessBaseAPI *layout; /* set up as the reader's engine: finds the text line as reading does */
    unsigned serial;
    unsigned rows, located, crops, lines, failed;
    GRand *jitter_rng;  /* seeded by --seed: the variations are the same on every run */
} tool;

static const char *const PREP_NAMES[PW_OCR_N_PREPS] = {"adaptive", "otsu", "clahe", "plain"};

static int parse_preps(tool *t, pw_err *err)
{
    gchar **names = g_strsplit(t->opt.preps ? t->opt.preps : "adaptive", ",", -1);
    int rc = 0;
    for (gchar **n = names; *n && rc == 0; n++) {
        int found = -1;
        for (int p = 0; p < PW_OCR_N_PREPS; p++)
            if (strcmp(*n, PREP_NAMES[p]) == 0)
                found = p;
        if (found < 0)
            rc = pw_err_set(err, -EINVAL, "--preps: unknown preparation \"%s\" (adaptive, otsu, clahe, plain)", *n);
        else
            t->preps[t->n_preps++] = found;
    }
    g_strfreev(names);
    return rc;
}

static int start_tesseract(tool *t, pw_err *err)
{
    char *configs[] = {"lstm.train"};
    t->api = TessBaseAPICreate();
    if (TessBaseAPIInit1(t->api, t->opt.tessdata, "eng", OEM_LSTM_ONLY, configs, 1) != 0)
        return pw_err_set(err, PW_EOCRINIT, "%s/eng.traineddata with configs/lstm.train: Tesseract could not "
                          "load them", t->opt.tessdata);
    TessBaseAPISetPageSegMode(t->api, PSM_RAW_LINE);
    TessBaseAPISetVariable(t->api, "debug_file", "/dev/null");
    t->layout = TessBaseAPICreate();
    if (TessBaseAPIInit3(t->layout, t->opt.tessdata, "eng") != 0)
        return pw_err_set(err, PW_EOCRINIT, "%s/eng.traineddata: Tesseract could not load it", t->opt.tessdata);
    TessBaseAPISetPageSegMode(t->layout, PSM_SINGLE_LINE);
    TessBaseAPISetVariable(t->layout, "user_defined_dpi", "300");
    TessBaseAPISetVariable(t->layout, "debug_file", "/dev/null");
    return 0;
}

/*
 * The text line's box (left, bottom, right, top, origin bottom-left as box
 * files have it) as Tesseract finds it when reading this image in the
 * reader's page mode: the network then learns from the line cut out as it
 * is cut at run time, not from the whole image with its margins. The whole
 * image when no line is found.
 */
static void line_box(tool *t, const pw_plane *line, int box[4])
{
    int l = 0, top = 0, r = line->width, b = line->height;
    TessBaseAPISetImage(t->layout, line->data, line->width, line->height, 1, line->stride);
    TessPageIterator *it = TessBaseAPIAnalyseLayout(t->layout);
    if (it) {
        int x0, y0, x1, y1;
        if (TessPageIteratorBoundingBox(it, RIL_TEXTLINE, &x0, &y0, &x1, &y1) && x1 > x0 && y1 > y0)
            l = x0, top = y0, r = x1, b = y1;
        TessPageIteratorDelete(it);
    }
    TessBaseAPIClear(t->layout);
    box[0] = l, box[1] = line->height - b, box[2] = r, box[3] = line->height - top;
}

/* The box file lstm.train reads: one WordStr box over the text line holding its text. */
static int write_box(const char *path, const char *text, const int b[4], pw_err *err)
{
    gchar *box = g_strdup_printf("WordStr %d %d %d %d 0 #%s\n\t %d %d %d %d 0\n", b[0], b[1], b[2], b[3], text,
                                 b[2], b[1], b[2] + 1, b[3]);
    GError *gerr = NULL;
    int rc = g_file_set_contents(path, box, -1, &gerr) ? 0 : pw_err_set(err, -EIO, "%s", gerr->message);
    g_clear_error(&gerr);
    g_free(box);
    return rc;
}

/* Writes one line image with its text, box and .lstmf; prints the .lstmf path. */
static int write_line(tool *t, const pw_plane *line, const char *text, int prep, pw_err *err)
{
    gchar *base = g_strdup_printf("%s/%s%06u.%s", t->opt.out, t->opt.prefix, t->serial, PREP_NAMES[prep]);
    gchar *png = g_strconcat(base, ".png", NULL), *box = g_strconcat(base, ".box", NULL);
    gchar *gt = g_strconcat(base, ".gt.txt", NULL), *lstmf = g_strconcat(base, ".lstmf", NULL);
    gchar *gt_text = g_strconcat(text, "\n", NULL);
    int rc = pw_cv_write_file(line, png, err);
    int b[4];
    line_box(t, line, b);
    if (rc == 0)
        rc = write_box(box, text, b, err);
    if (rc == 0 && !g_file_set_contents(gt, gt_text, -1, NULL))
        rc = pw_err_set(err, -EIO, "%s: cannot be written", gt);
    if (rc == 0) {
        TessBaseAPISetInputName(t->api, png);
        TessBaseAPISetOutputName(t->api, base);
        TessBaseAPISetImage(t->api, line->data, line->width, line->height, 1, line->stride);
        if (TessBaseAPIRecognize(t->api, NULL) != 0 || !g_file_test(lstmf, G_FILE_TEST_IS_REGULAR))
            rc = pw_err_set(err, PW_EOCR, "%s: Tesseract made no training sample", png);
        TessBaseAPIClear(t->api);
    }
    if (rc == 0) {
        printf("%s\n", lstmf);
        t->lines++;
    }
    g_free(base), g_free(png), g_free(box), g_free(gt), g_free(lstmf), g_free(gt_text);
    return rc;
}

/* Every configured preparation of one crop, written as training lines. */
static void write_crop(tool *t, const pw_plane *crop, const char *text)
{
    t->crops++;
    t->serial++;
    for (size_t i = 0; i < t->n_preps; i++) {
        pw_image *line = NULL;
        pw_err err = {0};
        int rc = pw_ocr_prepare_line(crop, t->preps[i], &line);
        if (rc == 0) {
            pw_plane lp = pw_image_plane(line);
            rc = write_line(t, &lp, text, t->preps[i], &err);
        }
        if (rc < 0 && rc != PW_ENOPLATE) {
            t->failed++;
            g_printerr("pw-train-lines: %s (%s): %s\n", text, PREP_NAMES[t->preps[i]],
                       err.msg[0] ? err.msg : pw_strerror(rc));
        }
        pw_image_destroy(&line);
    }
}

/* The labelled box with a margin, scaled to the crop height (as pw-ocr-eval cuts it). */
static int label_crop(const pw_plane *g, pw_rect b, int crop_height, pw_image **out)
{
    int mx = b.w / 12 + 1, my = b.h / 6 + 1;
    b.x -= mx, b.y -= my, b.w += 2 * mx, b.h += 2 * my;
    pw_rect clipped = pw_rect_intersect(b, (pw_rect){0, 0, g->width, g->height});
    if (clipped.w < 4 || clipped.h < 4)
        return PW_ENOPLATE;
    pw_plane src = *g;
    src.data = pw_plane_at(g, clipped.x, clipped.y);
    src.width = clipped.w, src.height = clipped.h;
    int w = MAX(1, (int)((double)clipped.w * crop_height / clipped.h + 0.5));
    int rc = pw_image_new(w, crop_height, 1, out);
    if (rc < 0)
        return rc;
    pw_plane dst = pw_image_plane(*out);
    return pw_cv_resize(&src, &dst);
}

/* Largest corner move of a variation, in parts of the box's width and height. */
#define JITTER_X 0.06
#define JITTER_Y 0.15

/* One variation of box b in g: corners moved, warped to crop_height rows, degraded. */
static int jitter_crop(const pw_plane *g, pw_rect b, GRand *rng, int crop_height, pw_image **out)
{
    const float corner[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
    float q[8];
    for (int i = 0; i < 4; i++) {
        /* Outward moves are likelier than inward ones: a box that cuts a character teaches nothing. */
        double dx = g_rand_double_range(rng, -0.4, 1.0) * JITTER_X * b.w;
        double dy = g_rand_double_range(rng, -0.4, 1.0) * JITTER_Y * b.h;
        q[2 * i] = (float)(b.x + corner[i][0] * b.w + (corner[i][0] > 0 ? dx : -dx));
        q[2 * i + 1] = (float)(b.y + corner[i][1] * b.h + (corner[i][1] > 0 ? dy : -dy));
        q[2 * i] = CLAMP(q[2 * i], 0.0f, (float)(g->width - 1));
        q[2 * i + 1] = CLAMP(q[2 * i + 1], 0.0f, (float)(g->height - 1));
    }
    double qw = (q[2] - q[0] + q[4] - q[6]) / 2, qh = (q[7] - q[1] + q[5] - q[3]) / 2;
    if (qw < 4 || qh < 4)
        return PW_ENOPLATE;
    int w = MAX(1, (int)(qw * crop_height / qh + 0.5));
    int rc = pw_image_new(w, crop_height, 1, out);
    pw_plane dst = rc == 0 ? pw_image_plane(*out) : (pw_plane){0};
    if (rc == 0)
        rc = pw_cv_warp_quad(g, q, &dst);
    double low = g_rand_double(rng);
    if (rc == 0 && low < 0.4) {
        /* A plate seen from further away: fewer rows of detail, scaled back up as the reader scales it. */
        pw_image *small = NULL;
        int sh = g_rand_int_range(rng, crop_height / 3, crop_height * 3 / 4);
        rc = pw_image_new(MAX(1, w * sh / crop_height), sh, 1, &small);
        pw_plane sp = rc == 0 ? pw_image_plane(small) : (pw_plane){0};
        if (rc == 0)
            rc = pw_cv_resize(&dst, &sp);
        if (rc == 0)
            rc = pw_cv_resize(&sp, &dst);
        pw_image_destroy(&small);
    } else if (rc == 0 && low < 0.7) {
        rc = pw_cv_gaussian_blur(&dst, g_rand_double_range(rng, 0.5, 1.5));
    }
    if (rc < 0)
        pw_image_destroy(out);
    return rc;
}

static void jitter_crops(tool *t, const pw_plane *g, pw_rect b, const char *text)
{
    for (int k = 0; k < t->opt.jitter; k++) {
        pw_image *crop = NULL;
        if (jitter_crop(g, b, t->jitter_rng, 64, &crop) == 0) {
            pw_plane cp = pw_image_plane(crop);
            write_crop(t, &cp, text);
        }
        pw_image_destroy(&crop);
    }
}

static void photo_crops(tool *t, const pw_plane *g, const pw_manifest_row *row)
{
    const pw_candidate *cands = NULL;
    size_t n = 0;
    if (pw_detector_run(t->det, g, &cands, &n) == 0) {
        size_t best = n;
        double best_iou = MATCH_IOU;
        for (size_t i = 0; i < n; i++) {
            double iou = pw_rect_iou(cands[i].box, row->box);
            if (iou > best_iou)
                best = i, best_iou = iou;
        }
        if (best < n) {
            t->located++;
            write_crop(t, &cands[best].crop, row->plate);
        }
    }
    if (t->opt.label_box) {
        pw_image *crop = NULL;
        if (label_crop(g, row->box, 64, &crop) == 0) {
            pw_plane cp = pw_image_plane(crop);
            write_crop(t, &cp, row->plate);
        }
        pw_image_destroy(&crop);
    }
    jitter_crops(t, g, row->box, row->plate);
}

static void read_row(tool *t, const pw_manifest_row *row)
{
    gchar *bytes = NULL;
    gsize len = 0;
    pw_image *grey = NULL;
    pw_err err = {0};
    t->rows++;
    if (!g_file_get_contents(row->image, &bytes, &len, NULL) ||
        pw_cv_decode((const uint8_t *)bytes, len, &grey, NULL, &err) < 0) {
        g_printerr("pw-train-lines: %s: cannot be decoded%s%s\n", row->image, err.msg[0] ? ": " : "", err.msg);
        g_free(bytes);
        return;
    }
    g_free(bytes);
    pw_plane g = pw_image_plane(grey);
    if (row->has_box) {
        photo_crops(t, &g, row);
    } else {
        /* label_crop's margin falls outside a whole crop and is clipped: the image is only scaled. */
        pw_image *crop = NULL;
        if (label_crop(&g, (pw_rect){0, 0, g.width, g.height}, 64, &crop) == 0) {
            pw_plane cp = pw_image_plane(crop);
            write_crop(t, &cp, row->plate);
        }
        pw_image_destroy(&crop);
        jitter_crops(t, &g, (pw_rect){0, 0, g.width, g.height}, row->plate);
    }
    pw_image_destroy(&grey);
}

/* The axis-aligned box of a plate's corners. */
static pw_rect corners_box(const float (*c)[2])
{
    float x0 = c[0][0], y0 = c[0][1], x1 = x0, y1 = y0;
    for (int i = 1; i < 4; i++) {
        x0 = MIN(x0, c[i][0]), x1 = MAX(x1, c[i][0]);
        y0 = MIN(y0, c[i][1]), y1 = MAX(y1, c[i][1]);
    }
    return (pw_rect){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
}

/*
 * One plate rendered by synth/ in a street-like scene with a random style
 * (its Hershey fonts, size, contrast, polarity, tilt, blur and noise), for
 * the localiser to find as it finds plates at run time.
 */
static void synth_scene_row(tool *t, const char *printed, GRand *rng)
{
    pw_scene_plate plate = {.cx = (float)g_rand_double_range(rng, 300, 980),
                            .cy = (float)g_rand_double_range(rng, 200, 560),
                            .tilt_deg = (float)g_rand_double_range(rng, -8, 8)};
    pw_plate_style_defaults(&plate.style, printed, g_rand_int_range(rng, 14, 44));
    plate.style.font = (pw_font)g_rand_int_range(rng, 0, 3);
    plate.style.dark_on_light = g_rand_double(rng) < 0.85;
    int hi = g_rand_int_range(rng, 150, 250), lo = g_rand_int_range(rng, 0, 90);
    plate.style.plate_value = plate.style.dark_on_light ? hi : lo;
    plate.style.text_value = plate.style.dark_on_light ? lo : hi;
    plate.style.border = g_rand_boolean(rng);
    plate.style.two_rows = strchr(printed, ' ') && g_rand_double(rng) < 0.1;
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = g_rand_int(rng), .clutter = g_rand_int_range(rng, 0, 60),
                          .blur_sigma = g_rand_double_range(rng, 0, 1.6),
                          .noise_sigma = g_rand_double_range(rng, 0, 8), .vehicle = g_rand_boolean(rng),
                          .brightness = g_rand_int_range(rng, -40, 40)};
    pw_image *scene = NULL;
    float corners[1][4][2];
    char label[PW_PLATE_MAX + 1];
    pw_plate_chars(printed, label, sizeof label);
    t->rows++;
    if (!label[0] || pw_synth_scene(&spec, &plate, 1, &scene, corners) < 0)
        return;
    pw_plane g = pw_image_plane(scene);
    pw_manifest_row row = {.plate = label, .has_box = 1, .box = corners_box(corners[0])};
    photo_crops(t, &g, &row);
    pw_image_destroy(&scene);
}

/* Every line of the texts file (as printed, separators included) as a rendered scene. */
static int synth_rows(tool *t, pw_err *err)
{
    gchar *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(t->opt.synth_texts, &text, NULL, &gerr)) {
        int rc = pw_err_set(err, -EIO, "%s", gerr->message);
        g_error_free(gerr);
        return rc;
    }
    gchar **lines = g_strsplit(text, "\n", -1);
    GRand *rng = g_rand_new_with_seed((guint32)t->opt.seed);
    guint n = g_strv_length(lines);
    for (guint i = 0; i < n; i++) {
        if (lines[i][0])
            synth_scene_row(t, lines[i], rng);
        if ((i + 1) % 500 == 0)
            g_printerr("pw-train-lines: %u/%u rendered plates, %u lines\n", i + 1, n, t->lines);
    }
    g_rand_free(rng);
    g_strfreev(lines);
    g_free(text);
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    GOptionEntry entries[] = {
        {"manifest", 'm', 0, G_OPTION_ARG_FILENAME, &o->manifest, "labelled images (manifest.csv format)", "FILE"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &o->out, "folder for the line images and samples", "DIR"},
        {"folds", 0, 0, G_OPTION_ARG_STRING, &o->folds, "only images with sha1 % 5 in this list", "0,1,.."},
        {"sets", 0, 0, G_OPTION_ARG_STRING, &o->sets, "only these sets", "eu,us,.."},
        {"preps", 0, 0, G_OPTION_ARG_STRING, &o->preps, "preparations to write (default adaptive)", "LIST"},
        {"label-box", 0, 0, G_OPTION_ARG_NONE, &o->label_box, "also write the labelled box's crop", NULL},
        {"prefix", 0, 0, G_OPTION_ARG_STRING, &o->prefix, "file name prefix", "P"},
        {"synth-texts", 0, 0, G_OPTION_ARG_FILENAME, &o->synth_texts,
         "instead of a manifest: render each text of FILE in a scene (synth/)", "FILE"},
        {"seed", 0, 0, G_OPTION_ARG_INT, &o->seed, "seed of the rendered scenes' styles and of the variations",
         "N"},
        {"jitter", 0, 0, G_OPTION_ARG_INT, &o->jitter, "also write N variations of each labelled plate", "N"},
        {"tessdata", 0, 0, G_OPTION_ARG_FILENAME, &o->tessdata, "folder with eng.traineddata and configs/",
         "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- plate training lines, prepared as the reader prepares them");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    int ok = g_option_context_parse(ctx, &argc, &argv, &gerr);
    g_option_context_free(ctx);
    if (!ok) {
        g_printerr("pw-train-lines: %s\n", gerr->message);
        g_error_free(gerr);
        return -EINVAL;
    }
    if ((!o->manifest == !o->synth_texts) || !o->out) {
        g_printerr("pw-train-lines: --out and one of --manifest and --synth-texts are required\n");
        return -EINVAL;
    }
    if (o->jitter < 0 || o->jitter > 100) {
        g_printerr("pw-train-lines: --jitter %d: give 0 to 100 variations a plate\n", o->jitter);
        return -EINVAL;
    }
    if (!o->prefix)
        o->prefix = g_strdup("l");
    if (!o->tessdata)
        o->tessdata = g_strdup(PW_TESSDATA_DIR);
    return 0;
}

static int run(tool *t, pw_err *err)
{
    pw_manifest *m = NULL;
    int rc = parse_preps(t, err);
    if (rc == 0 && t->opt.manifest)
        rc = pw_manifest_load(t->opt.manifest, &m, err);
    if (rc == 0 && m)
        pw_manifest_filter_sets(m, t->opt.sets);
    if (rc == 0 && m)
        rc = pw_manifest_filter_folds(m, t->opt.folds, err);
    pw_detect_config dcfg;
    pw_detect_config_defaults(&dcfg);
    if (rc == 0)
        rc = pw_detector_new(&dcfg, &t->det, err);
    if (rc == 0 && g_mkdir_with_parents(t->opt.out, 0755) != 0)
        rc = pw_err_set(err, -errno, "%s: %s", t->opt.out, g_strerror(errno));
    if (rc == 0)
        rc = start_tesseract(t, err);
    if (rc == 0 && t->opt.synth_texts)
        rc = synth_rows(t, err);
    size_t n = rc == 0 && m ? pw_manifest_count(m) : 0;
    for (size_t i = 0; i < n; i++) {
        read_row(t, pw_manifest_row_at(m, i));
        if ((i + 1) % 100 == 0 || i + 1 == n)
            g_printerr("pw-train-lines: %zu/%zu images, %u lines\n", i + 1, n, t->lines);
    }
    pw_manifest_destroy(&m);
    return rc;
}

int main(int argc, char **argv)
{
    tool t = {0};
    pw_err err = {0};
    int rc = parse_options(argc, argv, &t.opt);
    t.jitter_rng = g_rand_new_with_seed((guint32)t.opt.seed);
    if (rc == 0)
        rc = run(&t, &err);
    if (rc < 0 && err.msg[0])
        g_printerr("pw-train-lines: %s\n", err.msg);
    else if (rc == 0)
        g_printerr("pw-train-lines: %u images, %u located by the localiser, %u crops, %u lines, %u failed\n",
                   t.rows, t.located, t.crops, t.lines, t.failed);
    for (TessBaseAPI **api = (TessBaseAPI *[]){t.api, t.layout}, **end = api + 2; api < end; api++)
        if (*api) {
            TessBaseAPIEnd(*api);
            TessBaseAPIDelete(*api);
        }
    pw_detector_destroy(&t.det);
    g_rand_free(t.jitter_rng);
    g_free(t.opt.manifest), g_free(t.opt.out), g_free(t.opt.folds), g_free(t.opt.sets);
    g_free(t.opt.preps), g_free(t.opt.prefix), g_free(t.opt.tessdata), g_free(t.opt.synth_texts);
    return rc < 0 || t.failed ? 1 : 0;
}
