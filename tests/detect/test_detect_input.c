#define _POSIX_C_SOURCE 200809L
/*
 * test_detect_input.c - bad frames and bad configurations give a clear
 * code or no candidates, never a crash or a read outside the frame (the
 * suite also runs under AddressSanitizer, and frames here are allocated to
 * their exact size so that an over-read is caught).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect_fixtures.h"

static pw_detector *det;

static void setup(void)
{
    cr_assert_eq(pw_detector_new(NULL, &det, NULL), 0);
}

static void teardown(void)
{
    pw_detector_destroy(&det);
}

TestSuite(detect_input, .init = setup, .fini = teardown);

/* Runs the detector on an exactly sized heap frame filled by fill (x, y) -> value. */
static int run_exact(int w, int h, int stride, uint8_t (*fill)(int, int), size_t *n)
{
    size_t bytes = (size_t)stride * (size_t)(h - 1) + (size_t)w;
    uint8_t *px = malloc(bytes ? bytes : 1);
    cr_assert_not_null(px);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            px[(size_t)y * (size_t)stride + (size_t)x] = fill(x, y);
    pw_plane p = {px, w, h, stride, 1};
    const pw_candidate *c;
    int rc = pw_detector_run(det, &p, &c, n);
    free(px);
    return rc;
}

static uint8_t black(int x, int y)
{
    (void)x, (void)y;
    return 0;
}

static uint8_t white(int x, int y)
{
    (void)x, (void)y;
    return 255;
}

static uint8_t noise(int x, int y)
{
    uint32_t v = (uint32_t)x * 2654435761u ^ (uint32_t)y * 2246822519u;
    v ^= v >> 15;
    v *= 2654435761u;
    return (uint8_t)(v >> 24);
}

Test(detect_input, zero_sizes_are_rejected)
{
    uint8_t px[16] = {0};
    const pw_candidate *c;
    size_t n = 99;
    pw_plane p = {px, 0, 4, 4, 1};
    cr_expect_eq(pw_detector_run(det, &p, &c, &n), PW_EEMPTYIMG);
    cr_expect_eq(n, 0);
    p = (pw_plane){px, 4, 0, 4, 1};
    cr_expect_eq(pw_detector_run(det, &p, &c, &n), PW_EEMPTYIMG);
}

Test(detect_input, stride_below_width_is_rejected)
{
    uint8_t px[64] = {0};
    const pw_candidate *c;
    size_t n;
    pw_plane p = {px, 8, 4, 7, 1};
    cr_expect_eq(pw_detector_run(det, &p, &c, &n), PW_EBADFRAME);
}

Test(detect_input, oversized_and_colour_frames_are_rejected)
{
    uint8_t px[64] = {0};
    const pw_candidate *c;
    size_t n;
    pw_plane p = {px, PW_MAX_IMAGE_SIDE + 1, 1, PW_MAX_IMAGE_SIDE + 1, 1};
    cr_expect_eq(pw_detector_run(det, &p, &c, &n), PW_ETOOBIG);
    p = (pw_plane){px, 4, 4, 12, 3};
    cr_expect_eq(pw_detector_run(det, &p, &c, &n), -EINVAL);
    p = (pw_plane){NULL, 4, 4, 4, 1};
    cr_expect_eq(pw_detector_run(det, &p, &c, &n), -EINVAL);
    cr_expect_eq(pw_detector_run(NULL, &p, &c, &n), -EINVAL);
}

Test(detect_input, flat_frames_give_no_candidates)
{
    size_t n = 99;
    cr_expect_eq(run_exact(1280, 720, 1280, black, &n), 0);
    cr_expect_eq(n, 0);
    cr_expect_eq(run_exact(641, 359, 700, white, &n), 0);
    cr_expect_eq(n, 0);
}

Test(detect_input, pure_noise_is_safe)
{
    size_t n = 99;
    cr_expect_eq(run_exact(1279, 721, 1283, noise, &n), 0);
    cr_expect_leq(n, 10);
}

Test(detect_input, frames_smaller_than_a_plate_are_safe)
{
    const int sizes[][2] = {{1, 1}, {2, 3}, {7, 1}, {1, 9}, {15, 15}, {47, 23}, {49, 25}, {97, 49}, {200, 30}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = 99;
        cr_expect_eq(run_exact(sizes[i][0], sizes[i][1], sizes[i][0], noise, &n), 0);
        cr_expect_leq(n, 10);
    }
}

Test(detect_input, roi_outside_the_frame_gives_nothing)
{
    pw_detect_config cfg;
    pw_detect_config_defaults(&cfg);
    cfg.roi = (pw_rect){5000, 5000, 100, 100};
    pw_detector *d = NULL;
    cr_assert_eq(pw_detector_new(&cfg, &d, NULL), 0);
    pw_image *img = scene_one(640, 480, "AB 12 CD", 20, 320, 240, 0, 1, 1u, NULL);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n = 99;
    cr_expect_eq(pw_detector_run(d, &p, &c, &n), 0);
    cr_expect_eq(n, 0);
    pw_detector_destroy(&d);
    pw_image_destroy(&img);
}

/* Applies one bad field to the defaults and checks the code and that err names the field. */
static void expect_bad(pw_detect_config cfg, const char *field)
{
    pw_detector *d = (pw_detector *)1;
    pw_err err;
    pw_err_clear(&err);
    cr_expect_eq(pw_detector_new(&cfg, &d, &err), -EINVAL, "%s", field);
    cr_expect_null(d);
    cr_expect(strstr(err.msg, field) != NULL, "message '%s' does not name %s", err.msg, field);
}

Test(detect_input, bad_configurations_name_the_field)
{
    pw_detect_config def;
    pw_detect_config_defaults(&def);
    pw_detect_config c = def;
    c.max_candidates = PW_DETECT_MAX_CANDIDATES + 1;
    expect_bad(c, "max_candidates");
    c = def;
    c.min_plate_width = 3;
    expect_bad(c, "min_plate_width");
    c = def;
    c.max_plate_width = 40;
    expect_bad(c, "max_plate_width");
    c = def;
    c.crop_height = 4;
    expect_bad(c, "crop_height");
    c = def;
    c.roi.x = -1;
    expect_bad(c, "roi");
    c = def;
    c.simd = (pw_simd_level)9;
    expect_bad(c, "simd");
    cr_expect_eq(pw_detector_new(&def, NULL, NULL), -EINVAL);
}

Test(detect_input, destroy_accepts_null)
{
    pw_detector *d = NULL;
    pw_detector_destroy(&d);
    pw_detector_destroy(NULL);
    cr_expect_null(d);
}

Test(detect_input, simd_names_parse)
{
    pw_simd_level l;
    cr_expect_eq(pw_simd_parse("scalar", &l), 0);
    cr_expect_eq(l, PW_SIMD_SCALAR);
    cr_expect_eq(pw_simd_parse("avx2", &l), 0);
    cr_expect_eq(l, PW_SIMD_AVX2);
    cr_expect_eq(pw_simd_parse("auto", &l), 0);
    cr_expect_eq(l, PW_SIMD_AUTO);
    cr_expect_eq(pw_simd_parse("avx512", &l), -EINVAL);
    cr_expect_eq(pw_simd_parse(NULL, &l), -EINVAL);
    cr_expect_str_eq(pw_simd_name(PW_SIMD_SSE2), "sse2");
}

Test(detect_input, simd_level_is_chosen_and_can_be_forced)
{
    cr_expect_eq(pw_detector_simd(det), pw_simd_best());
    pw_detector *d = detector_at(PW_SIMD_SCALAR);
    cr_assert_not_null(d);
    cr_expect_eq(pw_detector_simd(d), PW_SIMD_SCALAR);
    pw_detector_destroy(&d);
}

Test(detect_input, simd_level_from_environment)
{
    pw_simd_level l;
    setenv("PW_SIMD", "sse2", 1);
    cr_expect_eq(pw_simd_from_env(&l), 0);
    cr_expect_eq(l, PW_SIMD_SSE2);
    setenv("PW_SIMD", "bogus", 1);
    cr_expect_eq(pw_simd_from_env(&l), -EINVAL);
    unsetenv("PW_SIMD");
    cr_expect_eq(pw_simd_from_env(&l), 0);
    cr_expect_eq(l, PW_SIMD_AUTO);
}
