/*
 * kernels_sse2.c - SSE2 versions of the hot loops, bit-identical to
 * kernels_scalar.c. Each function carries its own target attribute so the
 * build needs no global -m flag; the tails the vectors cannot cover fall
 * back to the same arithmetic one element at a time.
 */
#include "kernels.h"

#ifdef PW_HAVE_X86_SIMD
#include <emmintrin.h>
#include <string.h>

#define TARGET __attribute__((target("sse2")))

TARGET static void downscale2(const uint8_t *src, ptrdiff_t sstride, uint8_t *dst, ptrdiff_t dstride,
                              int dw, int dh)
{
    const __m128i lo = _mm_set1_epi16(0x00ff);
    for (int y = 0; y < dh; y++) {
        const uint8_t *r0 = src + (ptrdiff_t)(2 * y) * sstride;
        const uint8_t *r1 = r0 + sstride;
        uint8_t *d = dst + (ptrdiff_t)y * dstride;
        int x = 0;
        for (; x + 16 <= dw; x += 16) {
            __m128i a0 = _mm_avg_epu8(_mm_loadu_si128((const __m128i *)(r0 + 2 * x)),
                                      _mm_loadu_si128((const __m128i *)(r1 + 2 * x)));
            __m128i a1 = _mm_avg_epu8(_mm_loadu_si128((const __m128i *)(r0 + 2 * x + 16)),
                                      _mm_loadu_si128((const __m128i *)(r1 + 2 * x + 16)));
            __m128i e0 = _mm_and_si128(a0, lo), o0 = _mm_srli_epi16(a0, 8);
            __m128i e1 = _mm_and_si128(a1, lo), o1 = _mm_srli_epi16(a1, 8);
            __m128i v = _mm_packus_epi16(_mm_avg_epu16(e0, o0), _mm_avg_epu16(e1, o1));
            _mm_storeu_si128((__m128i *)(d + x), v);
        }
        for (; x < dw; x++) {
            int a = (r0[2 * x] + r1[2 * x] + 1) >> 1;
            int b = (r0[2 * x + 1] + r1[2 * x + 1] + 1) >> 1;
            d[x] = (uint8_t)((a + b + 1) >> 1);
        }
    }
}

/* |a - b| minus the floor, saturated at zero, for 16 pixels of one row. */
TARGET static inline __m128i edge16(const uint8_t *p, __m128i fl)
{
    __m128i a = _mm_loadu_si128((const __m128i *)(p + 1));
    __m128i b = _mm_loadu_si128((const __m128i *)(p - 1));
    __m128i d = _mm_or_si128(_mm_subs_epu8(a, b), _mm_subs_epu8(b, a));
    return _mm_subs_epu8(d, fl);
}

TARGET static void edge_cells(const uint8_t *src, ptrdiff_t stride, int w, int h, int floor,
                              uint8_t *cells, ptrdiff_t cstride)
{
    int cw = w / PW_CELL_W, ch = h / PW_CELL_H;
    const __m128i fl = _mm_set1_epi8((char)floor), zero = _mm_setzero_si128();
    for (int cy = 0; cy < ch; cy++) {
        const uint8_t *r0 = src + (ptrdiff_t)(cy * PW_CELL_H) * stride;
        uint8_t *out = cells + (ptrdiff_t)cy * cstride;
        /*
         * Cell 0 touches column 0. A pair of cells is vectorised while its last
         * pixel is at most w - 2 (the last column has no edge) and the read of
         * its right neighbour stays inside the row.
         */
        out[0] = cw > 0 ? (uint8_t)pw_edge_cell(r0, stride, w, floor, 0) : 0;
        int cx = 1;
        for (; (cx + 2) * PW_CELL_W + 1 <= w && cx + 2 <= cw; cx += 2) {
            const uint8_t *p = r0 + cx * PW_CELL_W;
            __m128i s = _mm_add_epi64(_mm_sad_epu8(edge16(p, fl), zero),
                                      _mm_sad_epu8(edge16(p + stride, fl), zero));
            s = _mm_min_epi16(_mm_srli_epi64(s, PW_CELL_SHIFT), _mm_set1_epi16(255));
            out[cx] = (uint8_t)_mm_cvtsi128_si32(s);
            out[cx + 1] = (uint8_t)_mm_cvtsi128_si32(_mm_srli_si128(s, 8));
        }
        for (; cx < cw; cx++)
            out[cx] = (uint8_t)pw_edge_cell(r0, stride, w, floor, cx);
    }
}

TARGET static void window_row(const uint8_t *const *rows, int n, uint16_t *vin, uint16_t *vout,
                              int16_t *score)
{
    const __m128i zero = _mm_setzero_si128();
    int cols = n + PW_WIN_W - 1, c = 0;
    for (; c + 8 <= cols; c += 8) {
        __m128i in = zero, out = zero;
        for (int r = 0; r < PW_BAND_H; r++) {
            out = _mm_add_epi16(out, _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(rows[r] + c)), zero));
            out = _mm_add_epi16(out, _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(rows[PW_BAND_H + PW_WIN_H + r] + c)), zero));
        }
        for (int r = 0; r < PW_WIN_H; r++)
            in = _mm_add_epi16(in, _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(rows[PW_BAND_H + r] + c)), zero));
        _mm_storeu_si128((__m128i *)(vin + c), in);
        _mm_storeu_si128((__m128i *)(vout + c), out);
    }
    for (; c < cols; c++)
        pw_window_columns(rows, c, vin, vout);
    int x = 0;
    for (; x + 8 <= n; x += 8) {
#define LD(a, k) _mm_loadu_si128((const __m128i *)((a) + x + (k)))
        __m128i t0 = _mm_add_epi16(LD(vin, 0), LD(vin, 1));
        __m128i t1 = _mm_add_epi16(LD(vin, 2), LD(vin, 3));
        __m128i t2 = _mm_add_epi16(LD(vin, 4), LD(vin, 5));
        __m128i out = _mm_add_epi16(_mm_add_epi16(LD(vout, 0), LD(vout, 1)),
                      _mm_add_epi16(_mm_add_epi16(LD(vout, 2), LD(vout, 3)), _mm_add_epi16(LD(vout, 4), LD(vout, 5))));
#undef LD
        __m128i hi = _mm_max_epi16(_mm_max_epi16(t0, t1), t2);
        __m128i lo = _mm_min_epi16(_mm_min_epi16(t0, t1), t2);
        __m128i s = _mm_sub_epi16(_mm_add_epi16(t0, _mm_add_epi16(t1, t2)), _mm_add_epi16(out, out));
        _mm_storeu_si128((__m128i *)(score + x), _mm_sub_epi16(s, _mm_sub_epi16(hi, lo)));
    }
    for (; x < n; x++)
        score[x] = pw_window_score(vin, vout, x);
}

/* SSE2 has no gather, so the crop sampler is the reference loop (inlined from kernels.h). */
static void warp_row(const uint8_t *src, ptrdiff_t stride, int w, int h, int32_t x, int32_t y, int32_t dx,
                     int32_t dy, int n, uint8_t *dst)
{
    for (int i = 0; i < n; i++)
        dst[i] = pw_warp_px(src, stride, w, h, x + i * dx, y + i * dy);
}

TARGET static void edge_row(const uint8_t *s, int n, int floor, uint8_t *out)
{
    const __m128i fl = _mm_set1_epi8((char)floor);
    int x = 0;
    for (; x + 16 <= n; x += 16)
        _mm_storeu_si128((__m128i *)(out + x), edge16(s + x, fl));
    for (; x < n; x++)
        out[x] = (uint8_t)pw_edge_px(s, x, floor);
}

TARGET static void cap_blocks(uint8_t *row, int n, int cap, uint16_t *blocks, int bstride)
{
    const __m128i c = _mm_set1_epi8((char)cap), zero = _mm_setzero_si128();
    int x = 0;
    for (; x + 16 <= n; x += 16) {
        __m128i v = _mm_min_epu8(_mm_loadu_si128((const __m128i *)(row + x)), c);
        _mm_storeu_si128((__m128i *)(row + x), v);
        __m128i s = _mm_sad_epu8(v, zero);
        blocks[(x / 8) * bstride] = (uint16_t)_mm_cvtsi128_si32(s);
        blocks[(x / 8 + 1) * bstride] = (uint16_t)_mm_cvtsi128_si32(_mm_srli_si128(s, 8));
    }
    pw_cap_blocks_tail(row, x, n, cap, blocks, bstride);
}

TARGET static void accumulate(int32_t *dst, const uint16_t *src, int n)
{
    const __m128i zero = _mm_setzero_si128();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i lo = _mm_add_epi32(_mm_loadu_si128((const __m128i *)(dst + i)), _mm_unpacklo_epi16(v, zero));
        __m128i hi = _mm_add_epi32(_mm_loadu_si128((const __m128i *)(dst + i + 4)), _mm_unpackhi_epi16(v, zero));
        _mm_storeu_si128((__m128i *)(dst + i), lo);
        _mm_storeu_si128((__m128i *)(dst + i + 4), hi);
    }
    for (; i < n; i++)
        dst[i] += src[i];
}

TARGET static int next_above(const int16_t *a, int from, int n, int thr)
{
    const __m128i t = _mm_set1_epi16((short)thr);
    while (from + 8 <= n && !_mm_movemask_epi8(_mm_cmpgt_epi16(_mm_loadu_si128((const __m128i *)(a + from)), t)))
        from += 8;
    while (from < n && a[from] <= thr)
        from++;
    return from;
}

const pw_kernels pw_kernels_sse2 = {downscale2,  edge_cells, window_row, warp_row,
                                    edge_row,    cap_blocks, accumulate, next_above};
#endif
