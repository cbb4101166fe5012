/*
 * ocr.c - reads a plate crop: prepares it in up to four ways (three
 * binarisations with component cleaning, then the plain crop), reads each
 * with Tesseract until one gives a confident reading that fits a format of
 * the camera's countries, and ranks everything read as alternatives. The
 * first binarisation is kept with the crop (pw_ocr_crop), so that the
 * reader can rank candidates by it and then read them without redoing it.
 */
#include "ocr.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prep.h"
#include "pw_build_config.h"
#include "tess.h"

struct pw_ocr {
    pw_tess *tess;
    const pw_formats *formats;
    int top_n;
    float min_confidence;
    int preparations;
    int plain_fallback;
};

/* Positions Tesseract may return for one line; more than this is not a plate. */
#define MAX_POS (2 * PW_PLATE_MAX)
/* Confidence factor of a reading that fits no format of the camera's countries. */
#define NO_FORMAT_FACTOR 0.6f
/* Confidence points lost per unit of matching cost (alternatives, corrections, drops). */
#define COST_PENALTY 12.0f
/* A reading this confident, fitting a format, ends the search early. */
#define CONFIDENT 80.0f
/* Confidence points a reading gains for each further preparation that produced it. */
#define VOTE_BONUS 8.0f
/* Below this mean confidence the best reading is noise, not a plate. */
#define NOISE_CONFIDENCE 30.0f

/* Slopes below this many degrees are left alone: Tesseract reads them as they are. */
#define MIN_SKEW_DEG 2.0

/* The preparations, in the order they are tried (pw_ocr_prep in ocr.h). */
enum {
    VAR_ADAPTIVE = PW_OCR_PREP_ADAPTIVE,
    VAR_OTSU = PW_OCR_PREP_OTSU,
    VAR_CLAHE = PW_OCR_PREP_CLAHE,
    VAR_PLAIN = PW_OCR_PREP_PLAIN,
    N_VARIANTS = PW_OCR_N_PREPS
};

void pw_ocr_config_defaults(pw_ocr_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->tessdata_dir = PW_MODELS_DIR;
    cfg->language = PW_OCR_DEFAULT_LANGUAGE;
    cfg->top_n = 5;
    cfg->min_confidence = 0;
    /* One binarisation: with the plate model, more cost a read each and gain about one image in 50 (docs/BENCHMARKS.md). */
    cfg->preparations = 1;
    cfg->plain_fallback = 1;
}

int pw_ocr_new(const pw_ocr_config *cfg, const pw_formats *formats, pw_ocr **out, pw_err *err)
{
    if (!cfg || !formats || !out)
        return pw_err_set(err, -EINVAL, "pw_ocr_new: missing configuration, formats or result pointer");
    *out = NULL;
    int top_n = cfg->top_n == 0 ? 5 : cfg->top_n;
    if (top_n < 1 || top_n > PW_OCR_MAX_ALTS)
        return pw_err_set(err, PW_ECONFIG, "OCR top_n %d is outside 1..%d", cfg->top_n, PW_OCR_MAX_ALTS);
    if (cfg->preparations < 1 || cfg->preparations > PW_OCR_N_PREPS - 1)
        return pw_err_set(err, PW_ECONFIG, "OCR preparations %d is outside 1..%d", cfg->preparations,
                          PW_OCR_N_PREPS - 1);
    if (cfg->min_confidence < 0 || cfg->min_confidence > 100)
        return pw_err_set(err, PW_ECONFIG, "OCR min_confidence %g is outside 0..100", cfg->min_confidence);
    const char *dir = cfg->tessdata_dir ? cfg->tessdata_dir : PW_MODELS_DIR;
    const char *lang = cfg->language && *cfg->language ? cfg->language : PW_OCR_DEFAULT_LANGUAGE;
    pw_tess *tess = NULL;
    int rc = pw_tess_new(dir, lang, &tess, err);
    if (rc < 0)
        return rc;
    pw_ocr *o = g_new0(pw_ocr, 1);
    o->tess = tess;
    o->formats = formats;
    o->top_n = top_n;
    o->min_confidence = cfg->min_confidence;
    o->preparations = cfg->preparations;
    o->plain_fallback = cfg->plain_fallback;
    *out = o;
    return 0;
}

void pw_ocr_destroy(pw_ocr **o)
{
    if (!o || !*o)
        return;
    pw_tess_destroy(&(*o)->tess);
    g_free(*o);
    *o = NULL;
}

/* ---- Candidate readings --------------------------------------------- */

typedef struct {
    char text[PW_PLATE_MAX + 1];
    char country[PW_COUNTRY_MAX];
    float confidence;
    float char_conf[PW_PLATE_MAX];
    unsigned variants;   /* bit v set when preparation v produced this text */
} candidate;

typedef struct {
    candidate c[N_VARIANTS * PW_OCR_MAX_ALTS];
    size_t n;
} candidates;

/* Adds c as read from preparation `variant`; a text read again keeps its best confidence. */
static void add_candidate(candidates *cs, const candidate *c, int variant)
{
    for (size_t i = 0; i < cs->n; i++) {
        if (strcmp(cs->c[i].text, c->text) == 0) {
            unsigned variants = cs->c[i].variants | 1u << variant;
            if (c->confidence > cs->c[i].confidence)
                cs->c[i] = *c;
            cs->c[i].variants = variants;
            return;
        }
    }
    if (cs->n < G_N_ELEMENTS(cs->c)) {
        cs->c[cs->n] = *c;
        cs->c[cs->n++].variants = 1u << variant;
    }
}

/* Preparations that produced the text: the raw reading and its format match are one vote. */
static int votes(const candidate *c)
{
    return __builtin_popcount(c->variants);
}

static float mean(const float *v, size_t n)
{
    float s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return n ? s / (float)n : 0;
}

/* The reading as Tesseract gave it, best choice at every position. */
static void raw_candidate(const pw_char_choices *pos, size_t n, candidate *c)
{
    memset(c, 0, sizeof *c);
    size_t k = n < PW_PLATE_MAX ? n : PW_PLATE_MAX;
    for (size_t i = 0; i < k; i++) {
        c->text[i] = pos[i].ch[0];
        c->char_conf[i] = pos[i].conf[0];
    }
    c->confidence = mean(c->char_conf, k) * NO_FORMAT_FACTOR;
}

/* Adds the raw reading and its format matches to cs; top receives this reading's best candidate. */
static void add_readings(const pw_ocr *o, int variant, const pw_char_choices *pos, size_t n,
                         const char (*countries)[PW_COUNTRY_MAX], size_t n_countries, candidates *cs,
                         candidate *top)
{
    candidate c;
    raw_candidate(pos, n, &c);
    memset(top, 0, sizeof *top);
    if (n >= 2 && n <= PW_PLATE_MAX) {
        add_candidate(cs, &c, variant);
        *top = c;
    }
    pw_choice_match m[PW_OCR_MAX_ALTS];
    size_t n_m = 0;
    if (pw_formats_match_choices(o->formats, pos, n, countries, n_countries, 1, m, (size_t)o->top_n, &n_m) < 0)
        return;
    for (size_t i = 0; i < n_m; i++) {
        memset(&c, 0, sizeof c);
        g_strlcpy(c.text, m[i].m.text, sizeof c.text);
        g_strlcpy(c.country, m[i].m.country, sizeof c.country);
        size_t len = strlen(c.text);
        memcpy(c.char_conf, m[i].char_conf, len * sizeof *c.char_conf);
        float conf = mean(c.char_conf, len) - COST_PENALTY * m[i].cost;
        c.confidence = conf < 0 ? 0 : conf;
        add_candidate(cs, &c, variant);
        if (c.confidence > top->confidence)
            *top = c;
    }
}

/* ---- Preparations ---------------------------------------------------- */

/*
 * Prepares variant v of the normalised crop as a text line; PW_ENOPLATE when
 * it does not apply. *light is the text's polarity, -1 until a binarisation
 * has found it; the first one that does sets it for the rest.
 */
static int prepare(const pw_plane *norm, pw_prep_labels *labels, int v, int *light, pw_image **line,
                   float *char_height)
{
    if (v == VAR_PLAIN)
        return pw_prep_plain(norm, *light > 0, line);
    /* Adaptive first: it copes with shadows and uneven light, the commonest trouble. */
    pw_bin_method method = v == VAR_ADAPTIVE ? PW_BIN_ADAPTIVE : v == VAR_OTSU ? PW_BIN_OTSU : PW_BIN_CLAHE;
    pw_prep_info info;
    int rc = pw_prep_line(norm, method, *light, labels, line, &info);
    if (rc == 0) {
        *light = info.light_text;
        if (*char_height == 0)
            *char_height = (float)info.char_height / (float)norm->height;
    }
    return rc;
}

/* Reads one prepared line into cs; returns 0, or a negative code on engine failure. */
static int read_line(pw_ocr *o, const pw_image *line, int variant, const char (*countries)[PW_COUNTRY_MAX],
                     size_t n_countries, candidates *cs, candidate *top)
{
    pw_char_choices pos[MAX_POS];
    size_t n = 0;
    pw_plane lp = pw_image_plane(line);
    int rc = pw_tess_read_line(o->tess, &lp, pos, MAX_POS, &n);
    if (rc == 0)
        add_readings(o, variant, pos, n, countries, n_countries, cs, top);
    return rc;
}

/* Prepares and reads one further preparation of the crop into cs. */
static int read_variant(pw_ocr *o, const pw_plane *norm, int variant, int *light, float *char_height,
                        const char (*countries)[PW_COUNTRY_MAX], size_t n_countries, candidates *cs,
                        candidate *top)
{
    pw_image *line = NULL;
    int rc = prepare(norm, NULL, variant, light, &line, char_height);
    if (rc < 0)
        return rc == PW_ENOPLATE ? 0 : rc;
    rc = read_line(o, line, variant, countries, n_countries, cs, top);
    pw_image_destroy(&line);
    return rc;
}

/* Two preparations agree on a reading that fits a format: reading more would not change it. */
static int agreed(const candidate *tops, int last)
{
    if (!tops[last].country[0] || tops[last].confidence < CONFIDENT)
        return 0;
    for (int v = 0; v < last; v++)
        if (strcmp(tops[v].text, tops[last].text) == 0)
            return 1;
    return 0;
}

static int by_score(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    float sx = x->confidence + VOTE_BONUS * (float)(votes(x) - 1);
    float sy = y->confidence + VOTE_BONUS * (float)(votes(y) - 1);
    return sx < sy ? 1 : sx > sy ? -1 : 0;
}

static void fill_result(const pw_ocr *o, candidates *cs, pw_plate_read *out)
{
    qsort(cs->c, cs->n, sizeof cs->c[0], by_score);
    const candidate *best = &cs->c[0];
    g_strlcpy(out->text, best->text, sizeof out->text);
    g_strlcpy(out->country, best->country, sizeof out->country);
    out->confidence = best->confidence;
    memcpy(out->char_conf, best->char_conf, sizeof out->char_conf);
    for (size_t i = 0; i < cs->n && out->n_alts < (size_t)o->top_n; i++) {
        if (cs->c[i].confidence < o->min_confidence)
            continue;
        pw_reading *r = &out->alts[out->n_alts++];
        g_strlcpy(r->text, cs->c[i].text, sizeof r->text);
        r->confidence = cs->c[i].confidence;
    }
}

/*
 * Replaces the normalised crop by a levelled copy when its characters
 * slope. labels keeps the binarisations of the crop as it ends up: the
 * slope estimate's when it stays as it was, none when it is levelled.
 */
static int level(pw_image **norm_img, pw_prep_labels *labels)
{
    pw_plane norm = pw_image_plane(*norm_img);
    double degrees = 0;
    int rc = pw_prep_skew(&norm, labels, &degrees);
    if (rc < 0 || fabs(degrees) < MIN_SKEW_DEG)
        return rc;
    pw_prep_labels_clear(labels);
    pw_image *levelled = NULL;
    rc = pw_prep_rotate(&norm, degrees, &levelled);
    if (rc == 0) {
        pw_image_destroy(norm_img);
        *norm_img = levelled;
    }
    return rc;
}

/*
 * The crop scaled, contrast-stretched and levelled: what every preparation
 * starts from; labels (emptied first) keeps binarisations of it already made.
 */
static int normalised(const pw_plane *crop, pw_image **norm_img, pw_prep_labels *labels)
{
    pw_prep_labels_clear(labels);
    int rc = pw_prep_normalise(crop, norm_img);
    if (rc == 0)
        rc = level(norm_img, labels);
    if (rc < 0)
        pw_image_destroy(norm_img);
    return rc;
}

int pw_ocr_prepare_line(const pw_plane *crop, pw_ocr_prep prep, pw_image **line)
{
    if (!crop || !line || prep < 0 || prep >= PW_OCR_N_PREPS)
        return -EINVAL;
    *line = NULL;
    pw_image *norm_img = NULL;
    pw_prep_labels *labels = NULL;
    pw_prep_labels_new(&labels);
    int rc = normalised(crop, &norm_img, labels);
    if (rc < 0) {
        pw_prep_labels_destroy(&labels);
        return rc;
    }
    pw_plane norm = pw_image_plane(norm_img);
    /* The earlier preparations run too: the first that finds the text's polarity sets it for the rest. */
    int light = -1;
    float char_height = 0;
    for (int v = 0; v <= (int)prep; v++) {
        pw_image_destroy(line);
        rc = prepare(&norm, labels, v, &light, line, &char_height);
        if (rc == PW_ENOPLATE && v < (int)prep)
            rc = 0;
    }
    pw_prep_labels_destroy(&labels);
    pw_image_destroy(&norm_img);
    if (rc < 0)
        pw_image_destroy(line);
    return rc;
}

struct pw_ocr_crop {
    pw_image *norm;    /* the crop scaled, contrast-stretched and levelled; NULL when blank */
    pw_image *line;    /* the first binarisation's line; NULL when it found no row of characters */
    pw_prep_info info; /* what that binarisation found */
};

void pw_ocr_crop_destroy(pw_ocr_crop **c)
{
    if (!c || !*c)
        return;
    pw_image_destroy(&(*c)->norm);
    pw_image_destroy(&(*c)->line);
    g_free(*c);
    *c = NULL;
}

int pw_ocr_crop_new(const pw_plane *crop, pw_ocr_crop **out)
{
    if (!crop || !out)
        return -EINVAL;
    *out = NULL;
    pw_ocr_crop *c = g_new0(pw_ocr_crop, 1);
    pw_prep_labels *labels = NULL;
    pw_prep_labels_new(&labels);
    int rc = normalised(crop, &c->norm, labels);
    if (rc == 0) {
        pw_plane norm = pw_image_plane(c->norm);
        /* Both polarities are tried (-1): the one whose rows hold more characters sets it for the rest. */
        rc = pw_prep_line(&norm, PW_BIN_ADAPTIVE, -1, labels, &c->line, &c->info);
        if (rc == PW_ENOPLATE)
            rc = 0; /* no row in this binarisation: the others may still find one */
    }
    pw_prep_labels_destroy(&labels);
    if (rc < 0 && rc != PW_ENOPLATE) {
        pw_ocr_crop_destroy(&c);
        return rc;
    }
    *out = c; /* a blank crop (PW_ENOPLATE from normalising) holds nothing, and reads as nothing */
    return 0;
}

int pw_ocr_crop_chars(const pw_ocr_crop *c)
{
    return c && c->line ? c->info.chars : 0;
}

/*
 * The search over preparations: the prepared first binarisation, then the
 * further ones up to o->preparations, then the plain crop, until two agree
 * on a confident format match.
 */
static int read_preparations(pw_ocr *o, const pw_ocr_crop *c, const char (*countries)[PW_COUNTRY_MAX],
                             size_t n_countries, candidates *cs, float *char_height)
{
    pw_plane norm = pw_image_plane(c->norm);
    int light = c->line ? c->info.light_text : -1;
    *char_height = c->line ? (float)c->info.char_height / (float)norm.height : 0;
    candidate tops[N_VARIANTS];
    memset(tops, 0, sizeof tops);
    int err = c->line ? read_line(o, c->line, VAR_ADAPTIVE, countries, n_countries, cs, &tops[VAR_ADAPTIVE]) : 0;
    for (int v = VAR_ADAPTIVE + 1; v < N_VARIANTS && err == 0; v++) {
        /*
         * The plain crop is read only when a binarisation found a row of
         * characters (light is known) that Tesseract could not read. Where
         * none found one, the plain crop gave no exact read on the held-out
         * folds, only confident misreads of texture and noise.
         */
        if (v == VAR_PLAIN && (!o->plain_fallback || cs->n > 0 || light < 0))
            break;
        if (v != VAR_PLAIN && v >= o->preparations)
            continue;
        err = read_variant(o, &norm, v, &light, char_height, countries, n_countries, cs, &tops[v]);
        if (err == 0 && agreed(tops, v))
            break;
    }
    return err;
}

int pw_ocr_read_crop(pw_ocr *o, const pw_ocr_crop *c, const char (*countries)[PW_COUNTRY_MAX],
                     size_t n_countries, pw_plate_read *out)
{
    if (!o || !c || !out || (n_countries && !countries))
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!c->norm)
        return PW_ENOPLATE;
    candidates *cs = g_new0(candidates, 1);
    float char_height = 0;
    int rc = read_preparations(o, c, countries, n_countries, cs, &char_height);
    if (rc == 0 && cs->n == 0)
        rc = PW_ENOPLATE;
    if (rc == 0) {
        fill_result(o, cs, out);
        out->char_height = char_height;
        if (out->confidence < NOISE_CONFIDENCE * NO_FORMAT_FACTOR || out->confidence < o->min_confidence) {
            memset(out, 0, sizeof *out);
            rc = PW_ENOPLATE;
        }
    }
    g_free(cs);
    return rc;
}

int pw_ocr_read(pw_ocr *o, const pw_plane *crop, const char (*countries)[PW_COUNTRY_MAX],
                size_t n_countries, pw_plate_read *out)
{
    if (!o || !crop || !out || (n_countries && !countries))
        return -EINVAL;
    memset(out, 0, sizeof *out);
    pw_ocr_crop *c = NULL;
    int rc = pw_ocr_crop_new(crop, &c);
    if (rc == 0)
        rc = pw_ocr_read_crop(o, c, countries, n_countries, out);
    pw_ocr_crop_destroy(&c);
    return rc;
}
