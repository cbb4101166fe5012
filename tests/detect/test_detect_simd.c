/*
 * test_detect_simd.c - every SIMD level gives exactly the scalar
 * reference's output: the kernels on random rows at odd widths, strides and
 * offsets, and the whole detector on rendered and random frames. Levels the
 * CPU lacks are skipped, and say so.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "detect_fixtures.h"

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* An exactly sized frame of random bytes with runs, so edges of every strength occur. */
static uint8_t *random_frame(int h, int stride, uint32_t seed)
{
    uint8_t *px = malloc((size_t)stride * (size_t)h);
    cr_assert_not_null(px);
    uint32_t s = seed | 1u;
    uint8_t v = 0;
    for (size_t i = 0; i < (size_t)stride * (size_t)h; i++) {
        uint32_t r = rng_next(&s);
        if ((r & 3u) == 0)
            v = (uint8_t)(r >> 8);
        px[i] = v;
    }
    return px;
}

static void expect_same(const pw_candidate *a, size_t na, const pw_candidate *b, size_t nb, const char *what)
{
    cr_assert_eq(na, nb, "%s: %zu vs %zu candidates", what, na, nb);
    for (size_t i = 0; i < na; i++) {
        cr_expect_eq(a[i].score, b[i].score, "%s: candidate %zu score", what, i);
        cr_expect_arr_eq(a[i].corners, b[i].corners, sizeof a[i].corners, "%s: candidate %zu corners", what, i);
        cr_expect_eq(a[i].crop.width, b[i].crop.width);
        for (int y = 0; y < a[i].crop.height; y++)
            cr_expect_arr_eq(pw_plane_at(&a[i].crop, 0, y), pw_plane_at(&b[i].crop, 0, y), (size_t)a[i].crop.width);
    }
}

/* Runs the scalar detector and each supported SIMD detector on p and compares. */
static void compare_levels(const pw_plane *p, const char *what)
{
    pw_detector *ref = detector_at(PW_SIMD_SCALAR);
    const pw_candidate *rc;
    size_t rn;
    cr_assert_eq(pw_detector_run(ref, p, &rc, &rn), 0);
    for (int l = PW_SIMD_SSE2; l <= (int)pw_simd_best(); l++) {
        pw_detector *d = detector_at((pw_simd_level)l);
        const pw_candidate *c;
        size_t n;
        cr_assert_eq(pw_detector_run(d, p, &c, &n), 0);
        expect_same(rc, rn, c, n, what);
        pw_detector_destroy(&d);
    }
    pw_detector_destroy(&ref);
}

Test(detect_simd, identical_on_rendered_scenes)
{
    if (pw_simd_best() == PW_SIMD_SCALAR)
        cr_skip_test("this CPU has no SSE2 or AVX2");
    const int sizes[][2] = {{1280, 720}, {1281, 719}, {997, 613}, {333, 211}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        pw_image *img = scene_one(sizes[i][0], sizes[i][1], "SI 123 MD", 12 + 6 * (int)i, sizes[i][0] / 2.f,
                                  sizes[i][1] / 2.f, (float)(5 * (int)i - 7), (int)i % 2, (unsigned)i + 40u, NULL);
        cr_assert_not_null(img);
        pw_plane p = pw_image_plane(img);
        compare_levels(&p, "rendered");
        pw_image_destroy(&img);
    }
}

Test(detect_simd, identical_on_random_frames_with_odd_geometry)
{
    if (pw_simd_best() == PW_SIMD_SCALAR)
        cr_skip_test("this CPU has no SSE2 or AVX2");
    const int geo[][3] = {{1280, 720, 1280}, {1279, 721, 1301}, {643, 97, 700}, {131, 67, 131},
                          {65, 33, 81},      {17, 200, 17},     {400, 24, 403}};
    for (size_t i = 0; i < sizeof geo / sizeof geo[0]; i++) {
        uint8_t *px = random_frame(geo[i][1], geo[i][2], (uint32_t)i * 977u + 1u);
        pw_plane p = {px, geo[i][0], geo[i][1], geo[i][2], 1};
        compare_levels(&p, "random");
        free(px);
    }
}

/* ---- the kernels one by one, at awkward sizes and offsets ---- */

#include "kernels.h"

static const pw_kernels *simd_tables(int i)
{
#ifdef PW_HAVE_X86_SIMD
    if (i == 0 && pw_simd_best() >= PW_SIMD_SSE2)
        return &pw_kernels_sse2;
    if (i == 1 && pw_simd_best() >= PW_SIMD_AVX2)
        return &pw_kernels_avx2;
#else
    (void)i;
#endif
    return NULL;
}

Test(detect_simd, kernels_match_scalar_at_odd_sizes)
{
    const pw_kernels *ref = &pw_kernels_scalar;
    for (int t = 0; t < 2; t++) {
        const pw_kernels *k = simd_tables(t);
        if (!k)
            continue;
        for (int w = 3; w < 140; w += 7) {
            int h = 9 + w % 11, stride = w + w % 5;
            uint8_t *src = random_frame(h, stride, (uint32_t)w * 31u + 7u);
            uint8_t a[256], b[256];
            /* downscale2 and edge_cells over the whole frame. */
            uint8_t da[70 * 20], db[70 * 20];
            ref->downscale2(src, stride, da, w / 2, w / 2, h / 2);
            k->downscale2(src, stride, db, w / 2, w / 2, h / 2);
            cr_expect_arr_eq(da, db, (size_t)(w / 2) * (size_t)(h / 2), "downscale2 w=%d", w);
            memset(da, 0, sizeof da), memset(db, 0, sizeof db);
            ref->edge_cells(src, stride, w, h, 8, da, w / PW_CELL_W + 1);
            k->edge_cells(src, stride, w, h, 8, db, w / PW_CELL_W + 1);
            cr_expect_arr_eq(da, db, sizeof da, "edge_cells w=%d", w);
            /* edge_row and cap_blocks on a row interior. */
            int n = w - 2;
            ref->edge_row(src + 1, n, 8, a);
            k->edge_row(src + 1, n, 8, b);
            cr_expect_arr_eq(a, b, (size_t)n, "edge_row n=%d", n);
            uint16_t ba[40], bb[40];
            ref->cap_blocks(a, n, 37, ba, 2);
            k->cap_blocks(b, n, 37, bb, 2);
            cr_expect_arr_eq(a, b, (size_t)n, "cap_blocks row n=%d", n);
            for (int i = 0; i * 8 < n; i++)
                cr_expect_eq(ba[2 * i], bb[2 * i], "cap_blocks block %d n=%d", i, n);
            /* warp_row from outside the frame, across it and out again, at every tilt. */
            for (int32_t dy = -3000; dy <= 3000; dy += 1500) {
                int32_t x0 = -5 * (1 << PW_WARP_FRAC), y0 = (h / 2) * (1 << PW_WARP_FRAC);
                int32_t dx = ((w + 10) << PW_WARP_FRAC) / 100 + 17;
                ref->warp_row(src, stride, w, h, x0, y0, dx, dy, 100, a);
                k->warp_row(src, stride, w, h, x0, y0, dx, dy, 100, b);
                cr_expect_arr_eq(a, b, 100, "warp_row w=%d dy=%d", w, dy);
            }
            free(src);
        }
    }
}

Test(detect_simd, window_row_matches_scalar)
{
    const pw_kernels *ref = &pw_kernels_scalar;
    for (int t = 0; t < 2; t++) {
        const pw_kernels *k = simd_tables(t);
        if (!k)
            continue;
        for (int n = 1; n < 90; n += 5) {
            int cols = n + PW_WIN_W - 1;
            uint8_t *cells = random_frame(PW_WIN_ROWS, cols, (uint32_t)n + 3u);
            const uint8_t *rows[PW_WIN_ROWS];
            for (int r = 0; r < PW_WIN_ROWS; r++)
                rows[r] = cells + (size_t)r * (size_t)cols;
            uint16_t vin[128], vout[128];
            int16_t sa[128], sb[128];
            ref->window_row(rows, n, vin, vout, sa);
            k->window_row(rows, n, vin, vout, sb);
            cr_expect_arr_eq(sa, sb, (size_t)n * sizeof sa[0], "window_row n=%d", n);
            free(cells);
        }
    }
}

Test(detect_simd, accumulate_and_scan_match_scalar)
{
    const pw_kernels *ref = &pw_kernels_scalar;
    for (int t = 0; t < 2; t++) {
        const pw_kernels *k = simd_tables(t);
        if (!k)
            continue;
        for (int n = 0; n < 70; n += 3) {
            uint8_t *raw = random_frame(1, 4 * n + 4, (uint32_t)n * 13u + 5u);
            uint16_t src[70];
            int16_t a[70];
            int32_t da[70], db[70];
            for (int i = 0; i < n; i++) {
                src[i] = (uint16_t)(raw[2 * i] << 3 | raw[2 * i + 1] >> 5);
                a[i] = (int16_t)(raw[2 * i] * 40 - 5000);
                da[i] = db[i] = raw[2 * i + 1] * 1000;
            }
            ref->accumulate(da, src, n);
            k->accumulate(db, src, n);
            cr_expect_arr_eq(da, db, (size_t)n * sizeof da[0], "accumulate n=%d", n);
            for (int from = 0; from <= n; from += 5)
                for (int thr = -6000; thr < 6000; thr += 1700)
                    cr_expect_eq(ref->next_above(a, from, n, thr), k->next_above(a, from, n, thr),
                                 "next_above n=%d from=%d thr=%d", n, from, thr);
            free(raw);
        }
    }
}
