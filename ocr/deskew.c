/*
 * deskew.c - levels a tilted line of plate characters before OCR.
 *
 * A crop cut square around a tilted plate holds its characters on a slope.
 * Tesseract reads a sloping line badly, and the row analysis of prep.c,
 * which expects the characters of a row at one height, splits it. The
 * slope is estimated from the character-like components: at the right
 * angle, the centres of the most (and tallest) of them fall on one line.
 */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cvshim.h"
#include "prep.h"

/* Angles tried, in degrees either side of level: the tilt the issue asks the localiser to handle, and a margin. */
#define MAX_SKEW_DEG 20
/* Components considered; a plate has a few dozen at most. */
#define MAX_PARTS 128
/* At least this many characters must line up for a slope to be believed. */
#define MIN_ALIGNED 4
/*
 * A slope must line up this much more character height than level does.
 * The localiser already levels most crops; a level line with a slanted
 * slogan or sticker beside it must not be turned to follow those.
 */
#define MIN_GAIN_OVER_LEVEL 1.3

typedef struct {
    double cx, cy, h;
} part;

/* Character-sized components of one polarity's adaptive binarisation (kept in l). */
static int find_parts(const pw_plane *norm, int light_text, pw_prep_labels *l, part *parts, size_t *n_parts)
{
    *n_parts = 0;
    size_t n_px = (size_t)norm->width * (size_t)norm->height;
    const int32_t *labels = NULL;
    const pw_cc *ccs = NULL;
    size_t n = 0;
    int rc = pw_prep_labelled(l, norm, PW_BIN_ADAPTIVE, light_text, &labels, &ccs, &n);
    if (rc < 0)
        return rc;
    /* Noise lines up somewhere at some angle: a mask as busy as noise has no slope. */
    if (n * 10000 > (size_t)PW_PREP_MAX_CC_DENSITY * n_px)
        n = 0;
    for (size_t i = 0; i < n && i < PW_PREP_MAX_CCS && *n_parts < MAX_PARTS; i++) {
        const pw_cc *c = &ccs[i];
        int tall_enough = c->h >= 8 && c->h * 5 >= norm->height;
        int not_too_tall = c->h * 10 <= norm->height * 9;
        if (tall_enough && not_too_tall && c->w * 10 <= c->h * 12)
            parts[(*n_parts)++] = (part){c->x + c->w / 2.0, c->y + c->h / 2.0, c->h};
    }
    return 0;
}

/* Part q lies on the line of slope t through part p, and is about as tall. */
static int on_line(const part *p, const part *q, double t)
{
    double dy = (q->cy - q->cx * t) - (p->cy - p->cx * t);
    double hmin = p->h < q->h ? p->h : q->h, hmax = p->h + q->h - hmin;
    return fabs(dy) < 0.2 * p->h && hmin >= 0.75 * hmax;
}

/* The largest set (by total height) of similar parts whose centres lie on a line of slope t. */
static double line_score(const part *p, size_t n, double t, size_t *anchor, int *aligned)
{
    double best = 0;
    *aligned = 0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        int count = 0;
        for (size_t j = 0; j < n; j++)
            if (on_line(&p[i], &p[j], t))
                sum += p[j].h, count++;
        if (sum > best)
            best = sum, *aligned = count, *anchor = i;
    }
    return best;
}

/* The slope of the least-squares line through the centres of the parts on anchor's line. */
static double fitted_slope(const part *p, size_t n, size_t anchor, double t)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int k = 0;
    for (size_t j = 0; j < n; j++) {
        if (!on_line(&p[anchor], &p[j], t))
            continue;
        sx += p[j].cx, sy += p[j].cy, sxx += p[j].cx * p[j].cx, sxy += p[j].cx * p[j].cy, k++;
    }
    double den = k * sxx - sx * sx;
    return k >= 2 && den > 0 ? (k * sxy - sx * sy) / den : t;
}

/*
 * The slope, in degrees, that lines up the parts best; 0 when none does
 * better than level. The coarse search finds the line; a fit through its
 * centres measures its slope more finely than the search's steps.
 */
static double best_angle(const part *p, size_t n, double *score)
{
    int aligned = 0;
    size_t anchor = 0;
    double level = line_score(p, n, 0, &anchor, &aligned), best = level, t_best = 0;
    size_t best_anchor = anchor;
    int best_aligned = aligned;
    for (int a = 1; a <= MAX_SKEW_DEG; a++) {
        for (int sign = -1; sign <= 1; sign += 2) {
            double t = tan(sign * a * G_PI / 180.0);
            double s = line_score(p, n, t, &anchor, &aligned);
            if (s > best && s > MIN_GAIN_OVER_LEVEL * level && aligned >= MIN_ALIGNED)
                best = s, t_best = t, best_anchor = anchor, best_aligned = aligned;
        }
    }
    *score = best;
    if (best_aligned < MIN_ALIGNED)
        return 0;
    double degrees = atan(fitted_slope(p, n, best_anchor, t_best)) * 180.0 / G_PI;
    return fabs(degrees) > MAX_SKEW_DEG ? 0 : degrees;
}

int pw_prep_skew(const pw_plane *norm, pw_prep_labels *labels, double *degrees)
{
    if (pw_plane_check(norm) != 0 || norm->channels != 1 || !degrees)
        return -EINVAL;
    *degrees = 0;
    pw_prep_labels *own = NULL;
    if (!labels) {
        pw_prep_labels_new(&own);
        labels = own;
    }
    part *parts = g_new(part, MAX_PARTS);
    double best_score = 0;
    int rc = 0;
    /* The polarity is not known yet: the one whose characters line up better wins. */
    for (int light = 0; light <= 1 && rc == 0; light++) {
        size_t n = 0;
        rc = find_parts(norm, light, labels, parts, &n);
        double score = 0, angle = rc == 0 ? best_angle(parts, n, &score) : 0;
        if (score > best_score)
            best_score = score, *degrees = angle;
    }
    g_free(parts);
    pw_prep_labels_destroy(&own);
    return rc;
}

/* The median grey of the plane: the plate's ground, which fills the corners a rotation opens. */
static int median_grey(const pw_plane *p)
{
    unsigned hist[256] = {0};
    for (int y = 0; y < p->height; y++)
        for (int x = 0; x < p->width; x++)
            hist[*pw_plane_at(p, x, y)]++;
    size_t half = (size_t)p->width * (size_t)p->height / 2, acc = 0;
    for (int v = 0; v < 256; v++)
        if ((acc += hist[v]) > half)
            return v;
    return 255;
}

int pw_prep_rotate(const pw_plane *norm, double degrees, pw_image **out)
{
    if (pw_plane_check(norm) != 0 || norm->channels != 1 || !out || fabs(degrees) > 45)
        return -EINVAL;
    double a = degrees * G_PI / 180.0, c = cos(a), s = sin(a);
    int w = (int)ceil(norm->width * c + norm->height * fabs(s));
    int h = (int)ceil(norm->width * fabs(s) + norm->height * c);
    int rc = pw_image_new(w, h, 1, out);
    if (rc < 0)
        return rc;
    /* Maps a point on a line of the given slope through the centre to the out centre row. */
    double cx = norm->width / 2.0, cy = norm->height / 2.0;
    double m[6] = {c, s, w / 2.0 - c * cx - s * cy, -s, c, h / 2.0 + s * cx - c * cy};
    pw_plane dst = pw_image_plane(*out);
    rc = pw_cv_warp_affine(norm, m, median_grey(norm), &dst);
    if (rc < 0)
        pw_image_destroy(out);
    return rc;
}
