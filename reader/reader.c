#define _POSIX_C_SOURCE 200809L
#include "reader.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "cvshim.h"
#include "pw_build_config.h"

struct pw_reader {
    pw_reader_config cfg;
    pw_formats *formats;
    pw_detector *detector;
    pw_ocr *ocr;
    pw_image *whole; /* resized whole-image candidate, reused between calls */
};

void pw_reader_config_defaults(pw_reader_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    pw_detect_config_defaults(&cfg->detect);
    pw_ocr_config_defaults(&cfg->ocr);
    cfg->formats_dir = PW_MODELS_DIR "/formats";
    pw_read_settings_defaults(&cfg->read);
    cfg->whole_image_candidate = 1;
}

void pw_read_settings_defaults(pw_read_settings *s)
{
    /* The plate is among the localiser's first five boxes in nearly every image that has it read at all; each further box costs a read. */
    s->candidates = 5;
    s->min_confidence = 40.0f;
    s->min_chars = 4;
    s->stop_confidence = 0;
    s->merge_contained = 1;
    /*
     * Boxes whose character rows are counted. Only plate-like ones are read,
     * so a larger pool costs a preparation per box and reads more distant
     * boxes: on the dev folds 1-4, 8 reads as many plates exactly as 10
     * (fold 1 72.5 %, 2-4 70.1 %) in 10 % less time; 6 loses three of 441.
     */
    s->rank_candidates = 8;
}

int pw_read_settings_check(const pw_read_settings *s, pw_err *err)
{
    if (s->candidates < 1 || s->candidates > PW_DETECT_MAX_CANDIDATES)
        return pw_err_set(err, PW_ECONFIG, "read candidates %d is outside 1..%d", s->candidates,
                          PW_DETECT_MAX_CANDIDATES);
    if (!(s->min_confidence >= 0 && s->min_confidence <= 100))
        return pw_err_set(err, PW_ECONFIG, "read min_confidence %g is outside 0..100", s->min_confidence);
    if (s->min_chars < 1 || s->min_chars > PW_PLATE_MAX)
        return pw_err_set(err, PW_ECONFIG, "read min_chars %d is outside 1..%d", s->min_chars, PW_PLATE_MAX);
    if (s->rank_candidates < 0 || s->rank_candidates > PW_DETECT_MAX_CANDIDATES)
        return pw_err_set(err, PW_ECONFIG, "read rank_candidates %d is outside 0..%d", s->rank_candidates,
                          PW_DETECT_MAX_CANDIDATES);
    if (!(s->stop_confidence >= 0 && s->stop_confidence <= 100))
        return pw_err_set(err, PW_ECONFIG, "read stop_confidence %g is outside 0..100", s->stop_confidence);
    return 0;
}

int pw_reader_new(const pw_reader_config *cfg, pw_reader **out, pw_err *err)
{
    if (!cfg || !out)
        return pw_err_set(err, -EINVAL, "no reader configuration given");
    *out = NULL;
    pw_reader *r = g_new0(pw_reader, 1);
    r->cfg = *cfg;
    int rc = pw_read_settings_check(&cfg->read, err);
    if (rc == 0)
        rc = pw_formats_load_dir(cfg->formats_dir, &r->formats, err);
    if (rc == 0)
        rc = pw_detector_new(&cfg->detect, &r->detector, err);
    if (rc == 0)
        rc = pw_ocr_new(&cfg->ocr, r->formats, &r->ocr, err);
    if (rc < 0) {
        pw_reader_destroy(&r);
        return rc;
    }
    *out = r;
    return 0;
}

void pw_reader_destroy(pw_reader **r)
{
    if (!r || !*r)
        return;
    pw_ocr_destroy(&(*r)->ocr);
    pw_detector_destroy(&(*r)->detector);
    pw_formats_destroy(&(*r)->formats);
    pw_image_destroy(&(*r)->whole);
    g_free(*r);
    *r = NULL;
}

const pw_formats *pw_reader_formats(const pw_reader *r)
{
    return r ? r->formats : NULL;
}

/* A crop-sized image whose shape is a plate's: cameras that cut out plates send these. */
static int plate_shaped(const pw_plane *grey)
{
    double aspect = (double)grey->width / grey->height;
    return grey->width <= 800 && grey->height <= 400 && aspect >= 1.6 && aspect <= 6.0;
}

int pw_whole_frame_candidate(const pw_plane *grey, int crop_height, pw_image **buf, pw_candidate *cand)
{
    if (!plate_shaped(grey))
        return 0;
    int h = crop_height > 0 ? crop_height : 64;
    int w = (int)((double)grey->width * h / grey->height + 0.5);
    pw_plane cur = *buf ? pw_image_plane(*buf) : (pw_plane){0};
    if (!*buf || cur.width != w || cur.height != h) {
        pw_image_destroy(buf);
        int rc = pw_image_new(w, h, 1, buf);
        if (rc < 0)
            return rc;
    }
    memset(cand, 0, sizeof *cand);
    cand->crop = pw_image_plane(*buf);
    int rc = pw_cv_resize(grey, &cand->crop);
    if (rc < 0)
        return rc;
    float fw = (float)grey->width, fh = (float)grey->height;
    const float corners[4][2] = {{0, 0}, {fw, 0}, {fw, fh}, {0, fh}};
    memcpy(cand->corners, corners, sizeof corners);
    cand->box = (pw_rect){0, 0, grey->width, grey->height};
    cand->dark_on_light = 1;
    cand->crop_scale = fh / (float)h;
    return 1;
}

/* Overlap of two boxes relative to the smaller one: 1 when one lies inside the other. */
static float box_area(pw_rect r)
{
    return (float)r.w * (float)r.h;
}

static float box_containment(pw_rect a, pw_rect b)
{
    return box_area(pw_rect_intersect(a, b)) / MAX(1.0f, MIN(box_area(a), box_area(b)));
}

/*
 * Two reads are of one plate when their boxes overlap much or they read the
 * same; with contained set, also when one box lies inside the other.
 */
static int same_plate(const pw_plate *p, const pw_plate *q, int contained)
{
    if (pw_rect_iou(p->box, q->box) > 0.3 || strcmp(p->read.text, q->read.text) == 0)
        return 1;
    return contained && box_containment(p->box, q->box) > 0.5f;
}

/*
 * How much taller a plate's registration is than the other text on it:
 * state names and slogans are at most two thirds of its height on the
 * plates of the dev sets, and two reads of one line differ by far less.
 */
#define REGISTRATION_HEIGHT_RATIO 1.3f
/*
 * A plate's small lines are at most this share of the plate's height: its
 * registration takes about half. A box around a whole plate and more (a
 * bumper) holds the plate's registration at about a third of its height,
 * and that registration must not give way to a misread of the larger box.
 */
#define SMALL_LINE_SHARE 0.25f

/* p is a smaller line of text inside q's box: q's characters are much taller. */
static int inner_line(const pw_plate *p, const pw_plate *q)
{
    return p->char_px > 0 && q->char_px >= REGISTRATION_HEIGHT_RATIO * p->char_px &&
           p->char_px <= SMALL_LINE_SHARE * (float)q->box.h && box_area(p->box) < box_area(q->box) &&
           box_containment(p->box, q->box) > 0.5f;
}

/* Removes the plates that are smaller lines inside p's box. */
static void drop_inner_lines(pw_plate *plates, size_t *n, const pw_plate *p)
{
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++)
        if (!inner_line(&plates[i], p))
            plates[kept++] = plates[i];
    *n = kept;
}

/*
 * Which of two reads of one plate to keep. A box that cuts off an end
 * character reads a part of the plate, often with high confidence; the
 * longer reading that contains it wins unless it is much less sure.
 * Otherwise the more confident read wins.
 */
static int better(const pw_plate *p, const pw_plate *q)
{
    const char *a = p->read.text, *b = q->read.text;
    if (strlen(a) > strlen(b) && strstr(a, b) && p->read.confidence >= 0.8f * q->read.confidence)
        return 1;
    if (strlen(b) > strlen(a) && strstr(b, a) && q->read.confidence >= 0.8f * p->read.confidence)
        return 0;
    return p->read.confidence > q->read.confidence;
}

int pw_plates_merge(pw_plate *plates, size_t *n, size_t max, const pw_plate *p, int contained)
{
    if (contained) {
        for (size_t i = 0; i < *n; i++)
            if (inner_line(p, &plates[i]))
                return -1;
        drop_inner_lines(plates, n, p);
    }
    for (size_t i = 0; i < *n; i++) {
        if (!same_plate(p, &plates[i], contained))
            continue;
        if (!better(p, &plates[i]))
            return -1;
        /*
         * The reading comes from the better read, the geometry from the
         * candidate the localiser ranked higher: the OCR's confidence
         * judges the text, not how well the box fits the plate.
         */
        pw_plate kept = *p;
        if (plates[i].detector_score > p->detector_score) {
            memcpy(kept.corners, plates[i].corners, sizeof kept.corners);
            kept.box = plates[i].box;
            kept.detector_score = plates[i].detector_score;
        }
        plates[i] = kept;
        return (int)i;
    }
    if (*n == max)
        return -1;
    plates[*n] = *p;
    return (int)(*n)++;
}

static int by_confidence(const void *a, const void *b)
{
    float ca = ((const pw_plate *)a)->read.confidence, cb = ((const pw_plate *)b)->read.confidence;
    return (ca < cb) - (ca > cb);
}

/* The candidate's prepared crop in *slot, made on first use: ranking and reading share it. */
static int prepared(pw_ocr_crop **slot, const pw_plane *crop)
{
    return *slot ? 0 : pw_ocr_crop_new(crop, slot);
}

/* Reads one crop; 1 when it is long and confident enough to be a plate. */
static int read_candidate(pw_ocr *ocr, const pw_read_settings *s, pw_ocr_crop **slot, const pw_plane *crop,
                          pw_plate *plate, const char (*countries)[PW_COUNTRY_MAX], size_t n_countries)
{
    int rc = prepared(slot, crop);
    if (rc == 0)
        rc = pw_ocr_read_crop(ocr, *slot, countries, n_countries, &plate->read);
    if (rc == PW_ENOPLATE)
        return 0;
    if (rc < 0)
        return rc;
    return (int)strlen(plate->read.text) >= s->min_chars && plate->read.confidence >= s->min_confidence;
}

/* A read that fits a country's format so confidently that other boxes of its plate need not be read. */
static int settles(const pw_read_settings *s, const pw_plate *p)
{
    return s->stop_confidence > 0 && p->read.country[0] && p->read.confidence >= s->stop_confidence;
}

/* A candidate whose box covers much of a settled plate's: another box of the same plate. */
static int of_settled(const pw_rect *settled, size_t n, pw_rect box)
{
    for (size_t i = 0; i < n; i++)
        if (pw_rect_iou(settled[i], box) > 0.3 || box_containment(settled[i], box) > 0.5f)
            return 1;
    return 0;
}

/* Character rows this long make a box plate-like: shorter ones are fragments, longer ones signs or grilles. */
#define PLATE_CHARS_MIN 4
#define PLATE_CHARS_MAX 10

size_t pw_read_settings_pool(const pw_read_settings *s)
{
    return (size_t)(s->rank_candidates > 0 ? s->rank_candidates : s->candidates);
}

/*
 * The candidates to read, in order: the localiser's first s->candidates,
 * or, when s->rank_candidates is set, those of its first s->rank_candidates
 * boxes whose crop holds a row of plate-like characters (s->candidates at
 * most).
 * The localiser judges edges, and a grille, a lamp or a badge can outrank
 * the plate; the character row separates them cheaply. A box without such
 * a row is not read at all: on folds 0 and 1 of the dev photographs none
 * of those reads was an exact plate, and each cost a Tesseract call.
 */
static int read_order(const pw_read_settings *s, const pw_candidate *cands, size_t n_cands, pw_ocr_crop **crops,
                      size_t *order)
{
    size_t limit = MIN(n_cands, (size_t)s->candidates), pool = MIN(n_cands, pw_read_settings_pool(s)), k = 0;
    if (s->rank_candidates == 0) {
        for (k = 0; k < limit; k++)
            order[k] = k;
        return (int)limit;
    }
    int plate_like[PW_DETECT_MAX_CANDIDATES];
    for (size_t i = 0; i < pool; i++) {
        int rc = prepared(&crops[i], &cands[i].crop);
        if (rc < 0)
            return rc;
        int chars = pw_ocr_crop_chars(crops[i]);
        plate_like[i] = chars >= PLATE_CHARS_MIN && chars <= PLATE_CHARS_MAX;
    }
    for (size_t i = 0; i < pool && k < limit; i++)
        if (plate_like[i])
            order[k++] = i;
    return (int)k;
}

int pw_read_candidates(pw_ocr *ocr, const pw_read_settings *s, const pw_candidate *cands, size_t n_cands,
                       const pw_candidate *whole, const char (*countries)[PW_COUNTRY_MAX], size_t n_countries,
                       pw_plate *plates, size_t max, size_t *n, size_t *from)
{
    size_t order[PW_DETECT_MAX_CANDIDATES], n_settled = 0;
    /* One slot per candidate and the last for the whole frame. */
    pw_ocr_crop *crops[PW_DETECT_MAX_CANDIDATES + 1] = {0};
    int rc = read_order(s, cands, MIN(n_cands, (size_t)PW_DETECT_MAX_CANDIDATES), crops, order);
    size_t limit = rc > 0 ? (size_t)rc : 0;
    pw_rect settled[PW_DETECT_MAX_CANDIDATES + 1];
    rc = MIN(rc, 0);
    for (size_t j = 0; j <= limit && rc >= 0; j++) {
        /* The ranked candidates, then the whole frame when it is a plate crop. */
        size_t i = j < limit ? order[j] : n_cands;
        const pw_candidate *c = j < limit ? &cands[i] : whole;
        if (!c || of_settled(settled, n_settled, c->box))
            continue;
        pw_plate p = {0};
        memcpy(p.corners, c->corners, sizeof p.corners);
        p.box = c->box;
        p.detector_score = c->score;
        rc = read_candidate(ocr, s, &crops[j < limit ? i : PW_DETECT_MAX_CANDIDATES], &c->crop, &p, countries,
                            n_countries);
        if (rc <= 0)
            continue;
        p.char_px = p.read.char_height * (float)c->crop.height * c->crop_scale;
        int at = pw_plates_merge(plates, n, max, &p, s->merge_contained);
        if (at >= 0 && from)
            from[at] = i;
        if (settles(s, &p))
            settled[n_settled++] = p.box;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(crops); i++)
        pw_ocr_crop_destroy(&crops[i]);
    return rc < 0 ? rc : 0;
}

int pw_reader_read_plane(pw_reader *r, const pw_plane *grey, const char (*countries)[PW_COUNTRY_MAX],
                         size_t n_countries, pw_read_result *res)
{
    if (!r || !res)
        return -EINVAL;
    memset(res, 0, sizeof *res);
    int rc = pw_plane_check(grey);
    if (rc < 0)
        return rc;
    res->width = grey->width;
    res->height = grey->height;
    const pw_candidate *cands = NULL;
    double t0 = pw_now_ms();
    rc = pw_detector_run(r->detector, grey, &cands, &res->n_candidates);
    double t1 = pw_now_ms();
    res->detect_ms = t1 - t0;
    if (rc < 0)
        return rc;
    pw_candidate whole;
    int has_whole = r->cfg.whole_image_candidate
                        ? pw_whole_frame_candidate(grey, r->cfg.detect.crop_height, &r->whole, &whole)
                        : 0;
    if (has_whole < 0)
        return has_whole;
    rc = pw_read_candidates(r->ocr, &r->cfg.read, cands, res->n_candidates, has_whole ? &whole : NULL, countries,
                            n_countries, res->plates, PW_READER_MAX_PLATES, &res->n_plates, NULL);
    res->ocr_ms = pw_now_ms() - t1;
    qsort(res->plates, res->n_plates, sizeof res->plates[0], by_confidence);
    return rc < 0 ? rc : 0;
}

static int load_file(const char *path, gchar **bytes, gsize *len, pw_err *err)
{
    GError *gerr = NULL;
    if (g_file_get_contents(path, bytes, len, &gerr))
        return 0;
    int code = gerr->code == G_FILE_ERROR_NOENT    ? -ENOENT
               : gerr->code == G_FILE_ERROR_ACCES  ? -EACCES
               : gerr->code == G_FILE_ERROR_ISDIR  ? -EISDIR
                                                   : -EIO;
    pw_err_set(err, code, "%s", gerr->message);
    g_error_free(gerr);
    return code;
}

int pw_reader_read_file(pw_reader *r, const char *path, const char (*countries)[PW_COUNTRY_MAX],
                        size_t n_countries, pw_read_result *res, pw_err *err)
{
    if (!r || !path || !res)
        return pw_err_set(err, -EINVAL, "no reader, path or result given");
    memset(res, 0, sizeof *res);
    gchar *bytes = NULL;
    gsize len = 0;
    double t0 = pw_now_ms();
    int rc = load_file(path, &bytes, &len, err);
    if (rc < 0)
        return rc;
    pw_image *grey = NULL;
    rc = pw_cv_decode((const uint8_t *)bytes, len, &grey, NULL, err);
    g_free(bytes);
    double decode_ms = pw_now_ms() - t0;
    if (rc < 0)
        return rc;
    pw_plane plane = pw_image_plane(grey);
    rc = pw_reader_read_plane(r, &plane, countries, n_countries, res);
    res->decode_ms = decode_ms;
    pw_image_destroy(&grey);
    if (rc < 0)
        return pw_err_set(err, rc, "reading failed: %s", pw_strerror(rc));
    return 0;
}
