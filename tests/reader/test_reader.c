/*
 * The read path end to end on rendered scenes: decode, localise, OCR and
 * format matching, over sizes, tilts and contrasts, and every bad file.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "pw_build_config.h"
#include "pwtest.h"
#include "reader.h"
#include "synth.h"

static pw_reader *reader;
static char *tmpdir;

static void setup(void)
{
    pw_reader_config cfg;
    pw_reader_config_defaults(&cfg);
    pw_err err = {0};
    cr_assert_eq(pw_reader_new(&cfg, &reader, &err), 0, "reader: %s", err.msg);
    tmpdir = pwtest_tmpdir("pw-reader");
}

static void teardown(void)
{
    pw_reader_destroy(&reader);
    cr_assert_null(reader);
    pwtest_rmtree(&tmpdir);
}

/* Arrays rather than pointers: Criterion copies parameters into a new process. */
typedef struct {
    char printed[16];
    char label[16];
    char country[4];
    int char_height;
    float tilt;
    int plate_value, text_value;
} scene_case;

/* Renders a 1280x720 scene with one plate, writes it as JPEG, returns the path and the true box. */
static gchar *write_scene(const scene_case *c, pw_rect *truth)
{
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = (unsigned)c->char_height * 31u + 7u,
                          .clutter = 30, .blur_sigma = 0.5, .noise_sigma = 2.0, .vehicle = 1};
    pw_scene_plate plate = {.cx = 600, .cy = 420, .tilt_deg = c->tilt};
    pw_plate_style_defaults(&plate.style, c->printed, c->char_height);
    plate.style.plate_value = c->plate_value;
    plate.style.text_value = c->text_value;
    plate.style.dark_on_light = c->text_value < c->plate_value;
    pw_image *img = NULL;
    float corners[1][4][2];
    cr_assert_eq(pw_synth_scene(&spec, &plate, 1, &img, corners), 0);
    float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
    for (int i = 0; i < 4; i++) {
        x0 = MIN(x0, corners[0][i][0]), x1 = MAX(x1, corners[0][i][0]);
        y0 = MIN(y0, corners[0][i][1]), y1 = MAX(y1, corners[0][i][1]);
    }
    *truth = (pw_rect){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
    gchar *name = g_strdup_printf("scene-%s-%d.jpg", c->label, c->char_height);
    gchar *path = g_build_filename(tmpdir, name, NULL);
    pw_plane p = pw_image_plane(img);
    cr_assert_eq(pw_cv_write_file(&p, path, NULL), 0);
    pw_image_destroy(&img);
    g_free(name);
    return path;
}

static void assert_reads(const scene_case *c)
{
    pw_rect truth;
    gchar *path = write_scene(c, &truth);
    char countries[1][PW_COUNTRY_MAX];
    g_strlcpy(countries[0], c->country, PW_COUNTRY_MAX);
    pw_read_result res;
    pw_err err = {0};
    cr_assert_eq(pw_reader_read_file(reader, path, (const char (*)[PW_COUNTRY_MAX])countries, 1, &res, &err),
                 0, "%s", err.msg);
    cr_assert_eq(res.width, 1280);
    int found = 0;
    for (size_t i = 0; i < res.n_plates; i++) {
        const pw_plate *p = &res.plates[i];
        if (strcmp(p->read.text, c->label) != 0)
            continue;
        found = 1;
        cr_assert_str_eq(p->read.country, c->country);
        cr_assert_gt(pw_rect_iou(p->box, truth), 0.4, "box %d,%d %dx%d vs truth %d,%d %dx%d", p->box.x,
                     p->box.y, p->box.w, p->box.h, truth.x, truth.y, truth.w, truth.h);
        cr_assert_gt(p->read.confidence, 40.0f);
        cr_assert_geq(p->read.n_alts, 1);
        cr_assert_str_eq(p->read.alts[0].text, p->read.text);
    }
    cr_assert(found, "%s (h %d, tilt %.0f, %d on %d) not read; %zu plates, first '%s'", c->label,
              c->char_height, c->tilt, c->text_value, c->plate_value, res.n_plates,
              res.n_plates ? res.plates[0].read.text : "");
    cr_assert_gt(res.detect_ms, 0.0);
    cr_assert_gt(res.ocr_ms, 0.0);
    g_free(path);
}

ParameterizedTestParameters(reader, reads_rendered_scenes)
{
    static scene_case cases[] = {
        {"AB-123-CD", "AB123CD", "FR", 24, 0, 235, 20},    /* plain */
        {"KX-472-PT", "KX472PT", "FR", 16, 0, 235, 20},    /* small: ~110 px wide */
        /* Large. (The stock model reads this font's U as W at this size: see docs/BENCHMARKS.md.) */
        {"WP-938-LM", "WP938LM", "FR", 40, 0, 235, 20},
        {"HT-205-RC", "HT205RC", "FR", 26, 8, 235, 20},    /* tilted clockwise */
        {"NP-611-EV", "NP611EV", "FR", 26, -9, 235, 20},   /* tilted anticlockwise */
        {"CA-357-JY", "CA357JY", "FR", 26, 0, 175, 70},    /* low contrast */
        {"WX 48213", "WX48213", "PL", 26, 0, 40, 225},     /* light text on a dark plate */
        {"7FKM294", "7FKM294", "US", 28, 3, 225, 30},
    };
    return cr_make_param_array(scene_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(scene_case *c, reader, reads_rendered_scenes, .init = setup, .fini = teardown, .timeout = 120)
{
    assert_reads(c);
}

static gchar *write_bytes(const char *name, const void *bytes, gssize len)
{
    gchar *path = g_build_filename(tmpdir, name, NULL);
    cr_assert(g_file_set_contents(path, bytes, len, NULL));
    return path;
}

static void assert_fails(const char *path, int code, const char *words)
{
    pw_read_result res;
    pw_err err = {0};
    cr_assert_eq(pw_reader_read_file(reader, path, NULL, 0, &res, &err), code, "%s: %s", path, err.msg);
    cr_assert(strstr(err.msg, words) != NULL, "'%s' should mention '%s'", err.msg, words);
    cr_assert_eq(res.n_plates, 0);
}

Test(reader, bad_files_give_named_errors_and_the_reader_goes_on, .init = setup, .fini = teardown,
     .timeout = 120)
{
    scene_case good = {"AB-123-CD", "AB123CD", "FR", 24, 0, 235, 20};
    pw_rect truth;
    gchar *jpeg = write_scene(&good, &truth);
    gchar *bytes = NULL;
    gsize len = 0;
    cr_assert(g_file_get_contents(jpeg, &bytes, &len, NULL));

    gchar *missing = g_build_filename(tmpdir, "missing.jpg", NULL);
    assert_fails(missing, -ENOENT, "missing.jpg");
    gchar *empty = write_bytes("empty.jpg", "", 0);
    assert_fails(empty, PW_EEMPTYIMG, "0 bytes");
    gchar *cut = write_bytes("cut.jpg", bytes, (gssize)(len / 2));
    assert_fails(cut, PW_ETRUNCATED, "ends before");
    gchar *text = write_bytes("notes.jpg", "plate list\nAB123CD\n", -1);
    assert_fails(text, PW_EDECODE, "not a JPEG, PNG");
    assert_fails(tmpdir, -EISDIR, "");

    /* After every failure the same reader still reads a good image. */
    pw_read_result res;
    cr_assert_eq(pw_reader_read_file(reader, jpeg, NULL, 0, &res, NULL), 0);
    int found = 0;
    for (size_t i = 0; i < res.n_plates; i++)
        found |= strcmp(res.plates[i].read.text, "AB123CD") == 0;
    cr_assert(found);
    g_free(bytes);
    g_free(jpeg), g_free(missing), g_free(empty), g_free(cut), g_free(text);
}

Test(reader, frames_with_bad_geometry_are_refused, .init = setup, .fini = teardown)
{
    uint8_t px[16 * 16] = {0};
    pw_read_result res;
    pw_plane zero = {px, 0, 16, 16, 1}, narrow = {px, 16, 16, 8, 1}, huge = {px, 20000, 1, 20000, 1};
    cr_assert_eq(pw_reader_read_plane(reader, &zero, NULL, 0, &res), PW_EEMPTYIMG);
    cr_assert_eq(pw_reader_read_plane(reader, &narrow, NULL, 0, &res), PW_EBADFRAME);
    cr_assert_eq(pw_reader_read_plane(reader, &huge, NULL, 0, &res), PW_ETOOBIG);
}

Test(reader, blank_frames_have_no_plates, .init = setup, .fini = teardown, .timeout = 60)
{
    pw_image *img = NULL;
    cr_assert_eq(pw_image_new(640, 480, 1, &img), 0);
    pw_plane p = pw_image_plane(img);
    pw_read_result res;
    for (int v = 0; v <= 255; v += 255) {
        memset(p.data, v, (size_t)p.stride * p.height);
        cr_assert_eq(pw_reader_read_plane(reader, &p, NULL, 0, &res), 0);
        cr_assert_eq(res.n_plates, 0, "a uniform %d frame gave %zu plates", v, res.n_plates);
    }
    pw_image_destroy(&img);
}

Test(reader, a_plate_shaped_crop_is_read_whole, .init = setup, .fini = teardown, .timeout = 60)
{
    pw_plate_style style;
    pw_plate_style_defaults(&style, "FKR 428", 40);
    pw_image *img = NULL;
    cr_assert_eq(pw_synth_plate(&style, &img), 0);
    pw_plane p = pw_image_plane(img);
    char us[1][PW_COUNTRY_MAX] = {"US"};
    pw_read_result res;
    cr_assert_eq(pw_reader_read_plane(reader, &p, (const char (*)[PW_COUNTRY_MAX])us, 1, &res), 0);
    int found = 0;
    for (size_t i = 0; i < res.n_plates; i++)
        found |= strcmp(res.plates[i].read.text, "FKR428") == 0;
    cr_assert(found, "%zu plates, first '%s'", res.n_plates, res.n_plates ? res.plates[0].read.text : "");
    pw_image_destroy(&img);
}

static pw_plate plate_at(int x, float detector_score, const char *text, float confidence)
{
    pw_plate p = {0};
    p.box = (pw_rect){x, 100, 200, 50};
    for (int k = 0; k < 4; k++)
        p.corners[k][0] = (float)x, p.corners[k][1] = 100.0f;
    p.detector_score = detector_score;
    g_strlcpy(p.read.text, text, sizeof p.read.text);
    p.read.confidence = confidence;
    return p;
}

Test(reader, merged_reads_keep_the_text_of_the_better_read_and_the_box_of_the_higher_ranked)
{
    pw_plate plates[4];
    size_t n = 0;
    /* The localiser's best box reads less surely than a looser box around the same text. */
    pw_plate tight = plate_at(100, 9.0f, "AB123CD", 70.0f), loose = plate_at(130, 4.0f, "AB123CD", 90.0f);
    cr_assert_eq(pw_plates_merge(plates, &n, 4, &tight, 0), 0);
    cr_assert_eq(pw_plates_merge(plates, &n, 4, &loose, 0), 0);
    cr_assert_eq(n, 1);
    cr_expect_float_eq(plates[0].read.confidence, 90.0f, 1e-6, "the more confident read is kept");
    cr_expect_eq(plates[0].box.x, 100, "the higher-ranked box is kept");
    cr_expect_float_eq(plates[0].corners[0][0], 100.0f, 1e-6);
    cr_expect_float_eq(plates[0].detector_score, 9.0f, 1e-6);
    /* A better-ranked box with a better read replaces both. */
    pw_plate best = plate_at(110, 12.0f, "AB123CD", 95.0f);
    cr_assert_eq(pw_plates_merge(plates, &n, 4, &best, 0), 0);
    cr_expect_eq(plates[0].box.x, 110);
    /* A read elsewhere with other text is a plate of its own. */
    pw_plate other = plate_at(600, 3.0f, "XY987ZZ", 80.0f);
    cr_expect_eq(pw_plates_merge(plates, &n, 4, &other, 0), 1);
    cr_expect_eq(n, 2);
}

/* Copies a rendered plate into a canvas at x, y (clipped). */
static void paste(pw_image *canvas, const pw_image *piece, int x, int y)
{
    pw_plane dst = pw_image_plane(canvas), src = pw_image_plane((pw_image *)piece);
    for (int j = 0; j < src.height && y + j < dst.height; j++)
        for (int i = 0; i < src.width && x + i < dst.width; i++)
            dst.data[(size_t)(y + j) * dst.stride + (size_t)(x + i)] = src.data[(size_t)j * src.stride + (size_t)i];
}

static pw_image *rendered(const char *text, int char_height)
{
    pw_plate_style style;
    pw_plate_style_defaults(&style, text, char_height);
    pw_image *img = NULL;
    cr_assert_eq(pw_synth_plate(&style, &img), 0, "rendering %s", text);
    return img;
}

/*
 * A US plate crop as cameras that cut out plates send it: a state name
 * above and a slogan below the registration, both small and both words a US
 * format accepts. The registration is what is reported first.
 */
Test(reader, the_registration_is_reported_before_the_slogan_and_the_state_name, .init = setup, .fini = teardown,
     .timeout = 60)
{
    pw_image *canvas = NULL, *state = rendered("OREGON", 16), *reg = rendered("469 BWW", 38),
             *slogan = rendered("MARSHAL", 14);
    cr_assert_eq(pw_image_new(320, 160, 1, &canvas), 0);
    pw_plane c = pw_image_plane(canvas);
    memset(c.data, 255, (size_t)c.stride * (size_t)c.height);
    cr_assert_leq(pw_image_plane(reg).width, 320, "the registration fits the crop (%d)", pw_image_plane(reg).width);
    paste(canvas, state, (320 - pw_image_plane(state).width) / 2, 2);
    paste(canvas, reg, (320 - pw_image_plane(reg).width) / 2, 36);
    paste(canvas, slogan, (320 - pw_image_plane(slogan).width) / 2, 128);
    char us[1][PW_COUNTRY_MAX] = {"US"};
    pw_read_result res;
    cr_assert_eq(pw_reader_read_plane(reader, &c, (const char (*)[PW_COUNTRY_MAX])us, 1, &res), 0);
    cr_assert_gt(res.n_plates, 0);
    cr_expect_str_eq(res.plates[0].read.text, "469BWW", "%zu plates, the second '%s'", res.n_plates,
                     res.n_plates > 1 ? res.plates[1].read.text : "");
    for (size_t i = 0; i < res.n_plates; i++) {
        cr_expect_str_neq(res.plates[i].read.text, "MARSHAL", "the slogan is not a plate of its own");
        cr_expect_str_neq(res.plates[i].read.text, "OREGON", "the state name is not a plate of its own");
    }
    pw_image_destroy(&canvas), pw_image_destroy(&state), pw_image_destroy(&reg), pw_image_destroy(&slogan);
}

static pw_plate line_at(pw_rect box, const char *text, float confidence, float char_px)
{
    pw_plate p = {0};
    p.box = box;
    g_strlcpy(p.read.text, text, sizeof p.read.text);
    p.read.confidence = confidence;
    p.char_px = char_px;
    return p;
}

Test(reader, a_small_line_inside_a_plate_gives_way_to_its_taller_registration_in_either_order)
{
    pw_plate whole = line_at((pw_rect){0, 0, 320, 160}, "469BWW", 90.0f, 70.0f);
    pw_plate slogan = line_at((pw_rect){100, 125, 110, 30}, "MARSHAL", 99.0f, 15.0f);
    pw_plate state = line_at((pw_rect){100, 5, 110, 30}, "OREGON", 98.0f, 18.0f);
    pw_plate plates[4];
    size_t n = 0;
    cr_assert_geq(pw_plates_merge(plates, &n, 4, &slogan, 1), 0);
    cr_assert_geq(pw_plates_merge(plates, &n, 4, &state, 1), 0);
    cr_assert_eq(pw_plates_merge(plates, &n, 4, &whole, 1), 0);
    cr_assert_eq(n, 1, "the slogan and the state name are dropped");
    cr_expect_str_eq(plates[0].read.text, "469BWW");
    cr_expect_eq(pw_plates_merge(plates, &n, 4, &slogan, 1), -1, "a small line read later is not kept");
    cr_expect_eq(n, 1);
    /* Without containment merging the lines are plates of their own, as before. */
    n = 0;
    cr_assert_geq(pw_plates_merge(plates, &n, 4, &slogan, 0), 0);
    cr_assert_geq(pw_plates_merge(plates, &n, 4, &whole, 0), 0);
    cr_expect_eq(n, 2);
}

Test(reader, a_plate_inside_a_larger_box_is_not_taken_for_a_small_line)
{
    /* A box around the plate and the bumper: its misread has taller "characters", the plate's a third of its height. */
    pw_plate bumper = line_at((pw_rect){285, 434, 790, 129}, "208999", 95.7f, 80.0f);
    pw_plate plate = line_at((pw_rect){631, 469, 294, 81}, "DB999EM", 98.2f, 43.0f);
    pw_plate plates[4];
    size_t n = 0;
    cr_assert_eq(pw_plates_merge(plates, &n, 4, &plate, 1), 0);
    cr_assert_eq(pw_plates_merge(plates, &n, 4, &bumper, 1), -1, "the more confident plate read stays");
    cr_assert_eq(n, 1);
    cr_expect_str_eq(plates[0].read.text, "DB999EM");
}

/* A crop of evenly spaced bars, as a grille gives the localiser: strong edges, no row of characters. */
static pw_image *grille(int w, int h)
{
    pw_image *img = NULL;
    cr_assert_eq(pw_image_new(w, h, 1, &img), 0);
    pw_plane p = pw_image_plane(img);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            p.data[(size_t)y * p.stride + (size_t)x] = (x / 6) % 2 ? 30 : 220;
    return img;
}

static pw_candidate candidate_of(const pw_image *crop, int x, float score)
{
    pw_candidate c = {.score = score, .crop = pw_image_plane((pw_image *)crop), .crop_scale = 1.f};
    c.box = (pw_rect){x, 10, c.crop.width, c.crop.height};
    float xs[4] = {(float)x, (float)(x + c.crop.width), (float)(x + c.crop.width), (float)x};
    float ys[4] = {10.f, 10.f, (float)(10 + c.crop.height), (float)(10 + c.crop.height)};
    for (int i = 0; i < 4; i++)
        c.corners[i][0] = xs[i], c.corners[i][1] = ys[i];
    return c;
}

/*
 * The localiser ranks a grille above the plate and one candidate is read:
 * ranking by character rows reads the plate; the localiser's own order
 * (rank_candidates 0) reads the grille and finds nothing.
 */
Test(reader, candidates_with_a_row_of_characters_are_read_before_higher_ranked_grilles, .timeout = 60)
{
    pw_formats *formats = NULL;
    pw_ocr *ocr = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_formats_load_dir(PW_MODELS_DIR "/formats", &formats, &err), 0, "%s", err.msg);
    pw_ocr_config ocfg;
    pw_ocr_config_defaults(&ocfg);
    cr_assert_eq(pw_ocr_new(&ocfg, formats, &ocr, &err), 0, "%s", err.msg);
    pw_image *bars = grille(240, 64), *plate = rendered("AB 123 CD", 40);
    pw_candidate cands[2] = {candidate_of(bars, 0, 9.f), candidate_of(plate, 400, 1.f)};
    pw_read_settings s;
    pw_read_settings_defaults(&s);
    s.candidates = 1;
    pw_plate plates[PW_DETECT_MAX_CANDIDATES + 1];
    size_t n = 0;
    cr_assert_eq(pw_read_candidates(ocr, &s, cands, 2, NULL, NULL, 0, plates, PW_DETECT_MAX_CANDIDATES, &n, NULL), 0);
    cr_assert_eq(n, 1, "the plate is read");
    cr_expect_str_eq(plates[0].read.text, "AB123CD");
    s.rank_candidates = 0;
    n = 0;
    cr_assert_eq(pw_read_candidates(ocr, &s, cands, 2, NULL, NULL, 0, plates, PW_DETECT_MAX_CANDIDATES, &n, NULL), 0);
    cr_expect_eq(n, 0, "in the localiser's order only the grille is read (%s)", n ? plates[0].read.text : "");
    pw_image_destroy(&bars), pw_image_destroy(&plate);
    pw_ocr_destroy(&ocr);
    pw_formats_destroy(&formats);
}

/*
 * A box holding a long line of text (a sign, a lorry's lettering) is ranked
 * above the plate and two candidates are read: with ranking, only the
 * plate is read, because the line is longer than a plate's row; in the
 * localiser's order (rank_candidates 0) the line is read too and reported.
 */
Test(reader, a_box_without_a_plate_like_row_is_not_read, .timeout = 60)
{
    pw_formats *formats = NULL;
    pw_ocr *ocr = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_formats_load_dir(PW_MODELS_DIR "/formats", &formats, &err), 0, "%s", err.msg);
    pw_ocr_config ocfg;
    pw_ocr_config_defaults(&ocfg);
    cr_assert_eq(pw_ocr_new(&ocfg, formats, &ocr, &err), 0, "%s", err.msg);
    pw_image *sign = rendered("KLMNPRSTUVWXYZ", 30), *plate = rendered("AB 123 CD", 40);
    pw_candidate cands[2] = {candidate_of(sign, 0, 9.f), candidate_of(plate, 1000, 1.f)};
    pw_read_settings s;
    pw_read_settings_defaults(&s);
    s.candidates = 2;
    s.merge_contained = 0;
    pw_plate plates[PW_DETECT_MAX_CANDIDATES + 1];
    size_t n = 0, from[PW_DETECT_MAX_CANDIDATES + 1];
    cr_assert_eq(pw_read_candidates(ocr, &s, cands, 2, NULL, NULL, 0, plates, PW_DETECT_MAX_CANDIDATES, &n, from), 0);
    cr_assert_eq(n, 1, "only the plate is read (%s)", n > 1 ? plates[1].read.text : "");
    cr_expect_str_eq(plates[0].read.text, "AB123CD");
    cr_expect_eq(from[0], 1);
    s.rank_candidates = 0;
    n = 0;
    cr_assert_eq(pw_read_candidates(ocr, &s, cands, 2, NULL, NULL, 0, plates, PW_DETECT_MAX_CANDIDATES, &n, from), 0);
    cr_expect_eq(n, 2, "in the localiser's order the line of text is read and reported too");
    pw_image_destroy(&sign), pw_image_destroy(&plate);
    pw_ocr_destroy(&ocr);
    pw_formats_destroy(&formats);
}
