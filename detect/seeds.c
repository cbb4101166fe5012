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
 * Pushes the strict local maxima of the middle ring row. Ties are broken by
 * position (strictly greater than the earlier neighbours, at least equal to
 * the later ones) so that a plateau gives one seed, not many.
 */
static void push_maxima(pw_detector *d, const int16_t *up, const int16_t *mid, const int16_t *down, int n,
                        int level, int cy)
{
    /* Below the weakest kept seed, a full heap would refuse it anyway. */
    int thr = d->heap.n == d->heap.cap ? d->heap.items[0].score : PW_MIN_SEED_SCORE - 1;
    for (int x = d->k->next_above(mid, 0, n, thr); x < n; x = d->k->next_above(mid, x + 1, n, thr)) {
        int s = mid[x];
        int xl = x > 0 ? x - 1 : x, xr = x + 1 < n ? x + 1 : x;
        if (s <= up[xl] || s <= up[x] || s <= up[xr] || s <= mid[xl])
            continue;
        if (s < mid[xr] || s < down[xl] || s < down[x] || s < down[xr])
            continue;
        pw_seed seed = {s, level, x * PW_CELL_W + PW_WIN_W * PW_CELL_W / 2,
                        (cy + PW_BAND_H + PW_GAP_H) * PW_CELL_H + PW_WIN_H * PW_CELL_H / 2};
        heap_push(&d->heap, seed);
        thr = d->heap.n == d->heap.cap ? d->heap.items[0].score : PW_MIN_SEED_SCORE - 1;
    }
}

/* Scores every window of one level and keeps its best local maxima. */
static int search_level(pw_detector *d, int level)
{
    const pw_level *lv = &d->levels[level];
    int cw = lv->w / PW_CELL_W, ch = lv->h / PW_CELL_H;
    int n = cw - PW_WIN_W + 1, rows = ch - PW_SPAN_ROWS + 1;
    if (n < 1 || rows < 1)
        return 0;
    size_t cstride = (size_t)cw;
    int rc = pw_detect_reserve(d, (void **)&d->cells, &d->cells_cap, cstride * (size_t)ch);
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
    if (rc < 0)
        return rc;
    d->k->edge_cells(lv->data, lv->stride, lv->w, lv->h, PW_EDGE_FLOOR, d->cells, (ptrdiff_t)cstride);
    d->heap = (pw_seed_heap){.cap = PW_SEEDS_PER_LEVEL};
    int16_t *ring[3] = {d->score_ring, d->score_ring + d->row_cap, d->score_ring + 2 * d->row_cap};
    for (int y = 0; y < rows; y++) {
        const uint8_t *rp[PW_WIN_ROWS];
        for (int r = 0; r < PW_WIN_ROWS; r++) {
            int gaps = (r >= PW_BAND_H) + (r >= PW_BAND_H + PW_WIN_H);
            rp[r] = d->cells + (size_t)(y + r + gaps * PW_GAP_H) * cstride;
        }
        int16_t *cur = ring[y % 3];
        d->k->window_row(rp, n, d->vin, d->vout, cur);
        if (y >= 1) {
            const int16_t *mid = ring[(y - 1) % 3];
            const int16_t *up = y >= 2 ? ring[(y - 2) % 3] : mid;
            push_maxima(d, up, mid, cur, n, level, y - 1);
        }
    }
    if (rows >= 1) {
        const int16_t *mid = ring[(rows - 1) % 3];
        const int16_t *up = rows >= 2 ? ring[(rows - 2) % 3] : mid;
        push_maxima(d, up, mid, mid, n, level, rows - 1);
    }
    for (int i = 0; i < d->heap.n; i++)
        d->seeds[d->nseeds++] = d->heap.items[i];
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
