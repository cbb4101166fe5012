/*
 * test_prep.c - crop preparation on rendered plates laid out as real ones
 * are: tilted in a square crop, a state name above the registration, a
 * picture joined to a character, a character joined to the frame, a
 * frame's sides, and plates read with two models at once; and the
 * binarisations the slope estimate and the first preparation share.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "cvshim.h"
#include "ocr.h"
#include "prep.h"
#include "pw_build_config.h"
#include "synth.h"

static pw_formats *formats;
static pw_ocr *ocr;

static void setup(void)
{
    pw_err err;
    cr_assert_eq(pw_formats_load_dir(PW_MODELS_DIR "/formats", &formats, &err), 0, "%s", err.msg);
    pw_ocr_config cfg;
    pw_ocr_config_defaults(&cfg);
    cr_assert_eq(pw_ocr_new(&cfg, formats, &ocr, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    pw_ocr_destroy(&ocr);
    pw_formats_destroy(&formats);
}

TestSuite(prep, .init = setup, .fini = teardown);

static pw_image *render_framed(const char *text, int char_height, int border)
{
    pw_plate_style st;
    pw_plate_style_defaults(&st, text, char_height);
    st.border = border;
    pw_image *plate = NULL;
    cr_assert_eq(pw_synth_plate(&st, &plate), 0);
    return plate;
}

static pw_image *render(const char *text, int char_height)
{
    return render_framed(text, char_height, 1);
}

/* The plate rotated by degrees, cut square around it, 64 rows high. */
static pw_image *tilted_crop(const char *text, double degrees)
{
    pw_image *plate = render(text, 30), *big = NULL, *crop = NULL;
    pw_plane p = pw_image_plane(plate);
    cr_assert_eq(pw_prep_rotate(&p, -degrees, &big), 0);
    pw_plane b = pw_image_plane(big);
    cr_assert_eq(pw_image_new((int)lround(64.0 * b.width / b.height), 64, 1, &crop), 0);
    pw_plane c = pw_image_plane(crop);
    cr_assert_eq(pw_cv_resize(&b, &c), 0);
    pw_image_destroy(&big);
    pw_image_destroy(&plate);
    return crop;
}

static int read_crop(pw_image *crop, const char *country, pw_plate_read *r)
{
    char codes[1][PW_COUNTRY_MAX] = {{0}};
    g_strlcpy(codes[0], country, sizeof codes[0]);
    pw_plane p = pw_image_plane(crop);
    return pw_ocr_read(ocr, &p, (const char(*)[PW_COUNTRY_MAX])codes, 1, r);
}

Test(prep, the_slope_of_a_tilted_line_is_measured)
{
    static const double angles[] = {-14, -8, 0, 6, 12};
    for (size_t i = 0; i < G_N_ELEMENTS(angles); i++) {
        pw_image *crop = tilted_crop("AB-123-CD", angles[i]), *norm = NULL;
        pw_plane c = pw_image_plane(crop);
        cr_assert_eq(pw_prep_normalise(&c, &norm), 0);
        pw_plane n = pw_image_plane(norm);
        double measured = 99;
        cr_assert_eq(pw_prep_skew(&n, NULL, &measured), 0);
        cr_expect(fabs(measured - angles[i]) <= 2.0, "tilted %g, measured %g", angles[i], measured);
        pw_image_destroy(&norm);
        pw_image_destroy(&crop);
    }
}

Test(prep, invalid_planes_and_angles_are_refused)
{
    uint8_t px[16] = {0};
    pw_plane bad = {px, 4, 4, 2, 1}, ok = {px, 4, 4, 4, 1};
    double degrees = 0;
    pw_image *out = NULL;
    cr_expect_lt(pw_prep_skew(&bad, NULL, &degrees), 0);
    cr_expect_eq(pw_prep_skew(&ok, NULL, NULL), -EINVAL);
    cr_expect_lt(pw_prep_rotate(&bad, 5, &out), 0);
    cr_expect_eq(pw_prep_rotate(&ok, 90, &out), -EINVAL);
    cr_expect_null(out);
    cr_expect_eq(pw_prep_skew(&ok, NULL, &degrees), 0, "a blank plane has no slope");
    cr_expect_eq(degrees, 0);
}

/*
 * The slope estimate and the first preparation share one crop's
 * binarisations: made once, kept until cleared, and the line drawn from
 * them is the one drawn without sharing.
 */
Test(prep, binarisations_are_made_once_and_shared)
{
    pw_image *plate = render("AB-123-CD", 30), *norm = NULL;
    pw_plane p = pw_image_plane(plate);
    cr_assert_eq(pw_prep_normalise(&p, &norm), 0);
    pw_plane n = pw_image_plane(norm);
    pw_prep_labels *labels = NULL;
    cr_assert_eq(pw_prep_labels_new(&labels), 0);
    double degrees = 1;
    cr_assert_eq(pw_prep_skew(&n, labels, &degrees), 0);
    const int32_t *lab1 = NULL, *lab2 = NULL;
    const pw_cc *cc1 = NULL, *cc2 = NULL;
    size_t n1 = 0, n2 = 0;
    cr_assert_eq(pw_prep_labelled(labels, &n, PW_BIN_ADAPTIVE, 0, &lab1, &cc1, &n1), 0);
    cr_assert_eq(pw_prep_labelled(labels, &n, PW_BIN_ADAPTIVE, 0, &lab2, &cc2, &n2), 0);
    cr_assert(lab1 == lab2 && cc1 == cc2 && n1 == n2, "the slope estimate's binarisation is kept, not made again");
    cr_assert_geq(n1, 7, "the characters are components");
    pw_image *shared = NULL, *alone = NULL;
    pw_prep_info si, ai;
    cr_assert_eq(pw_prep_line(&n, PW_BIN_ADAPTIVE, -1, labels, &shared, &si), 0);
    cr_assert_eq(pw_prep_line(&n, PW_BIN_ADAPTIVE, -1, NULL, &alone, &ai), 0);
    pw_plane a = pw_image_plane(alone), b = pw_image_plane(shared);
    cr_assert(a.width == b.width && a.height == b.height && si.chars == ai.chars && si.light_text == ai.light_text);
    for (int y = 0; y < a.height; y++)
        cr_assert_eq(memcmp(pw_plane_at(&a, 0, y), pw_plane_at(&b, 0, y), (size_t)a.width), 0, "row %d", y);
    pw_prep_labels_clear(labels);
    cr_assert_eq(pw_prep_labelled(labels, &n, PW_BIN_ADAPTIVE, 0, &lab2, &cc2, &n2), 0);
    cr_assert_eq(n2, n1, "made again after clearing, the same components");
    cr_assert_eq(pw_prep_labelled(NULL, &n, PW_BIN_ADAPTIVE, 0, &lab2, &cc2, &n2), -EINVAL);
    /* Handed a plane of another size without clearing, it labels that plane, not reads past the old labels. */
    pw_plane half = n;
    half.width = n.width / 2;
    cr_assert_eq(pw_prep_labelled(labels, &half, PW_BIN_ADAPTIVE, 0, &lab2, &cc2, &n2), 0);
    cr_assert_lt(n2, n1, "half the plate, fewer components");
    pw_prep_labels_destroy(&labels);
    cr_assert_null(labels);
    pw_prep_labels_destroy(&labels);
    pw_image_destroy(&shared);
    pw_image_destroy(&alone);
    pw_image_destroy(&norm);
    pw_image_destroy(&plate);
}

Test(prep, a_plate_tilted_in_a_square_crop_is_read)
{
    static const double angles[] = {-12, 10};
    for (size_t i = 0; i < G_N_ELEMENTS(angles); i++) {
        pw_image *crop = tilted_crop("KR-451-XZ", angles[i]);
        pw_plate_read r;
        int rc = read_crop(crop, "FR", &r);
        cr_expect_eq(rc, 0, "%g degrees: %s", angles[i], pw_strerror(rc));
        cr_expect_str_eq(r.text, "KR451XZ", "%g degrees", angles[i]);
        pw_image_destroy(&crop);
    }
}

/* Copies src into dst with its top-left corner at x, y. */
static void paste(pw_image *dst, const pw_image *src, int x, int y)
{
    pw_plane d = pw_image_plane(dst), s = pw_image_plane(src);
    cr_assert(x + s.width <= d.width && y + s.height <= d.height);
    for (int r = 0; r < s.height; r++)
        memcpy(pw_plane_at(&d, x, y + r), pw_plane_at(&s, 0, r), (size_t)s.width);
}

static pw_image *filled(int w, int h, uint8_t grey)
{
    pw_image *img = NULL;
    cr_assert_eq(pw_image_new(w, h, 1, &img), 0);
    pw_plane p = pw_image_plane(img);
    for (int y = 0; y < h; y++)
        memset(pw_plane_at(&p, 0, y), grey, (size_t)w);
    return img;
}

static pw_image *white(int w, int h)
{
    return filled(w, h, 255);
}

Test(prep, the_registration_wins_over_a_longer_line_of_smaller_letters)
{
    /* Eight small letters above six large characters, as on many US plates. */
    pw_image *state = render("VIRGINIA", 16), *reg = render("UZ-5354", 34);
    pw_plane s = pw_image_plane(state), g = pw_image_plane(reg);
    int w = s.width > g.width ? s.width : g.width;
    pw_image *plate = white(w, s.height + g.height);
    paste(plate, state, (w - s.width) / 2, 0);
    paste(plate, reg, (w - g.width) / 2, s.height);
    pw_plate_read r;
    cr_assert_eq(read_crop(plate, "US", &r), 0);
    cr_expect_str_eq(r.text, "UZ5354");
    pw_image_destroy(&plate);
    pw_image_destroy(&reg);
    pw_image_destroy(&state);
}

/* 1 when column x holds dark pixels; widens top and bottom to them. */
static int column_ink(const pw_plane *p, int x, int *top, int *bottom)
{
    int ink = 0;
    for (int y = 0; y < p->height; y++)
        if (*pw_plane_at(p, x, y) < 100) {
            ink = 1;
            *top = y < *top ? y : *top;
            *bottom = y > *bottom ? y : *bottom;
        }
    return ink;
}

Test(prep, a_character_joined_to_a_picture_is_kept)
{
    /* A dark post, twice as tall as the characters, touches the first one's left side. */
    pw_image *text = render_framed("594-CYK", 30, 0);
    pw_plane t = pw_image_plane(text);
    pw_image *plate = white(t.width + 40, t.height + 40);
    paste(plate, text, 20, 20);
    pw_plane p = pw_image_plane(plate);
    int top = p.height, bottom = 0, x = 0;
    while (x < p.width / 3 && !column_ink(&p, x, &top, &bottom))
        x++;
    cr_assert_lt(x, p.width / 3, "the first character is drawn");
    for (int y = 0; y < p.height; y++)
        for (int px = x - 4; px < x + 1; px++)
            *pw_plane_at(&p, px, y) = 20;
    pw_plate_read r;
    cr_assert_eq(read_crop(plate, "US", &r), 0);
    cr_expect_str_eq(r.text, "594CYK");
    pw_image_destroy(&plate);
    pw_image_destroy(&text);
}

/* The columns where runs of ink begin and end (x1 exclusive), at most max; returns how many. */
static int ink_runs(const pw_plane *p, int *x0, int *x1, int max)
{
    int n = 0, top = p->height, bottom = 0;
    for (int x = 0; x < p->width && n < max;) {
        if (!column_ink(p, x, &top, &bottom)) {
            x++;
            continue;
        }
        x0[n] = x;
        while (x < p->width && column_ink(p, x, &top, &bottom))
            x++;
        x1[n++] = x;
    }
    return n;
}

/*
 * text rendered without a border and widened by 20 pixels a side in the
 * plate's own colour, so that only the characters and what a test draws
 * stand out; x0/x1 receive each character's columns (7 of them), top and
 * bottom the rows the characters span.
 */
static pw_image *widened_plate(const char *text, int *x0, int *x1, int *top, int *bottom)
{
    pw_image *rendered = render_framed(text, 30, 0);
    pw_plane t = pw_image_plane(rendered);
    pw_image *plate = filled(t.width + 40, t.height + 40, *pw_plane_at(&t, 0, 0));
    paste(plate, rendered, 20, 20);
    pw_image_destroy(&rendered);
    pw_plane p = pw_image_plane(plate);
    cr_assert_eq(ink_runs(&p, x0, x1, 16), 7, "each character is its own run of columns");
    *top = p.height, *bottom = 0;
    for (int x = 0; x < p.width; x++)
        column_ink(&p, x, top, bottom);
    return plate;
}

Test(prep, a_character_joined_to_the_plates_frame_is_kept)
{
    /*
     * A dark frame round the plate touches the top of the second
     * character, as the binarisation often joins a character to a frame
     * or a bar: one component far wider than a character, with the
     * character in it.
     */
    int x0[16], x1[16], top, bottom;
    pw_image *plate = widened_plate("6UNP953", x0, x1, &top, &bottom);
    pw_plane p = pw_image_plane(plate);
    int fx0 = 6, fx1 = p.width - 6, fy0 = top - 12, fy1 = bottom + 12, thick = 4;
    cr_assert_gt(fy0, 0);
    cr_assert_lt(fy1, p.height);
    for (int y = fy0; y < fy1; y++)
        for (int x = fx0; x < fx1; x++)
            if (y < fy0 + thick || y >= fy1 - thick || x < fx0 + thick || x >= fx1 - thick)
                *pw_plane_at(&p, x, y) = 20;
    /* The link: a short stroke from the frame down to the character. */
    for (int y = fy0 + thick; y <= top + 1; y++)
        memset(pw_plane_at(&p, x0[1], y), 20, 4);
    pw_plate_read r;
    cr_assert_eq(read_crop(plate, "US", &r), 0);
    cr_expect_str_eq(r.text, "6UNP953");
    pw_image_destroy(&plate);
}

Test(prep, a_frames_sides_are_not_counted_as_characters)
{
    /*
     * Thin bars a little taller than the characters at both ends of the
     * row, as a frame's sides are cut by the localiser's box: they line up
     * with the characters, but a crop's character count (which decides
     * whether a box is read at all) leaves them out.
     */
    int x0[16], x1[16], top, bottom;
    pw_image *plate = widened_plate("AB123CD", x0, x1, &top, &bottom);
    pw_plane p = pw_image_plane(plate);
    int tall = (bottom - top + 1) * 15 / 100, sides[2] = {x0[0] - 10, x1[6] + 7};
    cr_assert(top - tall > 0 && bottom + tall < p.height && sides[0] > 0 && sides[1] + 3 < p.width);
    for (int k = 0; k < 2; k++)
        for (int y = top - tall; y <= bottom + tall; y++)
            memset(pw_plane_at(&p, sides[k], y), 20, 3);
    pw_ocr_crop *crop = NULL;
    cr_assert_eq(pw_ocr_crop_new(&p, &crop), 0);
    cr_expect_eq(pw_ocr_crop_chars(crop), 7);
    pw_ocr_crop_destroy(&crop);
    pw_image_destroy(&plate);
}

Test(prep, two_models_joined_by_plus_are_loaded_and_named)
{
    pw_ocr_config cfg;
    pw_ocr_config_defaults(&cfg);
    cfg.language = "plate+plate";
    pw_ocr *two = NULL;
    pw_err err;
    cr_assert_eq(pw_ocr_new(&cfg, formats, &two, &err), 0, "%s", err.msg);
    pw_image *plate = render("AB-123-CD", 30);
    pw_plane p = pw_image_plane(plate);
    char fr[1][PW_COUNTRY_MAX] = {"FR"};
    pw_plate_read r;
    cr_expect_eq(pw_ocr_read(two, &p, (const char(*)[PW_COUNTRY_MAX])fr, 1, &r), 0);
    cr_expect_str_eq(r.text, "AB123CD");
    pw_ocr_destroy(&two);
    pw_image_destroy(&plate);

    cfg.language = "plate+nosuchmodel";
    cr_expect_eq(pw_ocr_new(&cfg, formats, &two, &err), PW_EOCRINIT);
    cr_expect(strstr(err.msg, "nosuchmodel.traineddata") != NULL, "%s", err.msg);
    cfg.language = "plate+";
    cr_expect_eq(pw_ocr_new(&cfg, formats, &two, &err), PW_EOCRINIT);
    cr_expect(strstr(err.msg, "empty model name") != NULL, "%s", err.msg);
    cr_expect_null(two);
}
