/*
 * kernels_avx2.c - AVX2 versions of the hot loops, bit-identical to
 * kernels_scalar.c. Every function carries target("avx2") so that only
 * these functions use AVX2 and the rest of the build stays baseline x86-64;
 * the detector calls them only when __builtin_cpu_supports("avx2").
 */
#include "kernels.h"

#ifdef PW_HAVE_X86_SIMD
#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx2")))

TARGET static void downscale2(const uint8_t *src, ptrdiff_t sstride, uint8_t *dst, ptrdiff_t dstride,
                              int dw, int dh)
{
    const __m256i lo = _mm256_set1_epi16(0x00ff);
    for (int y = 0; y < dh; y++) {
        const uint8_t *r0 = src + (ptrdiff_t)(2 * y) * sstride;
        const uint8_t *r1 = r0 + sstride;
        uint8_t *d = dst + (ptrdiff_t)y * dstride;
        int x = 0;
        for (; x + 32 <= dw; x += 32) {
            __m256i a0 = _mm256_avg_epu8(_mm256_loadu_si256((const __m256i *)(r0 + 2 * x)),
                                         _mm256_loadu_si256((const __m256i *)(r1 + 2 * x)));
            __m256i a1 = _mm256_avg_epu8(_mm256_loadu_si256((const __m256i *)(r0 + 2 * x + 32)),
                                         _mm256_loadu_si256((const __m256i *)(r1 + 2 * x + 32)));
            __m256i e0 = _mm256_and_si256(a0, lo), o0 = _mm256_srli_epi16(a0, 8);
            __m256i e1 = _mm256_and_si256(a1, lo), o1 = _mm256_srli_epi16(a1, 8);
            __m256i v = _mm256_packus_epi16(_mm256_avg_epu16(e0, o0), _mm256_avg_epu16(e1, o1));
            /* packus works per 128-bit lane; put the four 8-byte groups back in order. */
            v = _mm256_permute4x64_epi64(v, 0xD8);
            _mm256_storeu_si256((__m256i *)(d + x), v);
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

TARGET static inline __m256i edge32(const uint8_t *p, __m256i fl)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)(p + 1));
    __m256i b = _mm256_loadu_si256((const __m256i *)(p - 1));
    __m256i d = _mm256_or_si256(_mm256_subs_epu8(a, b), _mm256_subs_epu8(b, a));
    return _mm256_subs_epu8(d, fl);
}

TARGET static void edge_cells(const uint8_t *src, ptrdiff_t stride, int w, int h, int floor,
                              uint8_t *cells, ptrdiff_t cstride)
{
    int cw = w / PW_CELL_W, ch = h / PW_CELL_H;
    const __m256i fl = _mm256_set1_epi8((char)floor), zero = _mm256_setzero_si256();
    for (int cy = 0; cy < ch; cy++) {
        const uint8_t *r0 = src + (ptrdiff_t)(cy * PW_CELL_H) * stride;
        uint8_t *out = cells + (ptrdiff_t)cy * cstride;
        /*
         * Cell 0 touches column 0. A run of cells is vectorised while its last
         * pixel is at most w - 2 (the last column has no edge) and the read of
         * its right neighbour stays inside the row.
         */
        out[0] = cw > 0 ? (uint8_t)pw_edge_cell(r0, stride, w, floor, 0) : 0;
        int cx = 1;
        for (; (cx + 4) * PW_CELL_W + 1 <= w && cx + 4 <= cw; cx += 4) {
            const uint8_t *p = r0 + cx * PW_CELL_W;
            __m256i s = _mm256_add_epi64(_mm256_sad_epu8(edge32(p, fl), zero),
                                         _mm256_sad_epu8(edge32(p + stride, fl), zero));
            s = _mm256_min_epi16(_mm256_srli_epi64(s, PW_CELL_SHIFT), _mm256_set1_epi16(255));
            uint64_t v[4];
            _mm256_storeu_si256((__m256i *)v, s);
            for (int k = 0; k < 4; k++)
                out[cx + k] = (uint8_t)v[k];
        }
        for (; (cx + 2) * PW_CELL_W + 1 <= w && cx + 2 <= cw; cx += 2) {
            const uint8_t *p = r0 + cx * PW_CELL_W;
            __m128i s = _mm_add_epi64(_mm_sad_epu8(edge16(p, _mm256_castsi256_si128(fl)), _mm_setzero_si128()),
                                      _mm_sad_epu8(edge16(p + stride, _mm256_castsi256_si128(fl)), _mm_setzero_si128()));
            s = _mm_min_epi16(_mm_srli_epi64(s, PW_CELL_SHIFT), _mm_set1_epi16(255));
            out[cx] = (uint8_t)_mm_cvtsi128_si32(s);
            out[cx + 1] = (uint8_t)_mm_cvtsi128_si32(_mm_srli_si128(s, 8));
        }
        for (; cx < cw; cx++)
            out[cx] = (uint8_t)pw_edge_cell(r0, stride, w, floor, cx);
    }
}

TARGET static inline __m256i widen16(const uint8_t *p)
{
    return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
}

TARGET static void window_row(const uint8_t *const *rows, int n, uint16_t *vin, uint16_t *vout,
                              int16_t *score)
{
    const __m256i zero = _mm256_setzero_si256();
    int cols = n + PW_WIN_W - 1, c = 0;
    for (; c + 16 <= cols; c += 16) {
        __m256i in = zero, out = zero;
        for (int r = 0; r < PW_BAND_H; r++) {
            out = _mm256_add_epi16(out, widen16(rows[r] + c));
            out = _mm256_add_epi16(out, widen16(rows[PW_BAND_H + PW_WIN_H + r] + c));
        }
        for (int r = 0; r < PW_WIN_H; r++)
            in = _mm256_add_epi16(in, widen16(rows[PW_BAND_H + r] + c));
        _mm256_storeu_si256((__m256i *)(vin + c), in);
        _mm256_storeu_si256((__m256i *)(vout + c), out);
    }
    for (; c < cols; c++)
        pw_window_columns(rows, c, vin, vout);
    int x = 0;
    for (; x + 16 <= n; x += 16) {
#define LD(a, k) _mm256_loadu_si256((const __m256i *)((a) + x + (k)))
        __m256i t0 = _mm256_add_epi16(LD(vin, 0), LD(vin, 1));
        __m256i t1 = _mm256_add_epi16(LD(vin, 2), LD(vin, 3));
        __m256i t2 = _mm256_add_epi16(LD(vin, 4), LD(vin, 5));
        __m256i out = _mm256_add_epi16(_mm256_add_epi16(LD(vout, 0), LD(vout, 1)),
                      _mm256_add_epi16(_mm256_add_epi16(LD(vout, 2), LD(vout, 3)), _mm256_add_epi16(LD(vout, 4), LD(vout, 5))));
#undef LD
        __m256i hi = _mm256_max_epi16(_mm256_max_epi16(t0, t1), t2);
        __m256i lo = _mm256_min_epi16(_mm256_min_epi16(t0, t1), t2);
        __m256i s = _mm256_sub_epi16(_mm256_add_epi16(t0, _mm256_add_epi16(t1, t2)), _mm256_add_epi16(out, out));
        _mm256_storeu_si256((__m256i *)(score + x), _mm256_sub_epi16(s, _mm256_sub_epi16(hi, lo)));
    }
    for (; x < n; x++)
        score[x] = pw_window_score(vin, vout, x);
}

/*
 * Gathers, for eight offsets, the pixel at src + off and its right-hand
 * neighbour: each lane reads the four bytes from src + off - 2, so the pair
 * sits in its top two bytes. The caller guarantees 2 <= off < last, where
 * last is the offset of the image's last pixel, so no read leaves the image.
 */
TARGET static inline __m256i gather_pair(const uint8_t *src, __m256i off)
{
    return _mm256_i32gather_epi32((const int *)(const void *)(src - 2), off, 1);
}

/* Interleaves the low byte pairs of a gathered lane as two 16-bit values: (p, p_right). */
TARGET static inline __m256i pair16(__m256i gathered)
{
    __m256i x = _mm256_srli_epi32(gathered, 16);
    return _mm256_or_si256(_mm256_and_si256(x, _mm256_set1_epi32(0xFF)),
                           _mm256_slli_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0xFF00)), 8));
}

TARGET static void warp_row(const uint8_t *src, ptrdiff_t stride, int w, int h, int32_t x, int32_t y, int32_t dx,
                            int32_t dy, int n, uint8_t *dst)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), zero = _mm256_setzero_si256();
    const __m256i lane_dx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(dx));
    const __m256i lane_dy = _mm256_mullo_epi32(lane, _mm256_set1_epi32(dy));
    const __m256i xmax = _mm256_set1_epi32((w - 1) << PW_WARP_FRAC), ymax = _mm256_set1_epi32((h - 1) << PW_WARP_FRAC);
    const __m256i hm1 = _mm256_set1_epi32(h - 1), st = _mm256_set1_epi32((int)stride);
    const __m256i c255 = _mm256_set1_epi32(255), c256 = _mm256_set1_epi32(256), half = _mm256_set1_epi32(32768);
    const __m256i two = _mm256_set1_epi32(2), last = _mm256_set1_epi32((int)((h - 1) * stride + w - 1) - 1);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i xs = _mm256_add_epi32(_mm256_set1_epi32(x + i * dx), lane_dx);
        __m256i ys = _mm256_add_epi32(_mm256_set1_epi32(y + i * dy), lane_dy);
        xs = _mm256_min_epi32(_mm256_max_epi32(xs, zero), xmax);
        ys = _mm256_min_epi32(_mm256_max_epi32(ys, zero), ymax);
        __m256i xi = _mm256_srai_epi32(xs, PW_WARP_FRAC), yi = _mm256_srai_epi32(ys, PW_WARP_FRAC);
        __m256i fx = _mm256_and_si256(_mm256_srai_epi32(xs, PW_WARP_FRAC - 8), c255);
        __m256i fy = _mm256_and_si256(_mm256_srai_epi32(ys, PW_WARP_FRAC - 8), c255);
        __m256i o0 = _mm256_add_epi32(_mm256_mullo_epi32(yi, st), xi);
        /* The lower row is one stride further down unless yi is the last row. */
        __m256i o1 = _mm256_add_epi32(o0, _mm256_and_si256(_mm256_cmpgt_epi32(hm1, yi), st));
        /*
         * At the right edge x is clamped to w - 1 exactly, so fx is 0 and the
         * neighbour's weight vanishes, as in pw_warp_px; only the read must
         * stay inside the image, which this range check ensures.
         */
        __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(two, o0), _mm256_cmpgt_epi32(o1, last));
        if (_mm256_movemask_epi8(bad)) {
            for (int k = 0; k < 8; k++)
                dst[i + k] = pw_warp_px(src, stride, w, h, x + (i + k) * dx, y + (i + k) * dy);
            continue;
        }
        __m256i r0 = gather_pair(src, o0), r1 = gather_pair(src, o1);
        /* p * (256 - fx) + p_right * fx for both rows, as 16-bit pairs multiplied and added. */
        __m256i wx = _mm256_or_si256(_mm256_sub_epi32(c256, fx), _mm256_slli_epi32(fx, 16));
        __m256i top = _mm256_madd_epi16(pair16(r0), wx), bot = _mm256_madd_epi16(pair16(r1), wx);
        __m256i v = _mm256_add_epi32(_mm256_mullo_epi32(top, _mm256_sub_epi32(c256, fy)), _mm256_mullo_epi32(bot, fy));
        v = _mm256_srli_epi32(_mm256_add_epi32(v, half), 16);
        v = _mm256_packus_epi16(_mm256_packus_epi32(v, v), zero);
        uint32_t lo = (uint32_t)_mm_cvtsi128_si32(_mm256_castsi256_si128(v));
        uint32_t hi = (uint32_t)_mm_cvtsi128_si32(_mm256_extracti128_si256(v, 1));
        memcpy(dst + i, &lo, 4);
        memcpy(dst + i + 4, &hi, 4);
    }
    for (; i < n; i++)
        dst[i] = pw_warp_px(src, stride, w, h, x + i * dx, y + i * dy);
}

TARGET static void edge_row(const uint8_t *s, int n, int floor, uint8_t *out)
{
    const __m256i fl = _mm256_set1_epi8((char)floor);
    int x = 0;
    for (; x + 32 <= n; x += 32)
        _mm256_storeu_si256((__m256i *)(out + x), edge32(s + x, fl));
    for (; x < n; x++)
        out[x] = (uint8_t)pw_edge_px(s, x, floor);
}

TARGET static void cap_blocks(uint8_t *row, int n, int cap, uint16_t *blocks, int bstride)
{
    const __m256i c = _mm256_set1_epi8((char)cap), zero = _mm256_setzero_si256();
    int x = 0;
    for (; x + 32 <= n; x += 32) {
        __m256i v = _mm256_min_epu8(_mm256_loadu_si256((const __m256i *)(row + x)), c);
        _mm256_storeu_si256((__m256i *)(row + x), v);
        uint64_t sums[4];
        _mm256_storeu_si256((__m256i *)sums, _mm256_sad_epu8(v, zero));
        for (int k = 0; k < 4; k++)
            blocks[(x / 8 + k) * bstride] = (uint16_t)sums[k];
    }
    pw_cap_blocks_tail(row, x, n, cap, blocks, bstride);
}

TARGET static void accumulate(int32_t *dst, const uint16_t *src, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(dst + i)), v));
    }
    for (; i < n; i++)
        dst[i] += src[i];
}

TARGET static int next_above(const int16_t *a, int from, int n, int thr)
{
    const __m256i t = _mm256_set1_epi16((short)thr);
    while (from + 16 <= n &&
           !_mm256_movemask_epi8(_mm256_cmpgt_epi16(_mm256_loadu_si256((const __m256i *)(a + from)), t)))
        from += 16;
    while (from < n && a[from] <= thr)
        from++;
    return from;
}

const pw_kernels pw_kernels_avx2 = {downscale2,  edge_cells, window_row, warp_row,
                                    edge_row,    cap_blocks, accumulate, next_above};
#endif
