/*
 * kernels_scalar.c - the portable reference for the hot loops. The SIMD
 * versions are checked against these, so they stay plain and obvious. The
 * file is compiled without auto-vectorisation (see detect/meson.build) so
 * that it measures what a scalar loop costs.
 */
#include "kernels.h"

static void downscale2(const uint8_t *src, ptrdiff_t sstride, uint8_t *dst, ptrdiff_t dstride,
                       int dw, int dh)
{
    for (int y = 0; y < dh; y++) {
        const uint8_t *r0 = src + (ptrdiff_t)(2 * y) * sstride;
        const uint8_t *r1 = r0 + sstride;
        uint8_t *d = dst + (ptrdiff_t)y * dstride;
        for (int x = 0; x < dw; x++) {
            int a = (r0[2 * x] + r1[2 * x] + 1) >> 1;
            int b = (r0[2 * x + 1] + r1[2 * x + 1] + 1) >> 1;
            d[x] = (uint8_t)((a + b + 1) >> 1);
        }
    }
}

static void edge_cells(const uint8_t *src, ptrdiff_t stride, int w, int h, int floor,
                       uint8_t *cells, ptrdiff_t cstride)
{
    int cw = w / PW_CELL_W, ch = h / PW_CELL_H;
    for (int cy = 0; cy < ch; cy++)
        for (int cx = 0; cx < cw; cx++)
            cells[(ptrdiff_t)cy * cstride + cx] =
                (uint8_t)pw_edge_cell(src + (ptrdiff_t)(cy * PW_CELL_H) * stride, stride, w, floor, cx);
}

static void window_row(const uint8_t *const *rows, int n, uint16_t *vin, uint16_t *vout,
                       int16_t *score)
{
    for (int c = 0; c < n + PW_WIN_W - 1; c++)
        pw_window_columns(rows, c, vin, vout);
    for (int x = 0; x < n; x++)
        score[x] = pw_window_score(vin, vout, x);
}

static void warp_row(const uint8_t *src, ptrdiff_t stride, int w, int h, int32_t x, int32_t y, int32_t dx,
                     int32_t dy, int n, uint8_t *dst)
{
    for (int i = 0; i < n; i++)
        dst[i] = pw_warp_px(src, stride, w, h, x + i * dx, y + i * dy);
}

static void edge_row(const uint8_t *s, int n, int floor, uint8_t *out)
{
    for (int x = 0; x < n; x++)
        out[x] = (uint8_t)pw_edge_px(s, x, floor);
}

static void cap_blocks(uint8_t *row, int n, int cap, uint16_t *blocks, int bstride)
{
    pw_cap_blocks_tail(row, 0, n, cap, blocks, bstride);
}

static void accumulate(int32_t *dst, const uint16_t *src, int n)
{
    for (int i = 0; i < n; i++)
        dst[i] += src[i];
}

static int next_above(const int16_t *a, int from, int n, int thr)
{
    while (from < n && a[from] <= thr)
        from++;
    return from;
}

const pw_kernels pw_kernels_scalar = {downscale2,  edge_cells, window_row, warp_row,
                                      edge_row,    cap_blocks, accumulate, next_above};
