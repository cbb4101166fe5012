/* Error table, image planes, the OpenCV shim's decoding and labelling, and the renderer. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvshim.h"
#include "pw_common.h"
#include "synth.h"

Test(errors, every_project_code_has_its_own_message)
{
    for (int code = PW_ERR_BASE - 1; code > PW_ELAST; code--) {
        const char *msg = pw_strerror(code);
        cr_assert_not_null(msg);
        cr_assert(strcmp(msg, "unknown platewatch error") != 0, "code %d has no message", code);
        for (int other = code - 1; other > PW_ELAST; other--)
            cr_assert_str_neq(msg, pw_strerror(other), "codes %d and %d share a message", code, other);
    }
}

Test(errors, errno_codes_use_the_system_text)
{
    cr_assert_str_eq(pw_strerror(-ENOENT), strerror(ENOENT));
    cr_assert_str_eq(pw_strerror(0), "success");
    cr_assert_str_eq(pw_strerror(-5000), "unknown error");
}

Test(errors, err_set_records_code_and_sentence)
{
    pw_err err;
    int rc = pw_err_set(&err, PW_ECONFIG, "%s: group [%s] key %s", "a.conf", "lane", "source");
    cr_assert_eq(rc, PW_ECONFIG);
    cr_assert_eq(err.code, PW_ECONFIG);
    cr_assert_str_eq(err.msg, "a.conf: group [lane] key source");
    cr_assert_eq(pw_err_set(NULL, -EINVAL, "ignored"), -EINVAL);
}

Test(image, new_rejects_empty_and_huge_sizes)
{
    pw_image *img = (pw_image *)0x1;
    cr_assert_eq(pw_image_new(0, 10, 1, &img), PW_EEMPTYIMG);
    cr_assert_null(img);
    cr_assert_eq(pw_image_new(10, PW_MAX_IMAGE_SIDE + 1, 1, &img), PW_ETOOBIG);
    cr_assert_eq(pw_image_new(10, 10, 2, &img), -EINVAL);
    cr_assert_eq(pw_image_new(33, 5, 3, &img), 0);
    pw_plane p = pw_image_plane(img);
    cr_assert_eq(p.width, 33);
    cr_assert_geq(p.stride, 99);
    cr_assert_eq(p.stride % 32, 0);
    pw_image_destroy(&img);
    cr_assert_null(img);
    pw_image_destroy(&img);
    pw_image_destroy(NULL);
}

Test(image, plane_check_names_the_fault)
{
    uint8_t px[64] = {0};
    pw_plane p = {px, 8, 8, 8, 1};
    cr_assert_eq(pw_plane_check(&p), 0);
    p.stride = 7;
    cr_assert_eq(pw_plane_check(&p), PW_EBADFRAME);
    p.stride = 8, p.height = 0;
    cr_assert_eq(pw_plane_check(&p), PW_EEMPTYIMG);
    p.height = 8, p.data = NULL;
    cr_assert_eq(pw_plane_check(&p), -EINVAL);
}

/* Encodes a rendered plate, so decoding tests start from real JPEG and PNG bytes. */
static void encoded_plate(const char *ext, uint8_t **buf, size_t *len)
{
    pw_plate_style style;
    pw_plate_style_defaults(&style, "AB-123-CD", 24);
    pw_image *img = NULL;
    cr_assert_eq(pw_synth_plate(&style, &img), 0);
    pw_plane p = pw_image_plane(img);
    cr_assert_eq(pw_cv_encode(&p, ext, 90, buf, len), 0);
    pw_image_destroy(&img);
}

Test(decode, jpeg_and_png_round_trip)
{
    const char *exts[] = {".jpg", ".png"};
    for (int i = 0; i < 2; i++) {
        uint8_t *buf;
        size_t len;
        encoded_plate(exts[i], &buf, &len);
        pw_image *grey = NULL, *bgr = NULL;
        pw_err err = {0};
        cr_assert_eq(pw_cv_decode(buf, len, &grey, &bgr, &err), 0, "%s: %s", exts[i], err.msg);
        pw_plane g = pw_image_plane(grey), c = pw_image_plane(bgr);
        cr_assert_eq(g.channels, 1);
        cr_assert_eq(c.channels, 3);
        cr_assert_eq(g.width, c.width);
        cr_assert_gt(g.width, 100);
        pw_image_destroy(&grey);
        pw_image_destroy(&bgr);
        free(buf);
    }
}

/* A colour picture: red, green and blue ramps, so that grey depends on every channel. */
static void encoded_colour(const char *ext, uint8_t **buf, size_t *len)
{
    pw_image *img = NULL;
    cr_assert_eq(pw_image_new(160, 90, 3, &img), 0);
    pw_plane p = pw_image_plane(img);
    for (int y = 0; y < p.height; y++)
        for (int x = 0; x < p.width; x++) {
            uint8_t *px = pw_plane_at(&p, x, y);
            px[0] = (uint8_t)(x * 255 / 159), px[1] = (uint8_t)(y * 255 / 89), px[2] = (uint8_t)((x + y) % 256);
        }
    cr_assert_eq(pw_cv_encode(&p, ext, 95, buf, len), 0);
    pw_image_destroy(&img);
}

/* Grey alone is decoded straight to grey (faster for JPEG): the same picture as the colour decode's grey. */
Test(decode, grey_alone_matches_the_grey_of_a_colour_decode)
{
    const char *exts[] = {".jpg", ".png"};
    for (int i = 0; i < 2; i++) {
        uint8_t *buf;
        size_t len;
        encoded_colour(exts[i], &buf, &len);
        pw_image *alone = NULL, *with = NULL, *bgr = NULL;
        pw_err err = {0};
        cr_assert_eq(pw_cv_decode(buf, len, &alone, NULL, &err), 0, "%s: %s", exts[i], err.msg);
        cr_assert_eq(pw_cv_decode(buf, len, &with, &bgr, &err), 0, "%s: %s", exts[i], err.msg);
        pw_plane a = pw_image_plane(alone), w = pw_image_plane(with);
        cr_assert_eq(a.channels, 1);
        cr_assert_eq(a.width, w.width);
        cr_assert_eq(a.height, w.height);
        long diff = 0;
        int worst = 0;
        for (int y = 0; y < a.height; y++)
            for (int x = 0; x < a.width; x++) {
                int d = abs((int)*pw_plane_at(&a, x, y) - (int)*pw_plane_at(&w, x, y));
                diff += d;
                worst = d > worst ? d : worst;
            }
        double mean = (double)diff / ((double)a.width * a.height);
        cr_expect_lt(mean, 1.5, "%s: grey differs by %.2f on average", exts[i], mean);
        cr_expect_leq(worst, 8, "%s: grey differs by up to %d", exts[i], worst);
        pw_image_destroy(&alone);
        pw_image_destroy(&with);
        pw_image_destroy(&bgr);
        free(buf);
    }
}

Test(decode, truncated_files_are_named_truncated)
{
    const char *exts[] = {".jpg", ".png"};
    for (int i = 0; i < 2; i++) {
        uint8_t *buf;
        size_t len;
        encoded_plate(exts[i], &buf, &len);
        pw_image *grey = NULL;
        pw_err err = {0};
        cr_assert_eq(pw_cv_decode(buf, len * 2 / 3, &grey, NULL, &err), PW_ETRUNCATED, "%s", exts[i]);
        cr_assert_null(grey);
        cr_assert(strstr(err.msg, "ends before") != NULL, "%s", err.msg);
        free(buf);
    }
}

Test(decode, zero_padding_after_the_end_marker_is_not_truncation)
{
    uint8_t *buf;
    size_t len;
    encoded_plate(".jpg", &buf, &len);
    uint8_t *padded = calloc(1, len + 4096);
    memcpy(padded, buf, len);
    pw_image *grey = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_cv_decode(padded, len + 4096, &grey, NULL, &err), 0, "%s", err.msg);
    pw_image_destroy(&grey);
    /* Zeros after a cut-off file do not hide the cut. */
    memset(padded + len / 2, 0, len / 2 + 4096);
    cr_assert_eq(pw_cv_decode(padded, len + 4096, &grey, NULL, &err), PW_ETRUNCATED);
    free(padded);
    free(buf);
}

Test(decode, empty_and_foreign_bytes)
{
    pw_image *grey = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_cv_decode((const uint8_t *)"", 0, &grey, NULL, &err), PW_EEMPTYIMG);
    const char text[] = "this is a text file, not a picture\n";
    cr_assert_eq(pw_cv_decode((const uint8_t *)text, sizeof text, &grey, NULL, &err), PW_EDECODE);
    cr_assert(strstr(err.msg, "not a JPEG, PNG") != NULL, "%s", err.msg);
    cr_assert_null(grey);
}

Test(decode, a_known_magic_with_garbage_after_it_is_not_an_image)
{
    /* A PNG signature followed by noise passes the format check and fails in the decoder. */
    uint8_t bytes[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'X', 'X', 'X', 'X'};
    memcpy(bytes + 52, "IEND", 4); /* complete, so that it is not called truncated */
    pw_image *grey = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_cv_decode(bytes, sizeof bytes, &grey, NULL, &err), PW_EDECODE, "%s", err.msg);
    cr_assert(strstr(err.msg, "no image decoder") != NULL, "%s", err.msg);
    cr_assert_null(grey);
}

Test(decode, header_sizes_are_checked_before_decoding)
{
    uint8_t *buf;
    size_t len;
    encoded_plate(".png", &buf, &len);
    pw_image *grey = NULL;
    pw_err err = {0};
    /* IHDR width and height are big-endian at offsets 16 and 20. */
    memcpy(buf + 16, "\x00\x01\x00\x00", 4);
    cr_assert_eq(pw_cv_decode(buf, len, &grey, NULL, &err), PW_ETOOBIG);
    cr_assert(strstr(err.msg, "65536") != NULL, "%s", err.msg);
    memcpy(buf + 16, "\x00\x00\x00\x00", 4);
    cr_assert_eq(pw_cv_decode(buf, len, &grey, NULL, &err), PW_EEMPTYIMG);
    free(buf);
}

Test(decode, a_huge_frame_behind_garbage_is_refused_before_decoding)
{
    /*
     * Found by fuzz-decode: the APP0 length is wrong, libjpeg skips to the
     * frame header anyway, which announces 65120x14912 pixels (~3 GB).
     */
    static const uint8_t jpeg[] = {
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x06,
        0x08, 0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x8a, 0x0a, 0x0a, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x3a,
        0x40, 0xfe, 0x60, 0x01, 0x01, 0x11, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xda, 0x00, 0x08,
        0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0xf1, 0xf7, 0xef, 0xb8, 0xd5, 0x67, 0xf9, 0xbb, 0x9c, 0xed,
        0x71, 0xeb, 0xd3, 0xde, 0xf5, 0xff, 0xd9};
    pw_image *grey = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_cv_decode(jpeg, sizeof jpeg, &grey, NULL, &err), PW_ETOOBIG, "%s", err.msg);
    cr_assert(strstr(err.msg, "65120x14912") != NULL, "%s", err.msg);
    cr_assert_null(grey);
}

/*
 * Components are numbered in raster order of their first pixel, whatever
 * labelling algorithm OpenCV runs, and the labels land in the caller's
 * buffer: prep.c's row analysis reads both.
 */
Test(components, numbered_in_raster_order_with_labels_in_the_callers_buffer)
{
    enum { W = 40, H = 12 };
    static uint8_t px[W * H];
    memset(px, 0, sizeof px);
    /* A 3x4 block at (20, 1), an L at (2, 5) and a diagonal (8-connected) pair at (30, 8). */
    for (int y = 1; y < 5; y++)
        for (int x = 20; x < 23; x++)
            px[y * W + x] = 255;
    for (int y = 5; y < 10; y++)
        px[y * W + 2] = 255;
    px[9 * W + 3] = px[9 * W + 4] = 255;
    px[8 * W + 30] = px[9 * W + 31] = 255;
    pw_plane bin = {px, W, H, W, 1};
    int32_t labels[W * H];
    memset(labels, 0xff, sizeof labels);
    pw_cc cc[3];
    size_t n = 0;
    cr_assert_eq(pw_cv_components(&bin, labels, cc, 3, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert(cc[0].x == 20 && cc[0].y == 1 && cc[0].w == 3 && cc[0].h == 4 && cc[0].area == 12);
    cr_assert(cc[1].x == 2 && cc[1].y == 5 && cc[1].w == 3 && cc[1].h == 5 && cc[1].area == 7);
    cr_assert(cc[2].x == 30 && cc[2].y == 8 && cc[2].w == 2 && cc[2].h == 2 && cc[2].area == 2);
    cr_assert_eq(labels[1 * W + 21], 1);
    cr_assert_eq(labels[9 * W + 4], 2);
    cr_assert_eq(labels[9 * W + 31], 3);
    cr_assert_eq(labels[0], 0);
    cr_assert_eq(labels[H * W - 1], 0);
    /* Fewer slots than components: the first max are filled, n counts them all. */
    pw_cc one[1];
    cr_assert_eq(pw_cv_components(&bin, NULL, one, 1, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(one[0].x, 20);
}

Test(synth, same_request_gives_same_pixels)
{
    pw_scene_spec spec = {.width = 320, .height = 200, .seed = 5, .clutter = 10, .noise_sigma = 4, .vehicle = 1};
    pw_scene_plate plate = {.cx = 160, .cy = 110, .tilt_deg = 7};
    pw_plate_style_defaults(&plate.style, "XY 1234", 14);
    pw_image *a = NULL, *b = NULL;
    float corners[1][4][2];
    cr_assert_eq(pw_synth_scene(&spec, &plate, 1, &a, corners), 0);
    cr_assert_eq(pw_synth_scene(&spec, &plate, 1, &b, NULL), 0);
    pw_plane pa = pw_image_plane(a), pb = pw_image_plane(b);
    cr_assert_eq(memcmp(pa.data, pb.data, (size_t)pa.stride * pa.height), 0);
    /* A clockwise tilt puts the top-right corner below the top-left one. */
    cr_assert_gt(corners[0][1][1], corners[0][0][1]);
    cr_assert_lt(corners[0][0][0], 160);
    cr_assert_gt(corners[0][2][0], 160);
    pw_image_destroy(&a);
    pw_image_destroy(&b);
}

Test(synth, plate_is_light_with_dark_text)
{
    pw_plate_style style;
    pw_plate_style_defaults(&style, "AB 12", 20);
    pw_image *img = NULL;
    cr_assert_eq(pw_synth_plate(&style, &img), 0);
    pw_plane p = pw_image_plane(img);
    long dark = 0, light = 0;
    for (int y = 0; y < p.height; y++)
        for (int x = 0; x < p.width; x++)
            *pw_plane_at(&p, x, y) < 128 ? dark++ : light++;
    cr_assert_gt(light, dark * 2, "plate background must dominate");
    cr_assert_gt(dark, 0, "text must be drawn");
    pw_image_destroy(&img);
    style.char_height = 3;
    cr_assert_eq(pw_synth_plate(&style, &img), -EINVAL);
}

Test(geometry, iou_of_boxes)
{
    pw_rect a = {0, 0, 10, 10}, b = {5, 0, 10, 10}, c = {20, 20, 5, 5}, empty = {0, 0, 0, 10};
    cr_assert_float_eq(pw_rect_iou(a, a), 1.0, 1e-9);
    cr_assert_float_eq(pw_rect_iou(a, b), 50.0 / 150.0, 1e-9);
    cr_assert_float_eq(pw_rect_iou(a, c), 0.0, 1e-9);
    cr_assert_float_eq(pw_rect_iou(a, empty), 0.0, 1e-9);
}

Test(geometry, intersection_of_boxes)
{
    pw_rect a = {0, 0, 10, 10}, b = {5, 3, 10, 10}, c = {20, 20, 5, 5}, touching = {10, 0, 4, 4};
    pw_rect i = pw_rect_intersect(a, b);
    cr_expect(i.x == 5 && i.y == 3 && i.w == 5 && i.h == 7, "%d,%d %dx%d", i.x, i.y, i.w, i.h);
    i = pw_rect_intersect(b, a);
    cr_expect(i.x == 5 && i.y == 3 && i.w == 5 && i.h == 7, "the order does not matter");
    i = pw_rect_intersect(a, c);
    cr_expect(i.w == 0 && i.h == 0, "apart: %dx%d", i.w, i.h);
    i = pw_rect_intersect(a, touching);
    cr_expect(i.w == 0 && i.h == 0, "sharing only an edge: %dx%d", i.w, i.h);
}

Test(plate_text, letters_and_digits_are_kept_upper_cased)
{
    char out[8];
    cr_expect_eq(pw_plate_chars("ab-123 cd", out, sizeof out), 7);
    cr_expect_str_eq(out, "AB123CD");
    cr_expect_eq(pw_plate_chars("  .-/ ", out, sizeof out), 0);
    cr_expect_str_eq(out, "");
    cr_expect_eq(pw_plate_chars("K AB 12345", out, sizeof out), 7, "cut at the capacity");
    cr_expect_str_eq(out, "KAB1234");
    cr_expect_eq(pw_plate_chars("XY\xc3\xa9Z9", out, sizeof out), 4, "bytes beyond ASCII are left out");
    cr_expect_str_eq(out, "XYZ9");
    cr_expect_eq(pw_plate_chars(NULL, out, sizeof out), 0);
    cr_expect_eq(pw_plate_chars("AB", out, 0), 0, "no room: nothing written");
}
