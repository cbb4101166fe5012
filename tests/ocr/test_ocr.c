/*
 * test_ocr.c - Tesseract reading of rendered plates (synth/), with their
 * formats and countries, two-row and light-on-dark plates, plates cut out
 * of rendered scenes, and bad input: empty, tiny, huge, blank and noise
 * crops, and missing or corrupt traineddata.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ocr.h"
#include "pw_build_config.h"
#include "synth.h"
#include "tess.h"

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
    cr_assert_null(ocr);
    pw_ocr_destroy(&ocr);
    pw_formats_destroy(&formats);
}

TestSuite(ocr, .init = setup, .fini = teardown);

/* Scales a rendered plate to the detector's crop height, as the reader hands it over. */
static pw_image *to_crop_height(pw_image *plate, int height)
{
    pw_plane p = pw_image_plane(plate);
    int w = (int)lround((double)p.width * height / p.height);
    pw_image *out = NULL;
    cr_assert_eq(pw_image_new(w, height, 1, &out), 0);
    pw_plane o = pw_image_plane(out);
    cr_assert_eq(pw_cv_resize(&p, &o), 0);
    return out;
}

static int read_style(const pw_plate_style *st, const char *countries, pw_plate_read *r)
{
    pw_image *plate = NULL;
    cr_assert_eq(pw_synth_plate(st, &plate), 0);
    pw_image *crop = to_crop_height(plate, 64);
    char codes[8][PW_COUNTRY_MAX];
    size_t n = 0;
    if (countries)
        cr_assert_eq(pw_formats_parse_countries(formats, countries, codes, 8, &n, NULL), 0);
    pw_plane cp = pw_image_plane(crop);
    int rc = pw_ocr_read(ocr, &cp, (const char(*)[PW_COUNTRY_MAX])codes, n, r);
    pw_image_destroy(&crop);
    pw_image_destroy(&plate);
    return rc;
}

static void expect_read(const char *printed, const char *countries, const char *text, const char *country)
{
    pw_plate_style st;
    pw_plate_style_defaults(&st, printed, 30);
    pw_plate_read r;
    int rc = read_style(&st, countries, &r);
    cr_assert_eq(rc, 0, "%s: %s", printed, pw_strerror(rc));
    cr_expect_str_eq(r.text, text, "printed %s, read %s", printed, r.text);
    cr_expect_str_eq(r.country, country, "printed %s", printed);
    cr_expect_gt(r.confidence, 50.0f);
    cr_expect_geq(r.n_alts, 1);
    cr_expect_str_eq(r.alts[0].text, r.text, "the chosen reading is the first alternative");
    for (size_t i = 0; i < strlen(r.text); i++)
        cr_expect(r.char_conf[i] > 0 && r.char_conf[i] <= 100, "char %zu conf %g", i, r.char_conf[i]);
}

Test(ocr, reads_rendered_plates_of_several_countries)
{
    expect_read("AB-123-CD", "FR", "AB123CD", "FR");
    expect_read("BA-123AB", "SK,CZ", "BA123AB", "SK");
    expect_read("1T4 3213", "SK,CZ", "1T43213", "CZ");
    expect_read("HPM-9362", "BR", "HPM9362", "BR");
    expect_read("7ABC123", "US", "7ABC123", "US");
}

/* One plate as printed for each country of models/formats, in one of its formats. */
static const struct {
    const char *country, *printed, *text;
} FORMAT_SAMPLES[] = {
    {"AT", "W-12345-A", "W12345A"},  {"BE", "1-ABC-123", "1ABC123"}, {"BG", "CA 1234 AB", "CA1234AB"},
    {"BR", "HPM-9362", "HPM9362"},   {"CZ", "1T4 3213", "1T43213"},  {"DE", "B-MW 1234", "BMW1234"},
    {"ES", "1234 BCD", "1234BCD"},   {"FR", "AB-123-CD", "AB123CD"}, {"GB", "AB51 ABC", "AB51ABC"},
    {"HU", "ABC-123", "ABC123"},     {"IT", "AB 123 CD", "AB123CD"}, {"NL", "XY-12-34", "XY1234"},
    {"PL", "WA 56660", "WA56660"},   {"RO", "B 123 ABC", "B123ABC"}, {"SK", "BA-123AB", "BA123AB"},
    {"TR", "34 ABC 123", "34ABC123"}, {"UA", "AA 1234 BB", "AA1234BB"}, {"US", "7ABC123", "7ABC123"},
};

Test(ocr, the_default_model_reads_a_rendered_plate_of_every_format_file)
{
    pw_ocr_config cfg;
    pw_ocr_config_defaults(&cfg);
    cr_expect_str_eq(cfg.language, "plate", "the shipped plate model is the default");
    size_t n = pw_formats_country_count(formats);
    for (size_t i = 0; i < n; i++) {
        const char *cc = pw_formats_country(formats, i);
        size_t k = 0;
        while (k < G_N_ELEMENTS(FORMAT_SAMPLES) && strcmp(FORMAT_SAMPLES[k].country, cc) != 0)
            k++;
        cr_assert_lt(k, G_N_ELEMENTS(FORMAT_SAMPLES), "models/formats/%s.fmt has no sample plate here", cc);
        expect_read(FORMAT_SAMPLES[k].printed, cc, FORMAT_SAMPLES[k].text, cc);
    }
}

Test(ocr, every_country_is_tried_when_none_are_configured)
{
    pw_plate_style st;
    pw_plate_style_defaults(&st, "KR-451-XZ", 30);
    pw_plate_read r;
    cr_assert_eq(read_style(&st, NULL, &r), 0);
    cr_expect_str_eq(r.text, "KR451XZ");
    cr_expect_neq(r.country[0], '\0', "some country's format fits");
}

Test(ocr, reads_light_text_on_dark_plates)
{
    pw_plate_style st;
    pw_plate_style_defaults(&st, "GHK-4821", 30);
    st.dark_on_light = 0;
    st.plate_value = 30;
    st.text_value = 230;
    pw_plate_read r;
    cr_assert_eq(read_style(&st, "BR", &r), 0);
    cr_expect_str_eq(r.text, "GHK4821");
}

Test(ocr, reads_two_row_plates_top_row_first)
{
    pw_plate_style st;
    pw_plate_style_defaults(&st, "BA1 23AB", 22);
    st.two_rows = 1;
    pw_plate_read r;
    cr_assert_eq(read_style(&st, "SK", &r), 0);
    cr_expect_str_eq(r.text, "BA123AB");
    cr_expect_str_eq(r.country, "SK");
}

Test(ocr, reads_plates_without_a_frame_in_other_fonts)
{
    pw_plate_style st;
    pw_plate_style_defaults(&st, "WX-507-JN", 30);
    st.border = 0;
    st.font = PW_FONT_SANS;
    pw_plate_read r;
    cr_assert_eq(read_style(&st, "FR", &r), 0);
    cr_expect_str_eq(r.text, "WX507JN");
}

Test(ocr, unmatched_reading_is_reported_raw_with_lower_confidence)
{
    /* Four letters fit no Brazilian format. */
    pw_plate_style st;
    pw_plate_style_defaults(&st, "WXYZ", 30);
    pw_plate_read r;
    cr_assert_eq(read_style(&st, "BR", &r), 0);
    cr_expect_str_eq(r.text, "WXYZ");
    cr_expect_str_eq(r.country, "");
    cr_expect_leq(r.confidence, 60.0f);
}

Test(ocr, reads_a_plate_cut_from_a_rendered_scene)
{
    pw_scene_spec spec = {.width = 640, .height = 360, .seed = 7, .clutter = 20, .blur_sigma = 0.6,
                          .noise_sigma = 3.0, .vehicle = 1};
    pw_scene_plate plate = {.cx = 320, .cy = 220};
    pw_plate_style_defaults(&plate.style, "EK-318-TP", 20);
    pw_image *scene = NULL;
    float corners[1][4][2];
    cr_assert_eq(pw_synth_scene(&spec, &plate, 1, &scene, corners), 0);
    /* The rectified crop the detector would give: the plate's box with a margin, 64 rows high. */
    float w = corners[0][1][0] - corners[0][0][0], h = corners[0][3][1] - corners[0][0][1];
    float mx = w * 0.06f, my = h * 0.15f;
    float quad[8] = {corners[0][0][0] - mx, corners[0][0][1] - my, corners[0][1][0] + mx, corners[0][1][1] - my,
                     corners[0][2][0] + mx, corners[0][2][1] + my, corners[0][3][0] - mx, corners[0][3][1] + my};
    pw_image *crop = NULL;
    cr_assert_eq(pw_image_new((int)lround(64.0 * (w + 2 * mx) / (h + 2 * my)), 64, 1, &crop), 0);
    pw_plane sp = pw_image_plane(scene), cp = pw_image_plane(crop);
    cr_assert_eq(pw_cv_warp_quad(&sp, quad, &cp), 0);
    char fr[1][PW_COUNTRY_MAX] = {"FR"};
    pw_plate_read r;
    cr_assert_eq(pw_ocr_read(ocr, &cp, (const char(*)[PW_COUNTRY_MAX])fr, 1, &r), 0);
    cr_expect_str_eq(r.text, "EK318TP");
    pw_image_destroy(&crop);
    pw_image_destroy(&scene);
}

/* ---- Bad input ---------------------------------------------------------- */

static int read_plane(pw_plane *p, pw_plate_read *r)
{
    return pw_ocr_read(ocr, p, NULL, 0, r);
}

Test(ocr, empty_and_malformed_crops_are_errors)
{
    uint8_t px[64] = {0};
    pw_plate_read r;
    pw_plane p = {px, 0, 8, 8, 1};
    cr_expect_eq(read_plane(&p, &r), PW_EEMPTYIMG);
    p = (pw_plane){NULL, 8, 8, 8, 1};
    cr_expect_eq(read_plane(&p, &r), -EINVAL);
    p = (pw_plane){px, 8, 8, 4, 1};
    cr_expect_eq(read_plane(&p, &r), PW_EBADFRAME);
    p = (pw_plane){px, PW_MAX_IMAGE_SIDE + 1, 1, PW_MAX_IMAGE_SIDE + 1, 1};
    cr_expect_eq(read_plane(&p, &r), PW_ETOOBIG);
    uint8_t bgr[8 * 8 * 3] = {0};
    p = (pw_plane){bgr, 8, 8, 24, 3};
    cr_expect_eq(read_plane(&p, &r), -EINVAL, "colour crops are refused");
    cr_expect_eq(pw_ocr_read(NULL, &p, NULL, 0, &r), -EINVAL);
}

static pw_image *filled(int w, int h, unsigned seed, int noise)
{
    pw_image *img = NULL;
    cr_assert_eq(pw_image_new(w, h, 1, &img), 0);
    pw_plane p = pw_image_plane(img);
    GRand *rnd = g_rand_new_with_seed(seed);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            *pw_plane_at(&p, x, y) = noise ? (uint8_t)g_rand_int_range(rnd, 0, 256) : 255;
    g_rand_free(rnd);
    return img;
}

Test(ocr, tiny_crops_give_no_reading)
{
    pw_image *img = filled(6, 4, 1, 1);
    pw_plane p = pw_image_plane(img);
    pw_plate_read r;
    cr_expect_eq(read_plane(&p, &r), PW_ENOPLATE);
    pw_image_destroy(&img);
}

Test(ocr, blank_crops_give_no_reading)
{
    pw_image *img = filled(220, 64, 1, 0);
    pw_plane p = pw_image_plane(img);
    pw_plate_read r;
    cr_expect_eq(read_plane(&p, &r), PW_ENOPLATE);
    cr_expect_str_eq(r.text, "");
    pw_image_destroy(&img);
}

Test(ocr, noise_crops_give_no_reading)
{
    for (unsigned seed = 1; seed <= 5; seed++) {
        pw_image *img = filled(220, 64, seed, 1);
        pw_plane p = pw_image_plane(img);
        pw_plate_read r;
        cr_expect_eq(read_plane(&p, &r), PW_ENOPLATE, "seed %u read '%s' (%g)", seed, r.text, r.confidence);
        pw_image_destroy(&img);
    }
}

Test(ocr, huge_crops_are_read_or_refused_without_harm)
{
    /* A plate rendered 20 times the usual size, inside a wide white crop. */
    pw_plate_style st;
    pw_plate_style_defaults(&st, "AB-123-CD", 600);
    pw_image *plate = NULL;
    cr_assert_eq(pw_synth_plate(&st, &plate), 0);
    pw_plane p = pw_image_plane(plate);
    cr_assert_gt(p.width, 4000);
    pw_plate_read r;
    char fr[1][PW_COUNTRY_MAX] = {"FR"};
    int rc = pw_ocr_read(ocr, &p, (const char(*)[PW_COUNTRY_MAX])fr, 1, &r);
    cr_assert_eq(rc, 0, "%s", pw_strerror(rc));
    cr_expect_str_eq(r.text, "AB123CD");
    pw_image_destroy(&plate);
    pw_image *img = filled(8000, 3000, 3, 1);
    p = pw_image_plane(img);
    rc = read_plane(&p, &r);
    cr_expect(rc == PW_ENOPLATE || rc == 0, "noise at 8000x3000: %s", pw_strerror(rc));
    pw_image_destroy(&img);
}

/* ---- Configuration and model errors ------------------------------------ */

/* ---- Prepared crops (pw_ocr_crop) --------------------------------------- */

/* A rendered plate at the detector's crop height; the caller destroys it. */
static pw_image *rendered_crop(const char *printed)
{
    pw_plate_style st;
    pw_plate_style_defaults(&st, printed, 30);
    pw_image *plate = NULL;
    cr_assert_eq(pw_synth_plate(&st, &plate), 0);
    pw_image *crop = to_crop_height(plate, 64);
    pw_image_destroy(&plate);
    return crop;
}

Test(ocr, a_prepared_crop_counts_its_characters_and_reads_as_the_crop_does)
{
    pw_image *img = rendered_crop("AB-123-CD");
    pw_plane p = pw_image_plane(img);
    pw_ocr_crop *c = NULL;
    cr_assert_eq(pw_ocr_crop_new(&p, &c), 0);
    cr_expect_eq(pw_ocr_crop_chars(c), 7, "AB-123-CD has seven characters in its row");
    const char codes[1][PW_COUNTRY_MAX] = {"FR"};
    pw_plate_read once, twice, direct;
    cr_assert_eq(pw_ocr_read_crop(ocr, c, codes, 1, &once), 0);
    cr_assert_eq(pw_ocr_read_crop(ocr, c, codes, 1, &twice), 0, "a prepared crop can be read again");
    cr_assert_eq(pw_ocr_read(ocr, &p, codes, 1, &direct), 0);
    cr_expect_str_eq(once.text, "AB123CD");
    cr_expect_str_eq(once.country, "FR");
    cr_expect_str_eq(twice.text, once.text);
    cr_expect_str_eq(direct.text, once.text);
    cr_expect_float_eq(direct.confidence, once.confidence, 1e-4);
    cr_expect_float_eq(direct.char_height, once.char_height, 1e-6);
    cr_expect_eq(direct.n_alts, once.n_alts);
    pw_ocr_crop_destroy(&c);
    cr_expect_null(c, "destroy nulls the pointer");
    pw_ocr_crop_destroy(&c);
    pw_ocr_crop_destroy(NULL);
    pw_image_destroy(&img);
}

Test(ocr, a_blank_prepared_crop_has_no_characters_and_no_reading)
{
    pw_image *img = filled(220, 64, 1, 0);
    pw_plane p = pw_image_plane(img);
    pw_ocr_crop *c = NULL;
    cr_assert_eq(pw_ocr_crop_new(&p, &c), 0, "a blank crop is no plate, not an error");
    cr_expect_eq(pw_ocr_crop_chars(c), 0);
    pw_plate_read r;
    cr_expect_eq(pw_ocr_read_crop(ocr, c, NULL, 0, &r), PW_ENOPLATE);
    cr_expect_str_eq(r.text, "");
    pw_ocr_crop_destroy(&c);
    pw_image_destroy(&img);
}

Test(ocr, malformed_crops_are_refused_before_preparation)
{
    uint8_t px[64] = {0};
    pw_ocr_crop *c = NULL;
    pw_plane p = {px, 0, 8, 8, 1};
    cr_expect_eq(pw_ocr_crop_new(&p, &c), PW_EEMPTYIMG);
    p = (pw_plane){px, 8, 8, 4, 1};
    cr_expect_eq(pw_ocr_crop_new(&p, &c), PW_EBADFRAME);
    uint8_t bgr[8 * 8 * 3] = {0};
    p = (pw_plane){bgr, 8, 8, 24, 3};
    cr_expect_eq(pw_ocr_crop_new(&p, &c), -EINVAL, "colour crops are refused");
    cr_expect_null(c);
    cr_expect_eq(pw_ocr_crop_new(NULL, &c), -EINVAL);
    cr_expect_eq(pw_ocr_crop_chars(NULL), 0);
    pw_plate_read r;
    cr_expect_eq(pw_ocr_read_crop(ocr, NULL, NULL, 0, &r), -EINVAL);
}

static int new_with(const char *dir, const char *lang, int top_n, pw_err *err)
{
    pw_ocr_config cfg;
    pw_ocr_config_defaults(&cfg);
    cfg.tessdata_dir = dir;
    cfg.language = lang;
    cfg.top_n = top_n;
    pw_ocr *o = (pw_ocr *)0x1;
    int rc = pw_ocr_new(&cfg, formats, &o, err);
    if (rc == 0)
        pw_ocr_destroy(&o);
    else
        cr_expect_null(o);
    return rc;
}

Test(ocr, defaults_name_the_shipped_plate_model)
{
    pw_ocr_config cfg;
    pw_ocr_config_defaults(&cfg);
    cr_expect_str_eq(cfg.tessdata_dir, PW_MODELS_DIR);
    cr_expect_str_eq(cfg.language, "plate");
    cr_expect_eq(cfg.top_n, 5);
    gchar *model = g_build_filename(cfg.tessdata_dir, "plate.traineddata", NULL);
    cr_expect(g_file_test(model, G_FILE_TEST_IS_REGULAR), "%s is committed", model);
    g_free(model);
}

Test(ocr, tesseracts_own_eng_model_stays_selectable)
{
    pw_err err = {0};
    cr_expect_eq(new_with(PW_TESSDATA_DIR, "eng", 5, &err), 0, "%s", err.msg);
}

Test(ocr, missing_traineddata_is_named)
{
    pw_err err;
    cr_expect_eq(new_with("/nonexistent/tessdata", "plate", 5, &err), PW_EOCRINIT);
    cr_expect(strstr(err.msg, "/nonexistent/tessdata/plate.traineddata") != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, "no such") != NULL, "%s", err.msg);
}

Test(ocr, corrupt_traineddata_is_named)
{
    char *dir = g_dir_make_tmp("pw-tessdata-XXXXXX", NULL);
    cr_assert_not_null(dir);
    char *garbage = g_build_filename(dir, "junk.traineddata", NULL);
    cr_assert(g_file_set_contents(garbage, "this is not a model at all", -1, NULL));
    pw_err err;
    cr_expect_eq(new_with(dir, "junk", 5, &err), PW_EOCRINIT);
    cr_expect(strstr(err.msg, garbage) != NULL, "%s", err.msg);

    /* The shipped model cut short: a plausible header, then nothing. */
    char *real = g_build_filename(PW_MODELS_DIR, "plate.traineddata", NULL);
    char *bytes = NULL;
    gsize len = 0;
    cr_assert(g_file_get_contents(real, &bytes, &len, NULL));
    char *cut = g_build_filename(dir, "cut.traineddata", NULL);
    cr_assert(g_file_set_contents(cut, bytes, (gssize)(len / 3), NULL));
    cr_expect_eq(new_with(dir, "cut", 5, &err), PW_EOCRINIT);
    cr_expect(strstr(err.msg, cut) != NULL, "%s", err.msg);

    g_unlink(garbage);
    g_unlink(cut);
    g_rmdir(dir);
    g_free(bytes);
    g_free(real);
    g_free(garbage);
    g_free(cut);
    g_free(dir);
}

Test(ocr, bad_configuration_is_refused)
{
    pw_err err;
    cr_expect_eq(new_with(PW_TESSDATA_DIR, "eng", PW_OCR_MAX_ALTS + 1, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "top_n") != NULL, "%s", err.msg);
    cr_expect_eq(new_with(PW_TESSDATA_DIR, "eng", -1, &err), PW_ECONFIG);
    pw_ocr *o = NULL;
    cr_expect_eq(pw_ocr_new(NULL, formats, &o, &err), -EINVAL);
}

/* ---- The Tesseract line reader (tess.h) --------------------------------- */

static void read_line_text(pw_tess *t, const pw_image *img, char *text, size_t size)
{
    pw_char_choices pos[32];
    size_t n = 0;
    pw_plane p = pw_image_plane((pw_image *)img);
    cr_assert_eq(pw_tess_read_line(t, &p, pos, G_N_ELEMENTS(pos), &n), 0);
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < size; i++)
        text[k++] = pos[i].ch[0];
    text[k] = '\0';
}

/*
 * Every line the preparation makes is dark text on light, so Tesseract must
 * not also try each unsure line inverted (its default, a second
 * recognition): a light-on-dark line is read as it is, which does not give
 * its text, while the same line dark on light does.
 */
Test(ocr, the_line_reader_does_not_read_lines_inverted_as_well)
{
    pw_tess *t = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_tess_new(PW_MODELS_DIR, PW_OCR_DEFAULT_LANGUAGE, &t, &err), 0, "%s", err.msg);
    pw_image *img = rendered_crop("AB-123-CD");
    char dark[33], light[33];
    read_line_text(t, img, dark, sizeof dark);
    pw_plane p = pw_image_plane(img);
    for (int y = 0; y < p.height; y++)
        for (int x = 0; x < p.width; x++)
            p.data[(size_t)y * p.stride + (size_t)x] = (uint8_t)(255 - p.data[(size_t)y * p.stride + (size_t)x]);
    read_line_text(t, img, light, sizeof light);
    cr_expect_str_eq(dark, "AB123CD");
    cr_expect_str_neq(light, "AB123CD", "the inverted line was read inverted");
    pw_image_destroy(&img);
    pw_tess_destroy(&t);
}

/* A rendered plate shrunk to low_rows rows and scaled back up, with a fixed ripple of noise: a blurred, grainy crop. */
static pw_image *degraded_crop(const char *printed, int char_height, int contrast, pw_font font, int low_rows)
{
    pw_plate_style st;
    pw_plate_style_defaults(&st, printed, char_height);
    st.font = font;
    st.border = 1;
    st.plate_value = 128 + contrast / 2;
    st.text_value = 128 - contrast / 2;
    pw_image *plate = NULL;
    cr_assert_eq(pw_synth_plate(&st, &plate), 0);
    pw_image *small = to_crop_height(plate, low_rows);
    pw_image *crop = to_crop_height(small, 64);
    pw_plane cp = pw_image_plane(crop);
    for (int y = 0; y < cp.height; y++)
        for (int x = 0; x < cp.width; x++) {
            uint8_t *q = pw_plane_at(&cp, x, y);
            int v = *q + (x * 7 + y * 13) % 41 - 20 + contrast % 3;
            *q = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    pw_image_destroy(&small);
    pw_image_destroy(&plate);
    return crop;
}

/*
 * plain_fallback reads a crop whole once more when its characters were
 * found but not read: it only adds readings (a crop read without it reads
 * the same with it), and some degraded crops read only with it.
 */
Test(ocr, the_plain_fallback_only_adds_a_second_reading, .timeout = 120)
{
    pw_err err;
    pw_ocr_config cfg;
    pw_ocr_config_defaults(&cfg);
    cr_assert_eq(cfg.plain_fallback, 1, "on by default, as `platewatch read` reads");
    cfg.plain_fallback = 0;
    pw_ocr *without = NULL;
    cr_assert_eq(pw_ocr_new(&cfg, formats, &without, &err), 0, "%s", err.msg);
    int only_with = 0;
    for (int h = 30; h <= 40; h += 2)
        for (int contrast = 20; contrast <= 60; contrast += 20) {
            pw_image *crop = degraded_crop("HPM-9362", h, contrast, (pw_font)(contrast / 20 % 3), 8 + h / 3 + contrast / 10);
            pw_plane cp = pw_image_plane(crop);
            pw_plate_read on, off;
            int rc_on = pw_ocr_read(ocr, &cp, NULL, 0, &on);
            int rc_off = pw_ocr_read(without, &cp, NULL, 0, &off);
            if (rc_off == 0) {
                cr_expect_eq(rc_on, 0, "h %d contrast %d: read without the fallback, not with it", h, contrast);
                cr_expect_str_eq(on.text, off.text, "h %d contrast %d", h, contrast);
            } else {
                cr_expect_eq(rc_off, PW_ENOPLATE, "h %d contrast %d: %s", h, contrast, pw_strerror(rc_off));
                only_with += rc_on == 0;
            }
            pw_image_destroy(&crop);
        }
    cr_expect_gt(only_with, 0, "no crop of the family needed the fallback");
    pw_ocr_destroy(&without);
}
