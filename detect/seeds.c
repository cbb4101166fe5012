/*
 * seeds.c - the coarse search: a pyramid of halved frames, a grid of
 * vertical-edge cells per level, and a window score over the grid. Local
 * maxima of the score are the seeds that refine.c turns into text lines.
 */
#include "detect_internal.h"

#include <string.h>

/* A window must beat this to become a seed: about 1.5 grey levels of mean edge contrast. */
#define PW_MIN_SEED_SCORE 200

/* Builds levels 1.. by halving; level 0 is the ROI itself, never copied. */
static int build_pyramid(pw_detector *d, const pw_plane *roi)
{
    size_t need = 0;
    int w = roi->width, h = roi->height, n = 1;
    while (n <= d->level_hi && w / 2 >= PW_CELL_W * PW_WIN_W && h / 2 >= PW_CELL_H * 12) {
        w /= 2, h /= 2;
        need += (size_t)w * (size_t)h;
        n++;
    }
    int rc = pw_detect_reserve(d, (void **)&d->pyr, &d->pyr_cap, need ? need : 1);
    if (rc < 0)
        return rc;
    d->levels[0] = (pw_level){roi->data, roi->width, roi->height, roi->stride};
    uint8_t *next = d->pyr;
    for (int l = 1; l < n; l++) {
        const pw_level *up = &d->levels[l - 1];
        pw_level *lv = &d->levels[l];
        *lv = (pw_level){next, up->w / 2, up->h / 2, up->w / 2};
        d->k->downscale2(up->data, up->stride, next, lv->stride, lv->w, lv->h);
        next += (size_t)lv->w * (size_t)lv->h;
    }
    d->nlevels = n;
    return 0;
}

/*
 * The per-level seed heap is a min-heap on score, so the weakest is evicted
 * first; ties go by position so that every SIMD level keeps the same seeds.
 */
static int seed_less(const pw_seed *a, const pw_seed *b)
{
    if (a->score != b->score)
        return a->score < b->score;
    if (a->y != b->y)
        return a->y > b->y;
    return a->x > b->x;
}

static void heap_sift_down(pw_seed_heap *hp, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < hp->n && seed_less(&hp->items[l], &hp->items[m]))
            m = l;
        if (r < hp->n && seed_less(&hp->items[r], &hp->items[m]))
            m = r;
        if (m == i)
            return;
        pw_seed t = hp->items[i];
        hp->items[i] = hp->items[m];
        hp->items[m] = t;
        i = m;
    }
}

static void heap_push(pw_seed_heap *hp, pw_seed s)
{
    pw_seed *h = hp->items;
    if (hp->n == hp->cap) {
        if (!seed_less(&h[0], &s))
            return;
        h[0] = s;
        heap_sift_down(hp, 0);
        return;
    }
    int i = hp->n++;
    h[i] = s;
    while (i > 0 && seed_less(&h[i], &h[(i - 1) / 2])) {
        pw_seed t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/*
 * A cell grid as the window search reads it. A sheared grid holds text
 * leaning by one cell row per cell column as level rows: its row Y, column c
 * is cell row Y - off + sign * c of the level's grid (sign 0 for the level
 * grid itself), so only the columns where every row of a window lies inside
 * the level hold windows.
 */
typedef struct {
    const uint8_t *grid;
    size_t stride;
    int rows, n;   /* window rows, window positions per row */
    int sign, off;
    int ch;        /* cell rows of the level */
    int level;
} grid_view;

/* The window positions [*x0, *x1) of window row y whose cells all lie inside the level. */
static void window_range(const grid_view *v, int y, int *x0, int *x1)
{
    *x0 = 0, *x1 = v->n;
    if (v->sign == 0)
        return;
    /* Every column c of the window needs lo <= sign * c <= hi. */
    int lo = v->off - y, hi = v->ch - PW_SPAN_ROWS + v->off - y;
    int clo = v->sign > 0 ? lo : -hi, chi = v->sign > 0 ? hi : -lo;
    *x0 = clo > 0 ? clo : 0;
    *x1 = chi - PW_WIN_W + 2 < v->n ? chi - PW_WIN_W + 2 : v->n;
}

/* The seed of window (x, y) of the view, its centre in level pixels. */
static pw_seed view_seed(const grid_view *v, int score, int x, int y)
{
    int row = (y - v->off + PW_BAND_H + PW_GAP_H) * PW_CELL_H + PW_WIN_H * PW_CELL_H / 2;
    /* Column c is shifted by sign * c cell rows; the window's centre is at column x + 2.5. */
    row += v->sign * (2 * x + PW_WIN_W - 1) * PW_CELL_H / 2;
    return (pw_seed){score, v->level, x * PW_CELL_W + PW_WIN_W * PW_CELL_W / 2, row, v->sign};
}

/*
 * Pushes the strict local maxima of the middle ring row. Ties are broken by
 * position (strictly greater than the earlier neighbours, at least equal to
 * the later ones) so that a plateau gives one seed, not many.
 */
static void push_maxima(pw_detector *d, const grid_view *v, const int16_t *up, const int16_t *mid,
                        const int16_t *down, int cy)
{
    int n = v->n;
    /* Below the weakest kept seed, a full heap would refuse it anyway. */
    int thr = d->heap.n == d->heap.cap ? d->heap.items[0].score : PW_MIN_SEED_SCORE - 1;
    for (int x = d->k->next_above(mid, 0, n, thr); x < n; x = d->k->next_above(mid, x + 1, n, thr)) {
        int s = mid[x];
        int xl = x > 0 ? x - 1 : x, xr = x + 1 < n ? x + 1 : x;
        if (s <= up[xl] || s <= up[x] || s <= up[xr] || s <= mid[xl])
            continue;
        if (s < mid[xr] || s < down[xl] || s < down[x] || s < down[xr])
            continue;
        heap_push(&d->heap, view_seed(v, s, x, cy));
        thr = d->heap.n == d->heap.cap ? d->heap.items[0].score : PW_MIN_SEED_SCORE - 1;
    }
}

/*
 * Scores window row y of the view into score; positions whose window leaves
 * the level score 0, below any seed.
 */
static void score_row(pw_detector *d, const grid_view *v, int y, int16_t *score)
{
    int x0, x1;
    window_range(v, y, &x0, &x1);
    if (x0 >= x1) {
        memset(score, 0, (size_t)v->n * sizeof *score);
        return;
    }
    const uint8_t *rp[PW_WIN_ROWS];
    for (int r = 0; r < PW_WIN_ROWS; r++) {
        int gaps = (r >= PW_BAND_H) + (r >= PW_BAND_H + PW_WIN_H);
        rp[r] = v->grid + (size_t)(y + r + gaps * PW_GAP_H) * v->stride + x0;
    }
    memset(score, 0, (size_t)x0 * sizeof *score);
    d->k->window_row(rp, x1 - x0, d->vin, d->vout, score + x0);
    memset(score + x1, 0, (size_t)(v->n - x1) * sizeof *score);
}

/* Scores every window of the view and pushes its local maxima onto the level's heap. */
static void search_view(pw_detector *d, const grid_view *v)
{
    int16_t *ring[3] = {d->score_ring, d->score_ring + d->row_cap, d->score_ring + 2 * d->row_cap};
    for (int y = 0; y < v->rows; y++) {
        int16_t *cur = ring[y % 3];
        score_row(d, v, y, cur);
        if (y >= 1) {
            const int16_t *mid = ring[(y - 1) % 3];
            const int16_t *up = y >= 2 ? ring[(y - 2) % 3] : mid;
            push_maxima(d, v, up, mid, cur, y - 1);
        }
    }
    if (v->rows >= 1) {
        const int16_t *mid = ring[(v->rows - 1) % 3];
        const int16_t *up = v->rows >= 2 ? ring[(v->rows - 2) % 3] : mid;
        push_maxima(d, v, up, mid, mid, v->rows - 1);
    }
}

/* Grows the grids and the window rows' scratch for a level of cw x ch cells. */
static int reserve_level(pw_detector *d, int cw, int ch)
{
    size_t cstride = (size_t)cw;
    int rc = pw_detect_reserve(d, (void **)&d->cells, &d->cells_cap, cstride * (size_t)ch);
    if (rc == 0)
        rc = pw_detect_reserve(d, (void **)&d->sheared, &d->sheared_cap, cstride * (size_t)(ch + cw));
    if (rc == 0 && (size_t)cw + 32 > d->row_cap) {
        size_t cap = (size_t)cw + 32, bytes = 0;
        rc = pw_detect_reserve(d, (void **)&d->vin, &bytes, cap * sizeof(uint16_t));
        bytes = 0;
        if (rc == 0)
            rc = pw_detect_reserve(d, (void **)&d->vout, &bytes, cap * sizeof(uint16_t));
        bytes = 0;
        if (rc == 0)
            rc = pw_detect_reserve(d, (void **)&d->score_ring, &bytes, 3 * cap * sizeof(int16_t));
        if (rc == 0)
            d->row_cap = cap;
    }
    return rc;
}

/*
 * Shears the level's cell grid into d->sheared: cell (c, y) goes to row
 * y + off - sign * c, so that text leaning by one cell row (2 px) per cell
 * column (8 px), a slope of 1/4 or 14 degrees, lies along a row of the
 * sheared grid. The window tolerates about 7 degrees either way, as it does
 * around level, so the two shears cover lines leaning by 7 to 21 degrees.
 */
static void shear_grid(pw_detector *d, int cw, int ch, int sign, grid_view *v)
{
    int off = sign > 0 ? cw - 1 : 0;
    ptrdiff_t step = 1 - (ptrdiff_t)sign * cw;
    for (int y = 0; y < ch; y++) {
        const uint8_t *src = d->cells + (size_t)y * (size_t)cw;
        uint8_t *dst = d->sheared + (size_t)(y + off) * (size_t)cw;
        for (int c = 0; c < cw; c++)
            dst[c * step] = src[c];
    }
    *v = (grid_view){d->sheared, (size_t)cw, ch + cw - PW_SPAN_ROWS, v->n, sign, off, ch, v->level};
}

/* Copies the heap's seeds to the frame's seeds. */
static void take_heap(pw_detector *d)
{
    for (int i = 0; i < d->heap.n; i++)
        d->seeds[d->nseeds++] = d->heap.items[i];
}

/*
 * Scores every window of one level and keeps its best local maxima, then
 * the best few of its two sheared grids. The sheared seeds have a heap of
 * their own: their windows also score level clutter (a row of lamps, a
 * grille) from an angle, and in the level's heap they pushed out the seeds
 * of level plates.
 */
static int search_level(pw_detector *d, int level)
{
    const pw_level *lv = &d->levels[level];
    int cw = lv->w / PW_CELL_W, ch = lv->h / PW_CELL_H;
    int n = cw - PW_WIN_W + 1, rows = ch - PW_SPAN_ROWS + 1;
    if (n < 1 || rows < 1)
        return 0;
    int rc = reserve_level(d, cw, ch);
    if (rc < 0)
        return rc;
    d->k->edge_cells(lv->data, lv->stride, lv->w, lv->h, PW_EDGE_FLOOR, d->cells, (ptrdiff_t)cw);
    d->heap = (pw_seed_heap){.cap = PW_SEEDS_PER_LEVEL};
    grid_view v = {d->cells, (size_t)cw, rows, n, 0, 0, ch, level};
    search_view(d, &v);
    take_heap(d);
    d->heap = (pw_seed_heap){.cap = PW_SHEARED_SEEDS};
    for (int sign = -1; sign <= 1 && level >= PW_SHEARED_LEVEL_LO; sign += 2) {
        shear_grid(d, cw, ch, sign, &v);
        search_view(d, &v);
    }
    take_heap(d);
    return 0;
}

static int seed_cmp_desc(const pw_seed *a, const pw_seed *b)
{
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->level != b->level)
        return a->level < b->level ? -1 : 1;
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    return a->x < b->x ? -1 : a->x > b->x;
}

/* Insertion sort: at most a few hundred seeds, and it is stable and allocation-free. */
static void sort_seeds(pw_seed *s, int n)
{
    for (int i = 1; i < n; i++) {
        pw_seed v = s[i];
        int j = i - 1;
        while (j >= 0 && seed_cmp_desc(&v, &s[j]) < 0) {
            s[j + 1] = s[j];
            j--;
        }
        s[j + 1] = v;
    }
}

int pw_detect_find_seeds(pw_detector *d, const pw_plane *roi)
{
    d->nseeds = 0;
    int rc = build_pyramid(d, roi);
    for (int l = d->level_lo; rc == 0 && l <= d->level_hi && l < d->nlevels; l++)
        rc = search_level(d, l);
    if (rc == 0)
        sort_seeds(d->seeds, d->nseeds);
    return rc;
}
