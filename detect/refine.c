/*
 * refine.c - turns a seed into a text line: estimates the tilt by shearing
 * the vertical-edge energy of a patch around the seed until its row
 * projection is sharpest, takes the band of rows around the seed as the
 * characters' height, and finds where the characters end as the best run of
 * text-like columns. Works on the level the seed was found at, where text is
 * 7 to 24 pixels tall, so a patch is small; the patch's edge rows and block
 * sums come from the SIMD kernels, the rest is scalar and shared by all
 * levels.
 */
#include "detect_internal.h"

#include <math.h>
#include <string.h>

/*
 * Text heights accepted at a level. The window finds text 8-20 px tall; a
 * taller band belongs to a coarser level, and texture (asphalt, foliage)
 * shows up as a band filling the whole patch, which this rejects too.
 */
#define PW_TEXT_MIN_H 7
#define PW_TEXT_MAX_H 24
/* Fewest stroke edges a plate's text shows, and how many it shows per text height of length. */
#define PW_MIN_STROKES 6
#define PW_STROKES_PER_HEIGHT 2.5f
/* A tilt of slope t (tan) loses t / PW_TILT_HANDICAP of its sharpness in best_slope. */
#define PW_TILT_HANDICAP 6
/* A line from a sheared grid's seed must lean its way by at least this slope (tan in 1/256, 7 degrees). */
#define PW_SHEARED_MIN_SLOPE 31
/* Stroke edges this strong (grey levels over two pixels, above the floor) count fully. */
#define PW_FULL_CONTRAST 32.f

/*
 * Shear slopes tried first, as tan(angle) in 1/256: -24 to 24 degrees in
 * steps of about 3.5 degrees. Plates seen from the side of a lane or a
 * kerb lean by more than the 15 degrees a camera's roll gives; the tilt
 * handicap in best_slope keeps the steep slopes from winning on noise.
 */
static const int coarse_slopes[] = {-116, -98, -81, -64, -47, -31, -16, 0, 16, 31, 47, 64, 81, 98, 116};
#define N_COARSE ((int)(sizeof coarse_slopes / sizeof coarse_slopes[0]))

typedef struct {
    int x0, y0, w, h; /* patch in level pixels */
    int cx;           /* shear pivot column, patch coordinates */
} patch_geom;

/* A run of text columns in patch coordinates. */
typedef struct {
    int left, right;
} extent;

/*
 * The patch's 99th percentile edge magnitude, at least 1, estimated from
 * every other column of every fourth row: a cap needs no more precision.
 */
static int patch_cap(const pw_detector *d, const patch_geom *g)
{
    int hist[256] = {0};
    int rows = 0;
    for (int y = 0; y < g->h; y += 4, rows++)
        for (int x = 0; x < g->w; x += 2)
            hist[d->patch[y * PW_PATCH_W + x]]++;
    int rank = (g->w + 1) / 2 * rows / 100, v = 255;
    for (int acc = 0; v > 0 && acc + hist[v] <= rank; v--)
        acc += hist[v];
    return v > 1 ? v : 1;
}

/*
 * Fills d->patch with the edge magnitudes max(|dI/dx| - floor, 0) around the
 * seed, capped at the patch's 99th percentile so that one glaring edge (a
 * plate's side against a dark car, a headlight) cannot outweigh a row of
 * characters. Returns -1 when the patch is too small to hold a plate.
 */
static int load_patch(pw_detector *d, const pw_level *lv, const pw_seed *s, patch_geom *g)
{
    int x0 = s->x - PW_PATCH_HALF_W, x1 = s->x + PW_PATCH_HALF_W;
    int y0 = s->y - PW_PATCH_HALF_H, y1 = s->y + PW_PATCH_HALF_H;
    x0 = x0 < 1 ? 1 : x0;
    x1 = x1 > lv->w - 1 ? lv->w - 1 : x1;
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 > lv->h ? lv->h : y1;
    if (x1 - x0 < 16 || y1 - y0 < 8)
        return -1;
    *g = (patch_geom){x0, y0, x1 - x0, y1 - y0, s->x - x0};
    for (int y = 0; y < g->h; y++)
        d->k->edge_row(lv->data + (ptrdiff_t)(y0 + y) * lv->stride + x0, g->w, PW_EDGE_FLOOR,
                       d->patch + y * PW_PATCH_W);
    int cap = patch_cap(d, g);
    for (int y = 0; y < g->h; y++)
        d->k->cap_blocks(d->patch + y * PW_PATCH_W, g->w, cap, d->blocks + y, PW_PATCH_H);
    return 0;
}

/* Row offset of column x under a shear of slope/256, rounded to nearest. */
static inline int shear(int x, int pivot, int slope)
{
    return ((x - pivot) * slope + 128) >> 8;
}

/* Projects the patch along slope into d->proj; returns the sum of squares (sharpness). */
static int64_t project(pw_detector *d, const patch_geom *g, int slope)
{
    memset(d->proj, 0, sizeof d->proj);
    int nb = (g->w + PW_BLOCK_W - 1) / PW_BLOCK_W;
    for (int b = 0; b < nb; b++) {
        int off = PW_PROJ_MARGIN - shear(b * PW_BLOCK_W + PW_BLOCK_W / 2, g->cx, slope);
        d->k->accumulate(d->proj + off, d->blocks + b * PW_PATCH_H, g->h);
    }
    int64_t sq = 0;
    for (int i = 0; i < PW_PROJ_LEN; i++)
        sq += (int64_t)d->proj[i] * d->proj[i];
    return sq;
}

/*
 * The projection's sharpness at a slope, less a handicap that grows with
 * the slope: a plate's own edges, a grille or a frame beside the text can
 * make a wrong tilt a little sharper than the right one, and most plates
 * are nearly level, so a steep tilt has to win clearly.
 */
static int64_t tilt_sharpness(pw_detector *d, const patch_geom *g, int slope)
{
    int64_t sq = project(d, g, slope);
    return sq - sq / PW_TILT_HANDICAP * (slope < 0 ? -slope : slope) / 256;
}

static int best_slope(pw_detector *d, const patch_geom *g)
{
    int best = 0;
    int64_t best_sq = -1;
    for (int i = 0; i < N_COARSE; i++) {
        int64_t sq = tilt_sharpness(d, g, coarse_slopes[i]);
        if (sq > best_sq)
            best_sq = sq, best = coarse_slopes[i];
    }
    /* Two halving steps around the coarse best: 1.75 then 0.9 degrees. */
    for (int step = 8; step >= 4; step /= 2) {
        int centre = best;
        for (int delta = -step; delta <= step; delta += 2 * step) {
            int64_t sq = tilt_sharpness(d, g, centre + delta);
            if (sq > best_sq)
                best_sq = sq, best = centre + delta;
        }
    }
    project(d, g, best);
    return best;
}

/*
 * The band of projection rows around the seed's row whose energy stays
 * above a share of its peak. When texture (leaves, gravel, a grille) runs
 * into the text the band grows past any text height, so the share is raised
 * step by step until the band is short enough or nothing is left of it.
 */
static int find_band(const pw_detector *d, const patch_geom *g, int seed_y, int *top, int *bottom)
{
    int centre = seed_y - g->y0 + PW_PROJ_MARGIN;
    int peak = -1, peak_v = 0;
    for (int i = centre - 5; i <= centre + 5; i++) {
        if (i >= 0 && i < PW_PROJ_LEN && d->proj[i] > peak_v)
            peak_v = d->proj[i], peak = i;
    }
    if (peak < 0)
        return -1;
    for (int tenths = 5; tenths <= 8; tenths++) {
        int thr = peak_v * tenths / 10;
        int t = peak, b = peak;
        while (t - 1 >= 0 && (d->proj[t - 1] >= thr || (t - 2 >= 0 && d->proj[t - 2] >= thr)))
            t--;
        while (b + 1 < PW_PROJ_LEN && (d->proj[b + 1] >= thr || (b + 2 < PW_PROJ_LEN && d->proj[b + 2] >= thr)))
            b++;
        *top = t;
        *bottom = b;
        if (b - t + 1 <= PW_TEXT_MAX_H)
            break;
    }
    return 0;
}

/* Sum of the sheared band rows [top, bottom] in column x; rows outside the patch count zero. */
static int band_sum(const pw_detector *d, const patch_geom *g, int slope, int x, int top, int bottom)
{
    int off = shear(x, g->cx, slope) - PW_PROJ_MARGIN;
    int y0 = top + off, y1 = bottom + off;
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 > g->h - 1 ? g->h - 1 : y1;
    int s = 0;
    for (int y = y0; y <= y1; y++)
        s += d->patch[y * PW_PATCH_W + x];
    return s;
}

/*
 * A column is part of the text when it has enough energy in the band and
 * more there than in the rows just above and below it: clutter beside a
 * plate (grilles, bumpers, poles) runs through the band instead of stopping
 * at it.
 */
static int active_column(const pw_detector *d, const patch_geom *g, int slope, int x, int top,
                         int bottom)
{
    if (d->cols[x] <= 0)
        return 0;
    int half = (bottom - top + 2) / 2;
    int around = band_sum(d, g, slope, x, top - half, top - 1) + band_sum(d, g, slope, x, bottom + 1, bottom + half);
    return d->cols[x] > around;
}

/*
 * The column to grow the text from: the centre of the densest stretch of
 * two text heights within the seed's window, so that a seed lying half on a
 * plate and half on the bumper starts from the characters.
 */
static int densest_column(const pw_detector *d, const patch_geom *g, int hgt)
{
    int half = hgt, from = g->cx - PW_WIN_W * PW_CELL_W / 2, to = g->cx + PW_WIN_W * PW_CELL_W / 2;
    from = from < half ? half : from;
    to = to > g->w - 1 - half ? g->w - 1 - half : to;
    int best = g->cx < 0 ? 0 : g->cx >= g->w ? g->w - 1 : g->cx;
    int64_t best_sum = -1;
    for (int x = from; x <= to; x++) {
        int64_t sum = 0;
        for (int k = -half; k <= half; k++)
            sum += d->cols[x + k];
        if (sum > best_sum)
            best_sum = sum, best = x;
    }
    return best;
}

/*
 * Walks from the pivot in direction dir and returns the end of the best run
 * (see find_extent). A gap of more than a text height without text-like
 * columns ends the walk: characters are never that far apart, so whatever
 * lies beyond belongs to something else.
 */
static int extend(const pw_detector *d, const patch_geom *g, int slope, int top, int bottom, int pivot, int dir,
                  int tau, int cap)
{
    int64_t run = 0, best = 0;
    int end = pivot, gap = 0, max_gap = bottom - top + 1;
    for (int x = pivot + dir; x >= 0 && x < g->w && gap <= max_gap; x += dir) {
        int c = active_column(d, g, slope, x, top, bottom) ? d->cols[x] : 0;
        gap = c < tau ? gap + 1 : 0;
        run += (c < cap ? c : cap) - tau;
        if (run > best)
            best = run, end = x;
    }
    return end;
}

/*
 * The text's extent: the run of columns around the pivot that maximises
 * the sum of (energy - tau), where tau is 0.4 of the mean column energy
 * near the pivot. Each column counts at most twice that mean, so that one
 * strong edge cannot pay for a stretch of empty plate, and columns that are
 * not text-like (active_column) count as empty.
 */
static void find_extent(pw_detector *d, const patch_geom *g, int slope, int top, int bottom, extent *e)
{
    int hgt = bottom - top + 1, reach = hgt * 3 / 2 > 8 ? hgt * 3 / 2 : 8;
    int64_t total = 0;
    int n = 0;
    for (int x = 0; x < g->w; x++) {
        d->cols[x] = band_sum(d, g, slope, x, top, bottom);
        if (x >= g->cx - reach && x <= g->cx + reach)
            total += d->cols[x], n++;
    }
    int mean = n ? (int)(total / n) : 1;
    int tau = mean * 2 / 5 > 1 ? mean * 2 / 5 : 1, cap = mean * 2 > tau ? mean * 2 : tau;
    int pivot = densest_column(d, g, hgt);
    e->left = extend(d, g, slope, top, bottom, pivot, -1, tau, cap);
    e->right = extend(d, g, slope, top, bottom, pivot, 1, tau, cap);
}

/*
 * Counts the stroke edges between l and r: local maxima of the column
 * profile above a share of its largest value. Characters give three or four
 * per character; a headlight, a pole or a frame gives two.
 */
static int count_strokes(const pw_detector *d, int l, int r)
{
    int hi = 0;
    for (int x = l; x <= r; x++)
        hi = d->cols[x] > hi ? d->cols[x] : hi;
    int thr = hi / 4 > 1 ? hi / 4 : 1, n = 0;
    for (int x = l; x <= r; x++) {
        int left = x > l ? d->cols[x - 1] : 0, right = x < r ? d->cols[x + 1] : 0;
        n += d->cols[x] >= thr && d->cols[x] > left && d->cols[x] >= right;
    }
    return n;
}

/* Mean edge energy of the sheared rows [top, bottom] over columns [l, r]. */
static float band_mean(const pw_detector *d, const patch_geom *g, int slope, int l, int r, int top,
                       int bottom)
{
    if (bottom < top)
        return 0.f;
    int64_t s = 0;
    for (int x = l; x <= r; x++)
        s += band_sum(d, g, slope, x, top, bottom);
    return (float)s / (float)((r - l + 1) * (bottom - top + 1));
}

/* Mean magnitude of the stroke edges in the band, 0 when there are none. */
static float stroke_contrast(const pw_detector *d, const patch_geom *g, int slope, int l, int r, int top,
                             int bottom)
{
    int sum = 0, n = 0;
    for (int x = l; x <= r; x++) {
        int off = shear(x, g->cx, slope) - PW_PROJ_MARGIN;
        for (int y = top + off; y <= bottom + off; y++) {
            int v = y >= 0 && y < g->h ? d->patch[y * PW_PATCH_W + x] : 0;
            sum += v, n += v != 0;
        }
    }
    return n ? (float)sum / (float)n : 0.f;
}

/* 1 when most pixels of the text box are brighter than its mean, i.e. dark text on a light plate. */
static int polarity(const pw_level *lv, const patch_geom *g, int slope, int l, int r, int top,
                    int bottom)
{
    int64_t sum = 0;
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        int mean = n ? (int)(sum / n) : 0, above = 0, total = 0;
        for (int x = l; x <= r; x++) {
            int off = shear(x, g->cx, slope) - PW_PROJ_MARGIN;
            for (int y = top + off; y <= bottom + off; y++) {
                if (y < 0 || y >= g->h)
                    continue;
                int v = lv->data[(ptrdiff_t)(g->y0 + y) * lv->stride + g->x0 + x];
                if (pass == 0)
                    sum += v, n++;
                else
                    above += v > mean, total++;
            }
        }
        if (pass == 1)
            return above * 2 > total;
    }
    return 1;
}

/*
 * How well a text height suits the level it was measured at: the same plate
 * is often found at two levels, and the one where its text is 9-20 px tall
 * measures tilt and extent best, so it should win the tie.
 */
static float level_fit(int hgt)
{
    if (hgt < 9)
        return 0.4f + 0.3f * (float)(hgt - PW_TEXT_MIN_H);
    if (hgt > 20)
        return 1.f - 0.075f * (float)(hgt - 20);
    return 1.f;
}

/* The line's score from its band, extent and strokes; 0 or less when it is no text line. */
static float line_score(const pw_detector *d, const patch_geom *g, int slope, int top, int bottom, int l, int r)
{
    int hgt = bottom - top + 1, wid = r - l + 1;
    if (wid * 2 < hgt * 3 || wid > hgt * 14)
        return 0.f;
    int strokes = count_strokes(d, l, r);
    if (strokes < PW_MIN_STROKES)
        return 0.f;
    float m_in = band_mean(d, g, slope, l, r, top, bottom);
    int bh = (hgt + 1) / 2;
    float m_up = band_mean(d, g, slope, l, r, top - bh, top - 1);
    float m_dn = band_mean(d, g, slope, l, r, bottom + 1, bottom + bh);
    float aspect = (float)wid / (float)hgt;
    float shape = aspect < 2.5f ? aspect / 2.5f : 1.f;
    float density = (float)strokes / aspect / PW_STROKES_PER_HEIGHT;
    /* Both sides busy means a slice through taller characters or texture, so the quieter side weighs most. */
    float quiet = fminf(m_up, m_dn), busy = fmaxf(m_up, m_dn);
    float contrast = fminf(stroke_contrast(d, g, slope, l, r, top, bottom) / PW_FULL_CONTRAST, 1.f);
    /*
     * The band's excess energy is divided by the square root of its energy,
     * so that the score grows with the square root of the contrast rather
     * than in proportion: a faint plate at night is then not outranked by
     * every bright lamp and grille.
     */
    float excess = (m_in - 0.5f * busy - 1.5f * quiet) / sqrtf(fmaxf(m_in, 1.f));
    return 600.f * excess * shape * fminf(density, 1.f) * contrast * level_fit(hgt);
}

/* Fills out with the line of columns [l, r] and rows [top, bottom], in level-0 pixels; -1 when it is no text line. */
static int make_line(const pw_detector *d, const pw_seed *s, const patch_geom *g, int slope, int top, int bottom,
                     int l, int r, pw_textline *out)
{
    float score = line_score(d, g, slope, top, bottom, l, r);
    if (score <= 0.f)
        return -1;
    /* Back to level-0 pixels: level pixel centres sit at (x + 0.5) * scale - 0.5. */
    float scale = (float)(1 << s->level);
    float t = (float)slope / 256.f;
    float xc = (float)(l + r + 1) / 2.f;
    float yc = (float)(top + bottom + 1) / 2.f - PW_PROJ_MARGIN + t * (xc - (float)g->cx) - 0.5f;
    float lx = (float)g->x0 + xc - 0.5f, ly = (float)g->y0 + yc;
    float c = 1.f / sqrtf(1.f + t * t);
    out->cx = (lx + 0.5f) * scale - 0.5f;
    out->cy = (ly + 0.5f) * scale - 0.5f;
    out->len = (float)(r - l + 1) / c * scale;
    out->hgt = (float)(bottom - top + 1) * c * scale;
    out->angle = atanf(t);
    out->score = score;
    out->level = s->level;
    out->dark_on_light = polarity(&d->levels[s->level], g, slope, l, r, top, bottom);
    return 0;
}

int pw_detect_refine(pw_detector *d, const pw_seed *s, pw_textline *out)
{
    const pw_level *lv = &d->levels[s->level];
    patch_geom g;
    if (load_patch(d, lv, s, &g) < 0)
        return -1;
    int slope = best_slope(d, &g);
    /*
     * A seed from a sheared grid stands for text leaning its way. When its
     * patch is sharpest nearer level, the level grid's seeds cover that text,
     * and the line would most likely be clutter seen from an angle.
     */
    if (s->sheared && slope * s->sheared < PW_SHEARED_MIN_SLOPE)
        return -1;
    int top, bottom;
    if (find_band(d, &g, s->y, &top, &bottom) < 0)
        return -1;
    int hgt = bottom - top + 1;
    if (hgt < PW_TEXT_MIN_H || hgt > PW_TEXT_MAX_H)
        return -1;
    extent e;
    find_extent(d, &g, slope, top, bottom, &e);
    return make_line(d, s, &g, slope, top, bottom, e.left, e.right, out);
}
