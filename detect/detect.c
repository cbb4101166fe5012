/*
 * detect.c - the public API: configuration, the detector's buffers, the
 * SIMD level, and the per-frame pipeline (seeds, refinement, ranking,
 * crops).
 */
#define _POSIX_C_SOURCE 200809L
#include "detect_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* How far the plate reaches beyond its characters, as shares of the text height. */
#define PW_PLATE_HEIGHT_FACTOR 1.6f
#define PW_PLATE_SIDE_MARGIN 0.25f
/* A box counts as nested in another when this share of it lies inside and it is at most this share of its area. */
#define PW_NEST_INSIDE 0.85
#define PW_NEST_AREA 0.6
/* Overlapping lines whose tilts differ by more than this (radians, 5 degrees) are both kept. */
#define PW_TILT_APART 0.0873f
/* Boxes overlapping more than this are the same box, never both candidates. */
#define PW_SAME_BOX_IOU 0.8
/* Plates may be this share of the configured minimum width, since the text's extent can fall short of the plate's. */
#define PW_MIN_WIDTH_SLACK 0.9f

static const char *const simd_names[] = {"auto", "scalar", "sse2", "avx2"};

const char *pw_simd_name(pw_simd_level level)
{
    return level >= PW_SIMD_AUTO && level <= PW_SIMD_AVX2 ? simd_names[level] : "unknown";
}

int pw_simd_parse(const char *name, pw_simd_level *out)
{
    for (int i = 0; name && i <= PW_SIMD_AVX2; i++) {
        if (strcmp(name, simd_names[i]) == 0) {
            *out = (pw_simd_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

int pw_simd_from_env(pw_simd_level *out)
{
    const char *v = getenv("PW_SIMD");
    if (!v || !*v) {
        *out = PW_SIMD_AUTO;
        return 0;
    }
    return pw_simd_parse(v, out);
}

pw_simd_level pw_simd_best(void)
{
#ifdef PW_HAVE_X86_SIMD
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        return PW_SIMD_AVX2;
    if (__builtin_cpu_supports("sse2"))
        return PW_SIMD_SSE2;
#endif
    return PW_SIMD_SCALAR;
}

static const pw_kernels *kernels_for(pw_simd_level level)
{
    switch (level) {
#ifdef PW_HAVE_X86_SIMD
    case PW_SIMD_AVX2:
        return &pw_kernels_avx2;
    case PW_SIMD_SSE2:
        return &pw_kernels_sse2;
#endif
    default:
        return &pw_kernels_scalar;
    }
}

void pw_detect_config_defaults(pw_detect_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->simd = PW_SIMD_AUTO;
    cfg->max_candidates = 10;
    cfg->min_plate_width = 60;
    cfg->max_plate_width = 800;
    cfg->crop_height = 64;
}

/* Copies cfg with zeros replaced by defaults, and checks every field. */
static int normalise_config(const pw_detect_config *in, pw_detect_config *cfg, pw_err *err)
{
    pw_detect_config def;
    pw_detect_config_defaults(&def);
    *cfg = *in;
    cfg->max_candidates = cfg->max_candidates ? cfg->max_candidates : def.max_candidates;
    cfg->min_plate_width = cfg->min_plate_width ? cfg->min_plate_width : def.min_plate_width;
    cfg->max_plate_width = cfg->max_plate_width ? cfg->max_plate_width : def.max_plate_width;
    cfg->crop_height = cfg->crop_height ? cfg->crop_height : def.crop_height;
    if (cfg->simd < PW_SIMD_AUTO || cfg->simd > PW_SIMD_AVX2)
        return pw_err_set(err, -EINVAL, "detect: simd level %d is not one of auto, scalar, sse2, avx2", (int)cfg->simd);
    if (cfg->max_candidates < 1 || cfg->max_candidates > PW_DETECT_MAX_CANDIDATES)
        return pw_err_set(err, -EINVAL, "detect: max_candidates %d is outside 1..%d", cfg->max_candidates,
                          PW_DETECT_MAX_CANDIDATES);
    if (cfg->min_plate_width < 16 || cfg->min_plate_width > PW_MAX_IMAGE_SIDE)
        return pw_err_set(err, -EINVAL, "detect: min_plate_width %d is outside 16..%d", cfg->min_plate_width,
                          PW_MAX_IMAGE_SIDE);
    if (cfg->max_plate_width < cfg->min_plate_width || cfg->max_plate_width > PW_MAX_IMAGE_SIDE)
        return pw_err_set(err, -EINVAL, "detect: max_plate_width %d is below min_plate_width %d or above %d",
                          cfg->max_plate_width, cfg->min_plate_width, PW_MAX_IMAGE_SIDE);
    if (cfg->crop_height < 16 || cfg->crop_height > 256)
        return pw_err_set(err, -EINVAL, "detect: crop_height %d is outside 16..256", cfg->crop_height);
    if (cfg->roi.x < 0 || cfg->roi.y < 0 || cfg->roi.w < 0 || cfg->roi.h < 0)
        return pw_err_set(err, -EINVAL, "detect: roi %d,%d %dx%d has a negative field", cfg->roi.x,
                          cfg->roi.y, cfg->roi.w, cfg->roi.h);
    return 0;
}

/*
 * Levels whose core text range (8-16 px at the level; the window tolerates
 * up to 20) meets the text heights that the plate widths imply.
 */
static void level_range(const pw_detect_config *cfg, int *lo, int *hi)
{
    float tmin = (float)cfg->min_plate_width / 7.f, tmax = (float)cfg->max_plate_width / 3.f;
    *lo = 0;
    while (*lo + 1 < PW_MAX_LEVELS && 16.f * (float)(1 << *lo) < tmin)
        (*lo)++;
    *hi = *lo;
    while (*hi + 1 < PW_MAX_LEVELS && 8.f * (float)(1 << (*hi + 1)) <= tmax)
        (*hi)++;
}

int pw_detector_new(const pw_detect_config *in, pw_detector **out, pw_err *err)
{
    if (!out)
        return pw_err_set(err, -EINVAL, "detect: no place for the detector (out is NULL)");
    *out = NULL;
    pw_detect_config cfg;
    if (!in)
        pw_detect_config_defaults(&cfg);
    int rc = normalise_config(in ? in : &cfg, &cfg, err);
    if (rc < 0)
        return rc;
    pw_simd_level best = pw_simd_best();
    pw_simd_level level = cfg.simd == PW_SIMD_AUTO ? best : cfg.simd;
    if (level > best)
        return pw_err_set(err, PW_ESIMD, "detect: this CPU does not support %s (best is %s)",
                          pw_simd_name(level), pw_simd_name(best));
    pw_detector *d = calloc(1, sizeof *d);
    if (!d)
        return pw_err_set(err, -ENOMEM, "detect: out of memory for the detector");
    d->cfg = cfg;
    d->simd = level;
    d->k = kernels_for(level);
    level_range(&cfg, &d->level_lo, &d->level_hi);
    size_t crop_bytes = (size_t)cfg.max_candidates * (size_t)cfg.crop_height *
                        (size_t)(PW_CROP_MAX_ASPECT * cfg.crop_height);
    d->crops = malloc(crop_bytes);
    if (!d->crops) {
        pw_detector_destroy(&d);
        return pw_err_set(err, -ENOMEM, "detect: out of memory for %zu bytes of crops", crop_bytes);
    }
    *out = d;
    return 0;
}

void pw_detector_destroy(pw_detector **d)
{
    if (!d || !*d)
        return;
    free((*d)->pyr);
    free((*d)->cells);
    free((*d)->sheared);
    free((*d)->vin);
    free((*d)->vout);
    free((*d)->score_ring);
    free((*d)->crops);
    free(*d);
    *d = NULL;
}

pw_simd_level pw_detector_simd(const pw_detector *d)
{
    return d ? d->simd : PW_SIMD_AUTO;
}

size_t pw_detector_grow_count(const pw_detector *d)
{
    return d ? d->grow_count : 0;
}

int pw_detect_reserve(pw_detector *d, void **buf, size_t *cap, size_t need)
{
    if (*buf && *cap >= need)
        return 0;
    /* Some slack, so that frames of slightly varying size do not grow it again. */
    size_t want = need + need / 8 + 64;
    void *p = realloc(*buf, want);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = want;
    d->grow_count++;
    return 0;
}

/* Clips the configured ROI to the frame; returns 0 when nothing of it is left. */
static int roi_plane(const pw_detector *d, const pw_plane *f, pw_plane *roi, int *ox, int *oy)
{
    pw_rect r = d->cfg.roi;
    if (r.w == 0 || r.h == 0)
        r = (pw_rect){0, 0, f->width, f->height};
    int x1 = r.x + r.w > f->width ? f->width : r.x + r.w;
    int y1 = r.y + r.h > f->height ? f->height : r.y + r.h;
    if (r.x >= x1 || r.y >= y1)
        return 0;
    *roi = (pw_plane){pw_plane_at(f, r.x, r.y), x1 - r.x, y1 - r.y, f->stride, 1};
    *ox = r.x;
    *oy = r.y;
    return 1;
}

/* True when the point lies inside the rotated rectangle of line. */
static int inside_line(const pw_textline *l, float x, float y)
{
    float dx = x - l->cx, dy = y - l->cy, c = cosf(l->angle), s = sinf(l->angle);
    float u = dx * c + dy * s, v = -dx * s + dy * c;
    return fabsf(u) <= l->len / 2.f && fabsf(v) <= l->hgt / 2.f;
}

/* Refines one seed unless it lands on a line already found at its level. */
static void refine_one(pw_detector *d, const pw_seed *s)
{
    float scale = (float)(1 << s->level);
    float fx = ((float)s->x + 0.5f) * scale - 0.5f, fy = ((float)s->y + 0.5f) * scale - 0.5f;
    for (int j = 0; j < d->nlines; j++)
        if (d->lines[j].level == s->level && inside_line(&d->lines[j], fx, fy))
            return;
    pw_textline line;
    if (pw_detect_refine(d, s, &line) == 0)
        d->lines[d->nlines++] = line;
}

/* Refines up to quota of level l's seeds from the level grid (sheared 0) or the sheared grids (1), best first. */
static void refine_level(pw_detector *d, int l, int sheared, int quota)
{
    int used = 0;
    for (int i = 0; i < d->nseeds && used < quota && d->nlines < PW_MAX_REFINE; i++) {
        if (d->seeds[i].level != l || (d->seeds[i].sheared != 0) != sheared)
            continue;
        refine_one(d, &d->seeds[i]);
        used++;
    }
}

/*
 * Refines the best seeds of every level, each level with its own quota:
 * window scores are not comparable across levels (fine levels see more
 * texture), so a global order would starve the coarse levels. Within a
 * level, the sheared grids' best seeds have places of their own, taken from
 * the level seeds' quota so that the work per frame stays the same.
 */
static void refine_seeds(pw_detector *d)
{
    d->nlines = 0;
    int quota = PW_MAX_REFINE / (d->level_hi - d->level_lo + 1);
    for (int l = d->level_lo; l <= d->level_hi; l++) {
        int sheared = l >= PW_SHEARED_LEVEL_LO ? PW_SHEARED_SEEDS : 0;
        refine_level(d, l, 0, quota - sheared);
        refine_level(d, l, 1, sheared);
    }
}

static void line_corners(const pw_textline *l, float hgt, float len, float c[4][2])
{
    float ux = cosf(l->angle), uy = sinf(l->angle);
    float hx = len / 2.f, hy = hgt / 2.f;
    const float sgn[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
    for (int i = 0; i < 4; i++) {
        float u = sgn[i][0] * hx, v = sgn[i][1] * hy;
        c[i][0] = l->cx + u * ux - v * uy;
        c[i][1] = l->cy + u * uy + v * ux;
    }
}

static pw_rect corners_box(float c[4][2], int w, int h)
{
    float x0 = c[0][0], x1 = c[0][0], y0 = c[0][1], y1 = c[0][1];
    for (int i = 1; i < 4; i++) {
        x0 = fminf(x0, c[i][0]), x1 = fmaxf(x1, c[i][0]);
        y0 = fminf(y0, c[i][1]), y1 = fmaxf(y1, c[i][1]);
    }
    int ix0 = (int)floorf(x0 + 0.5f), iy0 = (int)floorf(y0 + 0.5f);
    int ix1 = (int)floorf(x1 + 0.5f) + 1, iy1 = (int)floorf(y1 + 0.5f) + 1;
    ix0 = ix0 < 0 ? 0 : ix0 > w ? w : ix0;
    iy0 = iy0 < 0 ? 0 : iy0 > h ? h : iy0;
    ix1 = ix1 < ix0 ? ix0 : ix1 > w ? w : ix1;
    iy1 = iy1 < iy0 ? iy0 : iy1 > h ? h : iy1;
    return (pw_rect){ix0, iy0, ix1 - ix0, iy1 - iy0};
}

/*
 * Overlap test for suppression: IoU above 0.3, unless one box lies nested in
 * the other. Nested boxes are both kept, since the bigger one may be the
 * wrong one (a plate with its lights, its frame or the text around it) and
 * the nested one the plate itself, or the other way round.
 */
static int overlaps(pw_rect a, pw_rect b)
{
    pw_rect i = pw_rect_intersect(a, b);
    if (i.w == 0)
        return 0;
    double inter = (double)i.w * i.h;
    double aa = (double)a.w * a.h, ab = (double)b.w * b.h;
    double small = aa < ab ? aa : ab, big = aa < ab ? ab : aa;
    if (inter >= PW_NEST_INSIDE * small && small <= PW_NEST_AREA * big)
        return 0;
    return inter / (aa + ab - inter) > 0.3;
}

/* The tilt of a candidate's top edge, radians. */
static float cand_angle(const pw_candidate *c)
{
    return atan2f(c->corners[1][1] - c->corners[0][1], c->corners[1][0] - c->corners[0][0]);
}

static int line_cmp_desc(const pw_textline *a, const pw_textline *b)
{
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->cy != b->cy)
        return a->cy < b->cy ? -1 : 1;
    return a->cx < b->cx ? -1 : a->cx > b->cx;
}

static void sort_lines(pw_textline *l, int n)
{
    for (int i = 1; i < n; i++) {
        pw_textline v = l[i];
        int j = i - 1;
        while (j >= 0 && line_cmp_desc(&v, &l[j]) < 0) {
            l[j + 1] = l[j];
            j--;
        }
        l[j + 1] = v;
    }
}

/*
 * Fills c with the plate-sized box of line l (frame pixels), without its
 * crop; returns 1, or 0 when the box is empty or its width lies outside the
 * configured plate widths. The width estimated from the text can fall a
 * little short of a small plate's, hence the tolerance below the minimum.
 */
static int line_candidate(const pw_detector *d, const pw_textline *l, const pw_plane *frame, int ox, int oy,
                          pw_candidate *c)
{
    float plate_w = l->len + 2.f * PW_PLATE_SIDE_MARGIN * l->hgt;
    if (plate_w > (float)d->cfg.max_plate_width || plate_w < PW_MIN_WIDTH_SLACK * (float)d->cfg.min_plate_width)
        return 0;
    memset(c, 0, sizeof *c);
    line_corners(l, l->hgt * PW_PLATE_HEIGHT_FACTOR, plate_w, c->corners);
    for (int k = 0; k < 4; k++)
        c->corners[k][0] += (float)ox, c->corners[k][1] += (float)oy;
    c->box = corners_box(c->corners, frame->width, frame->height);
    c->score = l->score;
    c->dark_on_light = l->dark_on_light;
    return c->box.w > 0 && c->box.h > 0;
}

/*
 * True when c repeats one of the first n candidates: its box overlaps (see
 * overlaps) and its tilt is close. Two tilts for the same text are two
 * hypotheses of its box, and only one of them may fit the plate.
 */
static int repeats(const pw_detector *d, size_t n, const pw_candidate *c)
{
    float a = cand_angle(c);
    for (size_t j = 0; j < n; j++)
        if (overlaps(c->box, d->cands[j].box) && fabsf(a - cand_angle(&d->cands[j])) < PW_TILT_APART)
            return 1;
    return 0;
}

/* True when c's box is nearly the same as one of the first n candidates' boxes. */
static int same_box(const pw_detector *d, size_t n, const pw_candidate *c)
{
    for (size_t j = 0; j < n; j++)
        if (pw_rect_iou(c->box, d->cands[j].box) > PW_SAME_BOX_IOU)
            return 1;
    return 0;
}

/*
 * Selects the candidates in two passes over the ranked lines: first the
 * lines that repeat no better one, then, while places are left, the
 * repeated ones, best first. A repeat is the same text measured at another
 * level or from another seed, whose box may fit the plate better; it should
 * not push a different place out, but it should not leave a place empty
 * either. Returns the number selected; src[k] is candidate k's line.
 */
static size_t select_candidates(pw_detector *d, const pw_plane *frame, int ox, int oy, int *src)
{
    size_t n = 0, max = (size_t)d->cfg.max_candidates;
    uint8_t taken[PW_MAX_REFINE] = {0};
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < d->nlines && n < max; i++) {
            pw_candidate c;
            if (taken[i] || !line_candidate(d, &d->lines[i], frame, ox, oy, &c))
                continue;
            if (pass == 0 ? repeats(d, n, &c) : same_box(d, n, &c))
                continue;
            taken[i] = 1;
            src[n] = i;
            d->cands[n++] = c;
        }
    }
    return n;
}

/* Sorts the candidates (and their source lines) by descending score, stable, so that ties keep their pass order. */
static void sort_candidates(pw_candidate *c, int *src, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        pw_candidate v = c[i];
        int vs = src[i];
        size_t j = i;
        while (j > 0 && c[j - 1].score < v.score) {
            c[j] = c[j - 1];
            src[j] = src[j - 1];
            j--;
        }
        c[j] = v;
        src[j] = vs;
    }
}

/* Ranks the lines, selects the candidates and cuts their crops. */
static size_t emit_candidates(pw_detector *d, const pw_plane *frame, int ox, int oy)
{
    sort_lines(d->lines, d->nlines);
    int src[PW_DETECT_MAX_CANDIDATES];
    size_t n = select_candidates(d, frame, ox, oy, src);
    sort_candidates(d->cands, src, n);
    size_t crop_stride = (size_t)d->cfg.crop_height * (size_t)(PW_CROP_MAX_ASPECT * d->cfg.crop_height);
    for (size_t i = 0; i < n; i++)
        pw_detect_crop(d, &d->lines[src[i]], d->crops + i * crop_stride, &d->cands[i]);
    return n;
}

int pw_detector_run(pw_detector *d, const pw_plane *grey, const pw_candidate **cands, size_t *n)
{
    if (!d || !grey || !cands || !n)
        return -EINVAL;
    *cands = d->cands;
    *n = 0;
    int rc = pw_plane_check(grey);
    if (rc < 0)
        return rc;
    if (grey->channels != 1)
        return -EINVAL;
    pw_plane roi;
    int ox = 0, oy = 0;
    if (!roi_plane(d, grey, &roi, &ox, &oy))
        return 0;
    rc = pw_detect_find_seeds(d, &roi);
    if (rc < 0)
        return rc;
    refine_seeds(d);
    *n = emit_candidates(d, grey, ox, oy);
    return 0;
}
