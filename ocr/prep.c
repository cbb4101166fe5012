/*
 * prep.c - turns a plate crop into clean text lines for Tesseract.
 *
 * Tesseract reads a line best when it holds nothing but the characters:
 * frame lines, screws, the country band and the car body around the plate
 * are read as extra letters or spoil the baseline. So the crop is
 * binarised, its connected components are measured, and only those that
 * line up like characters (similar heights, on one baseline, close to each
 * other) are drawn again, black on white, at the height the LSTM model
 * likes. A second row of characters, found the same way, is drawn to the
 * right of the first, so that a two-row plate is read as one line.
 */
#include "prep.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "cvshim.h"

#define MAX_CCS PW_PREP_MAX_CCS
/* Crops narrower than 3 characters of the smallest readable size are refused. */
#define MIN_CROP_W 12
#define MIN_CROP_H 8
/* The contrast (grey levels between the 2nd and 98th percentile) below which a crop is blank. */
#define MIN_CONTRAST 28

static int new_grey(int w, int h, uint8_t fill, pw_image **out)
{
    int rc = pw_image_new(w, h, 1, out);
    if (rc == 0 && fill) {
        pw_plane p = pw_image_plane(*out);
        for (int y = 0; y < h; y++)
            memset(pw_plane_at(&p, 0, y), fill, (size_t)w);
    }
    return rc;
}

/* Stretches the 2nd..98th percentile to 0..255; returns the contrast before. */
static int stretch(pw_plane *p)
{
    unsigned hist[256] = {0};
    for (int y = 0; y < p->height; y++)
        for (int x = 0; x < p->width; x++)
            hist[*pw_plane_at(p, x, y)]++;
    size_t total = (size_t)p->width * (size_t)p->height, acc = 0;
    int lo = 0, hi = 255;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (acc * 50 <= total)
            lo = v;
        if (acc * 50 < total * 49)
            hi = v + 1;
    }
    if (hi > 255)
        hi = 255;
    int contrast = hi - lo;
    if (contrast <= 0)
        return 0;
    uint8_t lut[256];
    for (int v = 0; v < 256; v++) {
        int o = (v - lo) * 255 / contrast;
        lut[v] = (uint8_t)(o < 0 ? 0 : o > 255 ? 255 : o);
    }
    for (int y = 0; y < p->height; y++) {
        uint8_t *row = pw_plane_at(p, 0, y);
        for (int x = 0; x < p->width; x++)
            row[x] = lut[row[x]];
    }
    return contrast;
}

int pw_prep_normalise(const pw_plane *crop, pw_image **out)
{
    int rc = pw_plane_check(crop);
    if (rc < 0)
        return rc;
    if (crop->channels != 1 || !out)
        return -EINVAL;
    if (crop->width < MIN_CROP_W || crop->height < MIN_CROP_H)
        return PW_ENOPLATE;
    /* Plates are wider than tall; a crop beyond 12:1 is scaled by its width instead. */
    double scale = (double)PW_PREP_HEIGHT / crop->height;
    if (crop->width * scale > PW_PREP_HEIGHT * 12)
        scale = (double)PW_PREP_HEIGHT * 12 / crop->width;
    int w = (int)(crop->width * scale + 0.5), h = (int)(crop->height * scale + 0.5);
    if (w < MIN_CROP_W || h < MIN_CROP_H)
        return PW_ENOPLATE;
    rc = new_grey(w, h, 0, out);
    if (rc < 0)
        return rc;
    pw_plane p = pw_image_plane(*out);
    rc = pw_cv_resize(crop, &p);
    if (rc == 0 && stretch(&p) < MIN_CONTRAST)
        rc = PW_ENOPLATE;
    if (rc < 0)
        pw_image_destroy(out);
    return rc;
}

int pw_prep_binarise(const pw_plane *norm, pw_bin_method method, int light_text, pw_plane *mask)
{
    int invert = !light_text;
    if (method == PW_BIN_ADAPTIVE) {
        /* A third of the crop's height; OpenCV needs an odd block of at least 3. */
        int block = norm->height / 3 < 3 ? 3 : (norm->height / 3) | 1;
        return pw_cv_threshold_adaptive(norm, mask, block, light_text ? -8 : 8, invert);
    }
    if (method == PW_BIN_CLAHE) {
        int rc = pw_cv_clahe(norm, mask, 3.0, 4);
        pw_image *tmp = NULL;
        if (rc == 0)
            rc = new_grey(norm->width, norm->height, 0, &tmp);
        if (rc == 0) {
            pw_plane t = pw_image_plane(tmp);
            memcpy(t.data, mask->data, (size_t)mask->stride * (size_t)mask->height);
            rc = pw_cv_threshold_otsu(&t, mask, invert);
        }
        pw_image_destroy(&tmp);
        return rc;
    }
    return pw_cv_threshold_otsu(norm, mask, invert);
}

/* ---- Labelled binarisations ---------------------------------------- */

#define N_METHODS 3

/* One binarisation of the plane, labelled; labels is NULL until it is made. */
typedef struct {
    int width, height; /* of the plane it was made from */
    int32_t *labels;
    pw_cc cc[MAX_CCS];
    size_t n;
} labelled;

struct pw_prep_labels {
    labelled by[N_METHODS][2]; /* method, light_text */
};

int pw_prep_labels_new(pw_prep_labels **out)
{
    if (!out)
        return -EINVAL;
    *out = g_new0(pw_prep_labels, 1);
    return 0;
}

static void forget(labelled *e)
{
    g_free(e->labels);
    memset(e, 0, sizeof *e);
}

void pw_prep_labels_clear(pw_prep_labels *l)
{
    if (!l)
        return;
    for (int m = 0; m < N_METHODS; m++)
        for (int k = 0; k < 2; k++)
            forget(&l->by[m][k]);
}

void pw_prep_labels_destroy(pw_prep_labels **l)
{
    if (!l || !*l)
        return;
    pw_prep_labels_clear(*l);
    g_free(*l);
    *l = NULL;
}

static int make_labelled(const pw_plane *norm, pw_bin_method method, int light_text, labelled *e)
{
    pw_image *mask_img = NULL;
    int rc = new_grey(norm->width, norm->height, 0, &mask_img);
    if (rc < 0)
        return rc;
    pw_plane mask = pw_image_plane(mask_img);
    e->labels = g_new(int32_t, (size_t)norm->width * (size_t)norm->height);
    rc = pw_prep_binarise(norm, method, light_text, &mask);
    if (rc == 0)
        rc = pw_cv_components(&mask, e->labels, e->cc, MAX_CCS, &e->n);
    pw_image_destroy(&mask_img);
    if (rc < 0) {
        forget(e);
        return rc;
    }
    e->width = norm->width;
    e->height = norm->height;
    return 0;
}

int pw_prep_labelled(pw_prep_labels *l, const pw_plane *norm, pw_bin_method method, int light_text,
                     const int32_t **labels, const pw_cc **ccs, size_t *n)
{
    if (!l || pw_plane_check(norm) != 0 || norm->channels != 1 || method < 0 || method >= N_METHODS || !labels ||
        !ccs || !n)
        return -EINVAL;
    labelled *e = &l->by[method][light_text ? 1 : 0];
    /* A plane of another size is another plane: l was not cleared for it, and its labels would not fit. */
    if (e->labels && (e->width != norm->width || e->height != norm->height))
        forget(e);
    int rc = e->labels ? 0 : make_labelled(norm, method, light_text, e);
    if (rc < 0)
        return rc;
    *labels = e->labels;
    *ccs = e->cc;
    *n = e->n;
    return 0;
}

/* ---- Component analysis --------------------------------------------- */

typedef struct {
    const pw_cc *cc;       /* borrowed from the binarisation's pw_prep_labels entry, as labels */
    size_t n;
    const int32_t *labels;
    int width, height;
    unsigned char cand[MAX_CCS];   /* plausible character on its own */
    unsigned char row_of[MAX_CCS]; /* 0 none, 1 or 2: the row it was kept in */
    /*
     * 1 for a component kept only in part: characters joined to a frame or a
     * bar, kept column by column. cut_cols (2 rows of width columns, made on
     * first use) marks the columns of each row where such parts are drawn.
     */
    unsigned char cut[MAX_CCS];
    uint8_t *cut_cols;
} cc_set;

static void cc_set_free(cc_set **s)
{
    if (!s || !*s)
        return;
    g_free((*s)->cut_cols);
    g_free(*s);
    *s = NULL;
}

typedef struct {
    int x0, y0, x1, y1;   /* union box, x1 and y1 exclusive */
    int members;
    int char_h;           /* median height */
    int core_y0, core_y1; /* rows spanned by the members no taller than the row (not a frame's side) */
} row_box;

static int cy2(const pw_cc *c)
{
    return 2 * c->y + c->h;
}

/* A component that could be one character by its own shape. */
static int plausible_char(const pw_cc *c, int W, int H)
{
    if (c->h < H * 15 / 100 || c->h > H * 95 / 100 || c->w > W / 4)
        return 0;
    if (c->w * 10 > c->h * 16 || c->h < 7)
        return 0;
    /* Solid blocks as wide as a letter are bands, logos, stickers or shadows. */
    if (c->area * 100 > c->w * c->h * 80 && c->w * 100 > c->h * 45)
        return 0;
    if (c->area * 100 < c->w * c->h * 12)
        return 0;
    /* Touching both the top and the bottom edge: a frame side or the car body. */
    return !(c->y == 0 && c->y + c->h >= H);
}

static int similar(const pw_cc *a, const pw_cc *b)
{
    int hmax = a->h > b->h ? a->h : b->h, hmin = a->h < b->h ? a->h : b->h;
    return hmin * 10 >= hmax * 7 && abs(cy2(a) - cy2(b)) * 100 < hmax * 70;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Keeps in idx only the largest run of components (by x) without a gap wider than 2 heights. */
static size_t largest_cluster(const cc_set *s, int *idx, size_t n, int char_h)
{
    /* Sort by x (insertion sort: a row holds a handful of components). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && s->cc[idx[j]].x < s->cc[idx[j - 1]].x; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    size_t best_start = 0, best_len = 0, start = 0;
    int right = -1;
    for (size_t i = 0; i <= n; i++) {
        int gap_break = i == n || (i > start && s->cc[idx[i]].x - right > 5 * char_h / 2);
        if (gap_break) {
            if (i - start > best_len) {
                best_len = i - start;
                best_start = start;
            }
            start = i;
            right = -1;
        }
        if (i < n) {
            int r = s->cc[idx[i]].x + s->cc[idx[i]].w;
            right = r > right ? r : right;
        }
    }
    memmove(idx, idx + best_start, best_len * sizeof *idx);
    return best_len;
}

/* Taller than the row's characters by more than a fifth: a frame's side or a band, not one of them. */
static int much_taller(const pw_cc *c, int char_h)
{
    return c->h * 10 > char_h * 12;
}

/* Finds the best row among free candidates and marks it as row number `row`. */
static int find_row(cc_set *s, int row, row_box *box)
{
    /*
     * The registration is the tallest text on a plate: a state name, slogan
     * or dealer line may hold more characters, but smaller ones. So rows
     * compete by their characters' total height, not by their count.
     */
    size_t best = MAX_CCS;
    long best_score = 0;
    for (size_t i = 0; i < s->n && i < MAX_CCS; i++) {
        if (!s->cand[i] || s->row_of[i])
            continue;
        long count = 0, height = 0;
        for (size_t j = 0; j < s->n && j < MAX_CCS; j++)
            if (s->cand[j] && !s->row_of[j] && similar(&s->cc[i], &s->cc[j]))
                count++, height += s->cc[j].h;
        if (count >= 2 && height > best_score) {
            best_score = height;
            best = i;
        }
    }
    if (best == MAX_CCS)
        return 0;
    int idx[MAX_CCS], hs[MAX_CCS];
    size_t n = 0;
    for (size_t j = 0; j < s->n && j < MAX_CCS; j++)
        if (s->cand[j] && !s->row_of[j] && similar(&s->cc[best], &s->cc[j]))
            hs[n] = s->cc[j].h, idx[n++] = (int)j;
    qsort(hs, n, sizeof *hs, cmp_int);
    int char_h = hs[n / 2];
    n = largest_cluster(s, idx, n, char_h);
    if (n < 2)
        return 0;
    *box = (row_box){s->width, s->height, 0, 0, (int)n, char_h, s->height, 0};
    for (size_t k = 0; k < n; k++) {
        const pw_cc *c = &s->cc[idx[k]];
        s->row_of[idx[k]] = (unsigned char)row;
        box->x0 = c->x < box->x0 ? c->x : box->x0;
        box->y0 = c->y < box->y0 ? c->y : box->y0;
        box->x1 = c->x + c->w > box->x1 ? c->x + c->w : box->x1;
        box->y1 = c->y + c->h > box->y1 ? c->y + c->h : box->y1;
        if (!much_taller(c, char_h)) {
            box->core_y0 = c->y < box->core_y0 ? c->y : box->core_y0;
            box->core_y1 = c->y + c->h > box->core_y1 ? c->y + c->h : box->core_y1;
        }
    }
    if (box->core_y1 <= box->core_y0)
        box->core_y0 = box->y0, box->core_y1 = box->y1;
    return 1;
}

/*
 * Adds what the strict shape test left out but the row's geometry admits:
 * pieces of broken characters inside the row's box, and characters merged
 * into one component (as wide as several, but exactly as tall as the row).
 */
static void add_pieces(cc_set *s, int row, row_box *box)
{
    int h = box->char_h, slack = h / 6 + 1;
    for (size_t i = 0; i < s->n && i < MAX_CCS; i++) {
        const pw_cc *c = &s->cc[i];
        if (s->row_of[i] || c->h * 10 < h * 4)
            continue;
        int inside_y = c->y >= box->y0 - slack && c->y + c->h <= box->y1 + slack;
        int near_x = c->x + c->w >= box->x0 - h && c->x <= box->x1 + h;
        int piece = c->w <= h * 3 / 2 && c->x >= box->x0 - h / 2 && c->x + c->w <= box->x1 + h / 2;
        int merged = c->h * 10 >= h * 8 && c->h * 10 <= h * 13 && c->w <= 6 * h &&
                     c->area * 100 < c->w * c->h * 70;
        if (inside_y && ((piece && near_x) || (merged && near_x))) {
            s->row_of[i] = (unsigned char)row;
            box->x0 = c->x < box->x0 ? c->x : box->x0;
            box->y0 = c->y < box->y0 ? c->y : box->y0;
            box->x1 = c->x + c->w > box->x1 ? c->x + c->w : box->x1;
            box->y1 = c->y + c->h > box->y1 ? c->y + c->h : box->y1;
        }
    }
}

/* The part of each component that lies in a band of rows: its columns and pixel count. */
typedef struct {
    int x0[MAX_CCS], x1[MAX_CCS], px[MAX_CCS];
} band_parts;

static void measure_band(const cc_set *s, int bx0, int bx1, int y0, int y1, band_parts *bp)
{
    for (size_t i = 0; i < MAX_CCS; i++)
        bp->x0[i] = INT32_MAX, bp->x1[i] = -1, bp->px[i] = 0;
    for (int y = y0; y < y1; y++) {
        const int32_t *lab = s->labels + (size_t)y * (size_t)s->width;
        for (int x = bx0; x < bx1; x++) {
            int l = lab[x] - 1;
            if (l < 0 || l >= MAX_CCS)
                continue;
            bp->x0[l] = x < bp->x0[l] ? x : bp->x0[l];
            bp->x1[l] = x + 1 > bp->x1[l] ? x + 1 : bp->x1[l];
            bp->px[l]++;
        }
    }
}

/* Extends the row's box over the columns x0..x1 (exclusive) of a joined character. */
static void widen(row_box *box, int x0, int x1)
{
    box->x0 = x0 < box->x0 ? x0 : box->x0;
    box->x1 = x1 > box->x1 ? x1 : box->x1;
}

/* Wider than one character of height h can be. */
static int wider_than_char(int w, int h)
{
    return w * 10 > h * 12;
}

/*
 * As wide and as full as one character of the row, within a character's
 * gap of it: px pixels in columns x0..x1 of a band bh rows high.
 */
static int char_like(const row_box *box, int x0, int x1, int bh, int px)
{
    int h = box->char_h, w = x1 - x0;
    int char_wide = w * 10 >= h * 3 && !wider_than_char(w, h);
    int char_full = px * 100 >= w * bh * 15 && px * 100 <= w * bh * 75;
    int adjacent = x1 >= box->x0 - h && x0 <= box->x1 + h;
    return char_wide && char_full && adjacent;
}

/* Columns x0..x1 hold a character already kept in row r over more than half of their width. */
static int over_member(const cc_set *s, int row, int x0, int x1)
{
    for (size_t i = 0; i < s->n && i < MAX_CCS; i++) {
        const pw_cc *c = &s->cc[i];
        int a = c->x > x0 ? c->x : x0, b = c->x + c->w < x1 ? c->x + c->w : x1;
        if (s->row_of[i] == row && !s->cut[i] && (b - a) * 2 > x1 - x0)
            return 1;
    }
    return 0;
}

/* Keeps columns x0..x1 of component i in row r, drawn as one of its characters. */
static void keep_cut(cc_set *s, int row, size_t i, int x0, int x1)
{
    if (!s->cut_cols)
        s->cut_cols = g_malloc0(2 * (size_t)s->width);
    memset(s->cut_cols + (size_t)(row - 1) * (size_t)s->width + x0, 1, (size_t)(x1 - x0));
    s->row_of[i] = (unsigned char)row, s->cut[i] = 1;
}

/* Columns x0..x1 of a column count all hold ink: one stroke joins them. */
static int joined_by_ink(const int *count, int x0, int x1)
{
    for (int x = x0; x < x1; x++)
        if (count[x] == 0)
            return 0;
    return 1;
}

/*
 * Keeps the character-like column runs of component i that lie in the
 * row's gaps: a frame or a bar that several characters touch is one
 * component far wider than a character, but within the row's band its
 * columns dense with ink are those characters (a link to the frame holds
 * few pixels a column). A character with a thin stroke across (U, the
 * bowl of a J) gives two dense runs joined by ink, taken together when
 * apart they are too narrow. Runs beyond the row's first and last
 * characters are left out: there a frame's corners, bolts and stickers
 * look as much like characters. Only the kept columns are drawn.
 */
static void add_cut(cc_set *s, int row, const row_box *box, size_t i)
{
    int bh = box->core_y1 - box->core_y0, min_col = bh / 8 > 2 ? bh / 8 : 2, w = box->x1 - box->x0;
    int *count = g_new0(int, (size_t)w), *run0 = g_new(int, (size_t)w), *run1 = g_new(int, (size_t)w);
    for (int y = box->core_y0; y < box->core_y1; y++) {
        const int32_t *lab = s->labels + (size_t)y * (size_t)s->width + box->x0;
        for (int x = 0; x < w; x++)
            count[x] += lab[x] == (int32_t)i + 1;
    }
    int n = 0;
    for (int x = 0; x < w;) {
        if (count[x] < min_col) {
            x++;
            continue;
        }
        run0[n] = x;
        while (x < w && count[x] >= min_col)
            x++;
        run1[n++] = x;
    }
    for (int k = 0; k < n; k++) {
        int x0 = run0[k], x1 = run1[k], px = 0;
        for (int x = x0; x < x1; x++)
            px += count[x];
        int like = char_like(box, box->x0 + x0, box->x0 + x1, bh, px);
        if (!like && k + 1 < n && joined_by_ink(count, x1, run0[k + 1])) {
            int px2 = px;
            for (int x = x1; x < run1[k + 1]; x++)
                px2 += count[x];
            if (char_like(box, box->x0 + x0, box->x0 + run1[k + 1], bh, px2))
                like = 1, x1 = run1[++k];
        }
        if (like && !over_member(s, row, box->x0 + x0, box->x0 + x1))
            keep_cut(s, row, i, box->x0 + x0, box->x0 + x1);
    }
    g_free(run1);
    g_free(run0);
    g_free(count);
}

/*
 * Adds characters that are joined to something taller: the plate's edge, a
 * tree, a lighthouse or a ship printed behind the registration. Cut to the
 * row's band, such a component is as wide and as full as one character,
 * and only that cut is drawn (the row's box bounds what is drawn). When the
 * cut is wider than a character, several characters touch the same frame
 * or bar, and each is kept by its columns (add_cut).
 */
static void add_joined(cc_set *s, int row, row_box *box)
{
    int h = box->char_h, bh = box->y1 - box->y0, core_h = box->core_y1 - box->core_y0;
    int bx0 = box->x0 - 2 * h < 0 ? 0 : box->x0 - 2 * h;
    int bx1 = box->x1 + 2 * h > s->width ? s->width : box->x1 + 2 * h;
    band_parts *bp = g_new(band_parts, 1);
    measure_band(s, bx0, bx1, box->y0, box->y1, bp);
    for (size_t i = 0; i < s->n && i < MAX_CCS; i++) {
        const pw_cc *c = &s->cc[i];
        int taller = c->y < box->y0 - h / 4 || c->y + c->h > box->y1 + h / 4;
        if (s->row_of[i] || !taller || bp->px[i] == 0 || c->h * 10 < bh * 9)
            continue;
        if (char_like(box, bp->x0[i], bp->x1[i], bh, bp->px[i])) {
            s->row_of[i] = (unsigned char)row;
            widen(box, bp->x0[i], bp->x1[i]);
        }
    }
    /*
     * The cut is judged on the band of the row's characters alone: a
     * frame's side kept in the row would stretch the band over the frame.
     */
    for (size_t i = 0; i < s->n && i < MAX_CCS; i++) {
        const pw_cc *c = &s->cc[i];
        int taller = c->y < box->core_y0 - h / 4 || c->y + c->h > box->core_y1 + h / 4;
        if (!s->row_of[i] && taller && c->h * 10 >= core_h * 9 && wider_than_char(c->w, h))
            add_cut(s, row, box, i);
    }
    g_free(bp);
}

static int rows_stacked(const row_box *a, const row_box *b)
{
    int overlap_x = (a->x1 < b->x1 ? a->x1 : b->x1) - (a->x0 > b->x0 ? a->x0 : b->x0);
    int apart_y = a->y1 <= b->y0 || b->y1 <= a->y0;
    int hmin = a->char_h < b->char_h ? a->char_h : b->char_h;
    int hmax = a->char_h > b->char_h ? a->char_h : b->char_h;
    return apart_y && overlap_x > 0 && hmin * 10 >= hmax * 6;
}

/* Row analysis of one labelled binarisation: returns the number of rows (0-2), boxes top row first. */
static int analyse(cc_set *s, row_box rows[2])
{
    if (s->n > MAX_CCS || s->n * 10000 > (size_t)PW_PREP_MAX_CC_DENSITY * (size_t)s->width * (size_t)s->height)
        return 0;
    memset(s->row_of, 0, sizeof s->row_of);
    memset(s->cut, 0, sizeof s->cut);
    if (s->cut_cols)
        memset(s->cut_cols, 0, 2 * (size_t)s->width);
    for (size_t i = 0; i < s->n; i++)
        s->cand[i] = (unsigned char)plausible_char(&s->cc[i], s->width, s->height);
    if (!find_row(s, 1, &rows[0]))
        return 0;
    int n_rows = 1;
    row_box second;
    if (find_row(s, 2, &second)) {
        if (rows_stacked(&rows[0], &second)) {
            n_rows = 2;
            if (second.y0 < rows[0].y0) {
                rows[1] = rows[0];
                rows[0] = second;
                for (size_t i = 0; i < s->n && i < MAX_CCS; i++)
                    s->row_of[i] = s->row_of[i] ? (unsigned char)(3 - s->row_of[i]) : 0;
            } else {
                rows[1] = second;
            }
        } else {
            for (size_t i = 0; i < s->n && i < MAX_CCS; i++)
                s->row_of[i] = s->row_of[i] == 2 ? 0 : s->row_of[i];
        }
    }
    for (int r = 0; r < n_rows; r++)
        add_pieces(s, r + 1, &rows[r]), add_joined(s, r + 1, &rows[r]);
    return n_rows;
}

/* ---- Rendering ------------------------------------------------------ */

/* 1 where the pixel belongs to a component kept in row r (1-based). */
static void row_keep_mask(const cc_set *s, int r, const row_box *box, uint8_t *keep)
{
    int bw = box->x1 - box->x0, bh = box->y1 - box->y0;
    const uint8_t *cols = s->cut_cols ? s->cut_cols + (size_t)(r - 1) * (size_t)s->width : NULL;
    for (int y = 0; y < bh; y++) {
        const int32_t *lab = s->labels + (size_t)(box->y0 + y) * (size_t)s->width + box->x0;
        int in_core = box->y0 + y >= box->core_y0 && box->y0 + y < box->core_y1;
        for (int x = 0; x < bw; x++)
            keep[y * bw + x] = lab[x] > 0 && lab[x] <= MAX_CCS && s->row_of[lab[x] - 1] == r &&
                               (!s->cut[lab[x] - 1] || (in_core && cols[box->x0 + x]));
    }
}

/* dst[i * step] is 1 where src holds a non-zero within 2 places of i, along one line of n places. */
static void dilate_line(const uint8_t *src, uint8_t *dst, int n, size_t step)
{
    for (int i = 0; i < n; i++) {
        uint8_t any = 0;
        for (int k = MAX(0, i - 2); k <= MIN(n - 1, i + 2) && !any; k++)
            any = src[(size_t)k * step];
        dst[(size_t)i * step] = any;
    }
}

/*
 * near receives 1 where a kept pixel lies within 2 pixels either way (a 5x5
 * dilation of keep), in two passes of 5 instead of 25 looks a pixel: along
 * the rows, then down the columns of that.
 */
static void dilate_kept(const uint8_t *keep, int bw, int bh, uint8_t *near)
{
    uint8_t *across = g_malloc((size_t)bw * (size_t)bh);
    for (int y = 0; y < bh; y++)
        dilate_line(keep + (size_t)y * (size_t)bw, across + (size_t)y * (size_t)bw, bw, 1);
    for (int x = 0; x < bw; x++)
        dilate_line(across + x, near + x, bh, (size_t)bw);
    g_free(across);
}

/*
 * Copies row r's box from the normalised crop as dark text on white: the
 * kept components and the anti-aliased pixels around them keep their grey
 * levels (the LSTM model was trained on grey text), everything else is white.
 */
static void copy_row(const cc_set *s, const pw_plane *norm, int light, int r, const row_box *box,
                     pw_plane *out)
{
    int bw = box->x1 - box->x0, bh = box->y1 - box->y0;
    uint8_t *keep = g_malloc((size_t)bw * (size_t)bh), *near = g_malloc((size_t)bw * (size_t)bh);
    row_keep_mask(s, r, box, keep);
    dilate_kept(keep, bw, bh, near);
    for (int y = 0; y < bh; y++) {
        const int32_t *lab = s->labels + (size_t)(box->y0 + y) * (size_t)s->width + box->x0;
        const uint8_t *g = pw_plane_at(norm, box->x0, box->y0 + y);
        uint8_t *o = pw_plane_at(out, 0, y);
        for (int x = 0; x < bw; x++) {
            uint8_t v = light ? (uint8_t)(255 - g[x]) : g[x];
            int use = keep[y * bw + x] || (lab[x] == 0 && near[y * bw + x]);
            o[x] = use ? v : 255;
        }
    }
    g_free(near);
    g_free(keep);
}

/* Draws row r (0-based), scaled to PW_PREP_CHAR_HEIGHT, at x, top in the line image. */
static int draw_row(const cc_set *s, const pw_plane *norm, int light, int r, const row_box *box,
                    pw_plane *line, int x, int top)
{
    int bw = box->x1 - box->x0, bh = box->y1 - box->y0;
    pw_image *src = NULL;
    int rc = new_grey(bw, bh, 255, &src);
    if (rc < 0)
        return rc;
    pw_plane sp = pw_image_plane(src);
    copy_row(s, norm, light, r + 1, box, &sp);
    double scale = (double)PW_PREP_CHAR_HEIGHT / box->char_h;
    pw_plane dst = *line;
    dst.width = (int)(bw * scale + 0.5);
    dst.height = (int)(bh * scale + 0.5);
    if (dst.width < 1)
        dst.width = 1;
    if (dst.height < 1)
        dst.height = 1;
    dst.data = pw_plane_at(line, x, top);
    if (x + dst.width > line->width || top + dst.height > line->height)
        rc = -ERANGE;
    else
        rc = pw_cv_resize(&sp, &dst);
    pw_image_destroy(&src);
    return rc;
}

static int scaled(int v, const row_box *b)
{
    return (int)((double)v * PW_PREP_CHAR_HEIGHT / b->char_h + 0.5);
}

static int render(const cc_set *s, const pw_plane *norm, int light, const row_box *rows, int n_rows,
                  pw_image **line)
{
    int margin = PW_PREP_CHAR_HEIGHT / 2, gap = PW_PREP_CHAR_HEIGHT;
    int width = 2 * margin + (n_rows - 1) * gap, height = 0;
    for (int r = 0; r < n_rows; r++) {
        width += scaled(rows[r].x1 - rows[r].x0, &rows[r]) + 1;
        int h = scaled(rows[r].y1 - rows[r].y0, &rows[r]) + 1;
        height = h > height ? h : height;
    }
    height += 2 * margin;
    int rc = new_grey(width, height, 255, line);
    if (rc < 0)
        return rc;
    pw_plane lp = pw_image_plane(*line);
    int x = margin;
    for (int r = 0; r < n_rows && rc == 0; r++) {
        int h = scaled(rows[r].y1 - rows[r].y0, &rows[r]);
        int top = (height - h) / 2;
        rc = draw_row(s, norm, light, r, &rows[r], &lp, x, top);
        x += scaled(rows[r].x1 - rows[r].x0, &rows[r]) + 1 + gap;
    }
    if (rc < 0)
        pw_image_destroy(line);
    return rc;
}

/* Characters found in the rows. */
static int row_members(const row_box *rows, int n_rows)
{
    int m = 0;
    for (int r = 0; r < n_rows; r++)
        m += rows[r].members;
    return m;
}

/* Analyses one polarity; returns rows found (0-2) or a negative code. */
static int try_polarity(const pw_plane *norm, pw_bin_method method, int light, pw_prep_labels *l, cc_set *s,
                        row_box rows[2])
{
    s->width = norm->width;
    s->height = norm->height;
    int rc = pw_prep_labelled(l, norm, method, light, &s->labels, &s->cc, &s->n);
    if (rc < 0)
        return rc;
    return analyse(s, rows);
}

/*
 * The components kept in the rows that may be characters: a thin one much
 * taller than its row's characters is a frame's side, drawn with the row
 * but not counted as one of its characters.
 */
static int kept(const cc_set *s, const row_box *rows)
{
    int n = 0;
    for (size_t i = 0; i < s->n && i < MAX_CCS; i++) {
        const pw_cc *c = &s->cc[i];
        int h = s->row_of[i] ? rows[s->row_of[i] - 1].char_h : 0;
        n += s->row_of[i] != 0 && !(much_taller(c, h) && c->w * 4 < h);
    }
    return n;
}

/*
 * Most plates are dark characters on a light ground, and characters cover
 * well under half of a plate: so when most of the plate's centre is light,
 * the text is dark.
 */
static int guess_light_text(const pw_plane *norm)
{
    int x0 = norm->width * 15 / 100, x1 = norm->width * 85 / 100;
    int y0 = norm->height / 5, y1 = norm->height * 4 / 5;
    long light = 0, total = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++, total++)
            light += *pw_plane_at(norm, x, y) >= 128;
    return light * 2 < total;
}

int pw_prep_line(const pw_plane *norm, pw_bin_method method, int polarity, pw_prep_labels *labels,
                 pw_image **line, pw_prep_info *info)
{
    if (pw_plane_check(norm) != 0 || norm->channels != 1 || !line || !info)
        return -EINVAL;
    memset(info, 0, sizeof *info);
    pw_prep_labels *own = NULL;
    if (!labels) {
        pw_prep_labels_new(&own);
        labels = own;
    }
    cc_set *s = g_new0(cc_set, 1);
    row_box rows[2];
    int guess = guess_light_text(norm), light = polarity >= 0 ? polarity : guess;
    int n_rows = try_polarity(norm, method, light, labels, s, rows);
    if (n_rows >= 0 && polarity < 0) {
        /* Both polarities are tried: the one whose rows hold more characters wins. */
        cc_set *other = g_new0(cc_set, 1);
        row_box other_rows[2];
        int n_other = try_polarity(norm, method, !light, labels, other, other_rows);
        if (n_other > 0 && row_members(other_rows, n_other) > row_members(rows, n_rows)) {
            cc_set *t = s;
            s = other;
            other = t;
            memcpy(rows, other_rows, sizeof rows);
            n_rows = n_other;
            light = !light;
        }
        cc_set_free(&other);
    }
    int rc = n_rows < 0 ? n_rows : n_rows == 0 ? PW_ENOPLATE : 0;
    if (rc == 0) {
        *info = (pw_prep_info){n_rows, kept(s, rows), light, rows[0].char_h};
        rc = render(s, norm, light, rows, n_rows, line);
    }
    cc_set_free(&s);
    pw_prep_labels_destroy(&own);
    return rc;
}

int pw_prep_plain(const pw_plane *norm, int light_text, pw_image **line)
{
    if (pw_plane_check(norm) != 0 || norm->channels != 1 || !line)
        return -EINVAL;
    int margin = norm->height / 6;
    int rc = new_grey(norm->width + 2 * margin, norm->height + 2 * margin, 255, line);
    if (rc < 0)
        return rc;
    pw_plane lp = pw_image_plane(*line);
    for (int y = 0; y < norm->height; y++) {
        const uint8_t *src = pw_plane_at(norm, 0, y);
        uint8_t *dst = pw_plane_at(&lp, margin, y + margin);
        for (int x = 0; x < norm->width; x++)
            dst[x] = light_text ? (uint8_t)(255 - src[x]) : src[x];
    }
    return 0;
}

