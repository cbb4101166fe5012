/*
 * kernels.h - the localiser's hot loops, private to detect/. Each exists as
 * a scalar reference (kernels_scalar.c) and as SSE2 and AVX2 versions
 * (kernels_sse2.c, kernels_avx2.c) that must give bit-identical output: all
 * of them use integer arithmetic only, so "identical" is exact.
 *
 * Geometry shared by every version:
 *  - downscale2: dst(x, y) = avg(avg(s(2x, 2y), s(2x, 2y+1)), avg(s(2x+1, 2y), s(2x+1, 2y+1)))
 *    where avg(a, b) = (a + b + 1) >> 1, the rounding of the SSE2 pavgb instruction.
 *  - edge_cells: a cell is PW_CELL_W x PW_CELL_H pixels; its value is the sum of
 *    e(x, y) = max(|s(x+1, y) - s(x-1, y)| - floor, 0) over the cell, shifted
 *    right by PW_CELL_SHIFT and saturated (pw_cell_value), with e = 0 on the first
 *    and last column.
 *  - window_row: the plate window score for one row of window positions (see
 *    the comment on the function type).
 */
#ifndef PW_DETECT_KERNELS_H
#define PW_DETECT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Cell size in pixels; the mean is a right shift, so the area is a power of two. */
#define PW_CELL_W 8
#define PW_CELL_H 2
#define PW_CELL_SHIFT 2

/*
 * A cell's value: four times the mean edge magnitude, saturated at 255.
 * Plate strokes give means of 2-20, so the factor keeps resolution, and the
 * saturation stops a few glaring edges (headlights, chrome) from
 * outweighing a whole row of characters.
 */
static inline int pw_cell_value(int sum)
{
    int v = sum >> PW_CELL_SHIFT;
    return v > 255 ? 255 : v;
}

/*
 * The window, in cells: WIN_H rows of text band with BAND_H rows above and
 * below, each band GAP_H rows away from the window. The ignored gap lets
 * text up to (WIN_H + 2 * GAP_H) rows tall score well, so one level covers
 * text of 8 to 20 pixels and neighbouring levels overlap.
 */
#define PW_WIN_W 6
#define PW_WIN_H 6
#define PW_BAND_H 3
#define PW_GAP_H 2
#define PW_WIN_ROWS (PW_WIN_H + 2 * PW_BAND_H)
#define PW_SPAN_ROWS (PW_WIN_ROWS + 2 * PW_GAP_H)

typedef void (*pw_downscale2_fn)(const uint8_t *src, ptrdiff_t sstride, uint8_t *dst,
                                 ptrdiff_t dstride, int dw, int dh);

typedef void (*pw_edge_cells_fn)(const uint8_t *src, ptrdiff_t stride, int w, int h, int floor,
                                 uint8_t *cells, ptrdiff_t cstride);

/*
 * Scores one row of window positions x in [0, n). rows holds PW_WIN_ROWS
 * pointers: the upper band's rows, the window's rows, the lower band's rows
 * (the caller skips the gaps). With in = sum of the window's cells, out =
 * sum of both bands' cells over the same columns, and t0, t1, t2 the sums of
 * the window's three vertical thirds (two cell columns each):
 *     score = in - 2 * out - (max(t) - min(t))
 * so that energy must be dense inside and much quieter above and below,
 * which rejects isotropic texture (asphalt, foliage) and slices of taller
 * characters, and spread evenly along the window, so that a lone pole
 * scores nothing. Every term fits in int16_t. vin and vout are scratch rows
 * of at least n + PW_WIN_W entries.
 */
typedef void (*pw_window_row_fn)(const uint8_t *const *rows, int n, uint16_t *vin, uint16_t *vout,
                                 int16_t *score);

/*
 * Samples n pixels along a line for a rectified crop: pixel i is the
 * bilinear sample at (x + i * dx, y + i * dy), coordinates in 1/4096 pixel
 * (PW_WARP_FRAC bits), clamped to the image, with 8-bit weights; see
 * pw_warp_px for the exact arithmetic every version reproduces.
 */
typedef void (*pw_warp_row_fn)(const uint8_t *src, ptrdiff_t stride, int w, int h, int32_t x, int32_t y,
                               int32_t dx, int32_t dy, int n, uint8_t *dst);

#define PW_WARP_FRAC 12

/* The scalar forms shared by every version for the elements vectors do not cover. */
static inline int pw_edge_px(const uint8_t *s, int x, int floor)
{
    int d = s[x + 1] - s[x - 1];
    d = (d < 0 ? -d : d) - floor;
    return d > 0 ? d : 0;
}

/* Cell cx of the cell row starting at src: the reference every edge_cells version uses or matches. */
static inline int pw_edge_cell(const uint8_t *src, ptrdiff_t stride, int w, int floor, int cx)
{
    int sum = 0;
    for (int r = 0; r < PW_CELL_H; r++)
        for (int x = cx * PW_CELL_W; x < (cx + 1) * PW_CELL_W; x++)
            if (x > 0 && x < w - 1)
                sum += pw_edge_px(src + r * stride, x, floor);
    return pw_cell_value(sum);
}

static inline void pw_cap_blocks_tail(uint8_t *row, int from, int n, int cap, uint16_t *blocks, int bstride)
{
    for (int b = from / 8; b * 8 < n; b++) {
        int sum = 0, end = b * 8 + 8 < n ? b * 8 + 8 : n;
        for (int x = b * 8; x < end; x++) {
            row[x] = row[x] > cap ? (uint8_t)cap : row[x];
            sum += row[x];
        }
        blocks[b * bstride] = (uint16_t)sum;
    }
}

/* One bilinear sample at fixed-point (x, y); the reference for every warp_row version. */
static inline uint8_t pw_warp_px(const uint8_t *src, ptrdiff_t stride, int w, int h, int32_t x, int32_t y)
{
    int32_t xmax = (int32_t)(w - 1) << PW_WARP_FRAC, ymax = (int32_t)(h - 1) << PW_WARP_FRAC;
    x = x < 0 ? 0 : x > xmax ? xmax : x;
    y = y < 0 ? 0 : y > ymax ? ymax : y;
    int xi = x >> PW_WARP_FRAC, yi = y >> PW_WARP_FRAC;
    int fx = (x >> (PW_WARP_FRAC - 8)) & 255, fy = (y >> (PW_WARP_FRAC - 8)) & 255;
    int xj = xi + (xi < w - 1), yj = yi + (yi < h - 1);
    const uint8_t *r0 = src + (ptrdiff_t)yi * stride, *r1 = src + (ptrdiff_t)yj * stride;
    int top = r0[xi] * (256 - fx) + r0[xj] * fx;
    int bot = r1[xi] * (256 - fx) + r1[xj] * fx;
    return (uint8_t)((top * (256 - fy) + bot * fy + 32768) >> 16);
}

/*
 * One row of a refinement patch: out[x] = max(|s[x+1] - s[x-1]| - floor, 0)
 * for x in [0, n); s[-1] and s[n] must be readable.
 */
typedef void (*pw_edge_row_fn)(const uint8_t *s, int n, int floor, uint8_t *out);

/*
 * Caps row[x] at cap in place for x in [0, n), then stores the sum of each
 * run of 8 capped values (the last run may be shorter) at blocks[b * bstride].
 */
typedef void (*pw_cap_blocks_fn)(uint8_t *row, int n, int cap, uint16_t *blocks, int bstride);

/* Column c's sums over the window's rows and over both bands' rows. */
static inline void pw_window_columns(const uint8_t *const *rows, int c, uint16_t *vin, uint16_t *vout)
{
    int in = 0, out = 0;
    for (int r = 0; r < PW_BAND_H; r++)
        out += rows[r][c] + rows[PW_BAND_H + PW_WIN_H + r][c];
    for (int r = 0; r < PW_WIN_H; r++)
        in += rows[PW_BAND_H + r][c];
    vin[c] = (uint16_t)in;
    vout[c] = (uint16_t)out;
}

/* The score of window x from the column sums, as every version computes it for its tail. */
static inline int16_t pw_window_score(const uint16_t *vin, const uint16_t *vout, int x)
{
    int t0 = vin[x] + vin[x + 1], t1 = vin[x + 2] + vin[x + 3], t2 = vin[x + 4] + vin[x + 5];
    int out = 0;
    for (int k = 0; k < PW_WIN_W; k++)
        out += vout[x + k];
    int hi = t0 > t1 ? t0 : t1, lo = t0 < t1 ? t0 : t1;
    hi = hi > t2 ? hi : t2;
    lo = lo < t2 ? lo : t2;
    return (int16_t)(t0 + t1 + t2 - 2 * out - (hi - lo));
}

/* dst[i] += src[i] for i in [0, n): the shear projections' inner loop. */
typedef void (*pw_accumulate_fn)(int32_t *dst, const uint16_t *src, int n);

/* The first i in [from, n) with a[i] > thr, or n: the seed search's scan for candidates. */
typedef int (*pw_next_above_fn)(const int16_t *a, int from, int n, int thr);

typedef struct {
    pw_downscale2_fn downscale2;
    pw_edge_cells_fn edge_cells;
    pw_window_row_fn window_row;
    pw_warp_row_fn warp_row;
    pw_edge_row_fn edge_row;
    pw_cap_blocks_fn cap_blocks;
    pw_accumulate_fn accumulate;
    pw_next_above_fn next_above;
} pw_kernels;

extern const pw_kernels pw_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
#define PW_HAVE_X86_SIMD 1
extern const pw_kernels pw_kernels_sse2;
extern const pw_kernels pw_kernels_avx2;
#endif

#endif
