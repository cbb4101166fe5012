/*
 * test_detect.c - the localiser finds rendered plates: sizes from ~60 to
 * ~800 px wide, tilts to +-15 degrees, both polarities, several per frame,
 * inside a region of interest; crops have the configured height and keep
 * the characters inside their margins.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "detect_fixtures.h"

static pw_detector *det;

static void setup(void)
{
    cr_assert_eq(pw_detector_new(NULL, &det, NULL), 0);
}

static void teardown(void)
{
    pw_detector_destroy(&det);
    cr_assert_null(det);
}

TestSuite(detect, .init = setup, .fini = teardown);

typedef struct {
    int char_h;
    float tilt;
    int dark_on_light;
} plate_case;

ParameterizedTestParameters(detect, finds_plate)
{
    static plate_case cases[] = {
        {10, 0, 1},  {14, 5, 1},  {20, -10, 1}, {28, 15, 1},  {40, -15, 1}, {60, 3, 1},
        {90, -4, 1}, {12, 0, 0},  {24, 8, 0},   {48, -12, 0}, {80, 0, 0},
    };
    return cr_make_param_array(plate_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(plate_case *pc, detect, finds_plate)
{
    float truth[4][2];
    pw_image *img = scene_one(1280, 720, "AB 123 CD", pc->char_h, 610.f, 400.f, pc->tilt, pc->dark_on_light,
                              (unsigned)(pc->char_h * 7 + 1), truth);
    cr_assert_not_null(img);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    pw_rect t = corners_rect(truth);
    int hit = find_hit(c, n, t, 0.4);
    cr_assert_geq(hit, 0, "char_h %d tilt %.0f: no candidate of %zu overlaps %d,%d %dx%d", pc->char_h,
                  (double)pc->tilt, n, t.x, t.y, t.w, t.h);
    cr_expect_lt(hit, 3, "the plate ranks %d", hit);
    cr_expect_eq(c[hit].dark_on_light, pc->dark_on_light);
    /* The estimated tilt, from the top edge of the corners, is within 4 degrees. */
    float ang = atan2f(c[hit].corners[1][1] - c[hit].corners[0][1], c[hit].corners[1][0] - c[hit].corners[0][0]);
    cr_expect_lt(fabsf(ang * 57.29578f - pc->tilt), 4.f, "tilt %.1f estimated as %.1f", (double)pc->tilt,
                 (double)(ang * 57.29578f));
    pw_image_destroy(&img);
}

Test(detect, candidates_are_sorted_and_well_formed)
{
    pw_image *img = scene_one(800, 600, "XY 987 ZK", 22, 400.f, 300.f, 6.f, 1, 5u, NULL);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    cr_assert_gt(n, 0);
    cr_assert_leq(n, 10);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            cr_expect_geq(c[i - 1].score, c[i].score);
        cr_expect_eq(c[i].crop.height, 64);
        cr_expect_eq(c[i].crop.channels, 1);
        cr_expect_geq(c[i].crop.stride, c[i].crop.width);
        cr_expect(c[i].box.x >= 0 && c[i].box.y >= 0 && c[i].box.x + c[i].box.w <= 800 &&
                  c[i].box.y + c[i].box.h <= 600);
    }
    pw_image_destroy(&img);
}

/*
 * The crop's outer rows and columns are plate background: the characters
 * were not cut. The plate is drawn without its frame line, so that anything
 * dark at the crop's edges can only be a character.
 */
Test(detect, crop_keeps_margin_around_text)
{
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = 9u, .clutter = 30, .blur_sigma = 0.8,
                          .noise_sigma = 2.0};
    pw_scene_plate pl;
    pw_plate_style_defaults(&pl.style, "KL 345 MN", 30);
    pl.style.border = 0;
    pl.cx = 640.f, pl.cy = 360.f, pl.tilt_deg = 4.f;
    pw_image *img = NULL;
    float truth[1][4][2];
    cr_assert_eq(pw_synth_scene(&spec, &pl, 1, &img, truth), 0);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    int hit = find_hit(c, n, corners_rect(truth[0]), 0.4);
    cr_assert_geq(hit, 0);
    const pw_plane *cr = &c[hit].crop;
    cr_assert_gt(cr->width, 3 * cr->height, "crop %dx%d is not plate-shaped", cr->width, cr->height);
    int dark_rows = 0, dark_edge_cols = 0;
    for (int y = 0; y < 3; y++)
        for (int x = cr->width / 10; x < cr->width * 9 / 10; x++)
            dark_rows += pw_plane_at(cr, x, y)[0] < 100 || pw_plane_at(cr, x, cr->height - 1 - y)[0] < 100;
    for (int y = cr->height / 4; y < cr->height * 3 / 4; y++)
        dark_edge_cols += pw_plane_at(cr, 1, y)[0] < 100 || pw_plane_at(cr, cr->width - 2, y)[0] < 100;
    cr_expect_lt(dark_rows, cr->width / 10, "characters reach the crop's top or bottom (%d dark pixels)", dark_rows);
    cr_expect_lt(dark_edge_cols, 4, "characters reach the crop's sides (%d dark pixels)", dark_edge_cols);
    /* Text fills most of the height: the margin is small. */
    int dark_mid = 0;
    for (int x = 0; x < cr->width; x++)
        dark_mid += pw_plane_at(cr, x, cr->height / 2)[0] < 100;
    cr_expect_gt(dark_mid, cr->width / 10, "the crop's middle row has no characters");
    pw_image_destroy(&img);
}

Test(detect, finds_several_plates)
{
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = 21u, .clutter = 25, .blur_sigma = 0.8, .noise_sigma = 2.0};
    pw_scene_plate pl[3];
    const char *texts[3] = {"AA 111 BB", "CC 222 DD", "EE 333 FF"};
    const float pos[3][2] = {{250, 150}, {900, 300}, {500, 580}};
    const int heights[3] = {16, 26, 36};
    for (int i = 0; i < 3; i++) {
        pw_plate_style_defaults(&pl[i].style, texts[i], heights[i]);
        pl[i].cx = pos[i][0];
        pl[i].cy = pos[i][1];
        pl[i].tilt_deg = (float)(i * 4 - 4);
    }
    pw_image *img = NULL;
    float corners[3][4][2];
    cr_assert_eq(pw_synth_scene(&spec, pl, 3, &img, corners), 0);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    for (int i = 0; i < 3; i++)
        cr_expect_geq(find_hit(c, n, corners_rect(corners[i]), 0.4), 0, "plate %d missed", i);
    pw_image_destroy(&img);
}

Test(detect, roi_limits_the_search)
{
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = 33u, .clutter = 20, .blur_sigma = 0.8, .noise_sigma = 2.0};
    pw_scene_plate pl[2];
    pw_plate_style_defaults(&pl[0].style, "IN 123 SI", 24);
    pw_plate_style_defaults(&pl[1].style, "OU 456 TS", 24);
    pl[0].cx = 900, pl[0].cy = 500, pl[0].tilt_deg = 0;
    pl[1].cx = 250, pl[1].cy = 150, pl[1].tilt_deg = 0;
    pw_image *img = NULL;
    float corners[2][4][2];
    cr_assert_eq(pw_synth_scene(&spec, pl, 2, &img, corners), 0);
    pw_detect_config cfg;
    pw_detect_config_defaults(&cfg);
    cfg.roi = (pw_rect){640, 360, 640, 360};
    pw_detector *rd = NULL;
    cr_assert_eq(pw_detector_new(&cfg, &rd, NULL), 0);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(rd, &p, &c, &n), 0);
    cr_expect_geq(find_hit(c, n, corners_rect(corners[0]), 0.4), 0, "the plate inside the ROI was missed");
    cr_expect_lt(find_hit(c, n, corners_rect(corners[1]), 0.01), 0, "a candidate lies outside the ROI");
    for (size_t i = 0; i < n; i++)
        cr_expect(c[i].box.x + c[i].box.w > 640 && c[i].box.y + c[i].box.h > 360);
    pw_detector_destroy(&rd);
    pw_image_destroy(&img);
}

Test(detect, warmed_up_detector_does_not_allocate)
{
    pw_image *img = scene_one(1280, 720, "NO 000 AL", 20, 500.f, 300.f, 0.f, 1, 3u, NULL);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    size_t grown = pw_detector_grow_count(det);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    pw_plane small = {p.data, 640, 360, p.stride, 1};
    cr_assert_eq(pw_detector_run(det, &small, &c, &n), 0);
    cr_expect_eq(pw_detector_grow_count(det), grown, "buffers grew after warm-up");
    pw_image_destroy(&img);
}

Test(detect, configuration_limits_candidates_and_sets_crop_height)
{
    pw_detect_config cfg;
    pw_detect_config_defaults(&cfg);
    cfg.max_candidates = 3;
    cfg.crop_height = 48;
    pw_detector *d = NULL;
    cr_assert_eq(pw_detector_new(&cfg, &d, NULL), 0);
    float truth[4][2];
    pw_image *img = scene_one(1280, 720, "CR 048 PX", 22, 500.f, 420.f, -6.f, 1, 77u, truth);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(d, &p, &c, &n), 0);
    cr_expect_leq(n, 3);
    cr_expect_geq(find_hit(c, n, corners_rect(truth), 0.4), 0);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(c[i].crop.height, 48);
    pw_detector_destroy(&d);
    pw_image_destroy(&img);
}

/*
 * Plates seen from the side of a lane lean by more than the 15 degrees of a
 * camera's roll; the tilt search reaches 24 degrees, and its handicap on
 * steep tilts must not keep a clearly tilted plate level.
 */
ParameterizedTestParameters(detect, finds_steeply_tilted_plate)
{
    static plate_case cases[] = {{24, 21, 1}, {36, -22, 1}, {30, 19, 0}};
    return cr_make_param_array(plate_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(plate_case *pc, detect, finds_steeply_tilted_plate)
{
    float truth[4][2];
    pw_image *img = scene_one(1280, 720, "ST 456 EP", pc->char_h, 640.f, 360.f, pc->tilt, pc->dark_on_light,
                              (unsigned)(pc->char_h * 5 + 3), truth);
    cr_assert_not_null(img);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    int hit = find_hit(c, n, corners_rect(truth), 0.4);
    cr_assert_geq(hit, 0, "tilt %.0f: no candidate of %zu overlaps the plate", (double)pc->tilt, n);
    float ang = atan2f(c[hit].corners[1][1] - c[hit].corners[0][1], c[hit].corners[1][0] - c[hit].corners[0][0]);
    cr_expect_lt(fabsf(ang * 57.29578f - pc->tilt), 4.f, "tilt %.1f estimated as %.1f", (double)pc->tilt,
                 (double)(ang * 57.29578f));
    pw_image_destroy(&img);
}

/* Width of a candidate's plate along its text, from its top corners. */
static float plate_width(const pw_candidate *c)
{
    return hypotf(c->corners[1][0] - c->corners[0][0], c->corners[1][1] - c->corners[0][1]);
}

/*
 * The configured plate widths bound the candidates, not only the pyramid
 * levels searched: text far wider than the widest plate (a van's lettering,
 * a shop sign) must not take a candidate's place.
 */
Test(detect, candidates_respect_the_plate_width_range)
{
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = 41u, .clutter = 20, .blur_sigma = 0.8, .noise_sigma = 2.0};
    pw_scene_plate pl[2];
    pw_plate_style_defaults(&pl[0].style, "BIG 987 SIGN", 70);
    pw_plate_style_defaults(&pl[1].style, "SM 123 AL", 20);
    pl[0].cx = 640, pl[0].cy = 180, pl[0].tilt_deg = 0;
    pl[1].cx = 640, pl[1].cy = 560, pl[1].tilt_deg = 0;
    pw_image *img = NULL;
    float corners[2][4][2];
    cr_assert_eq(pw_synth_scene(&spec, pl, 2, &img, corners), 0);
    pw_detect_config cfg;
    pw_detect_config_defaults(&cfg);
    cfg.max_plate_width = 320;
    pw_detector *wd = NULL;
    cr_assert_eq(pw_detector_new(&cfg, &wd, NULL), 0);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(wd, &p, &c, &n), 0);
    cr_expect_geq(find_hit(c, n, corners_rect(corners[1]), 0.4), 0, "the plate within the width range was missed");
    for (size_t i = 0; i < n; i++)
        cr_expect_leq(plate_width(&c[i]), 320.5f, "candidate %zu is %.0f px wide", i, (double)plate_width(&c[i]));
    pw_detector_destroy(&wd);
    pw_image_destroy(&img);
}

/*
 * Places the distinct text regions leave free go to other boxes of the same
 * text (another pyramid level, another tilt), one of which may fit the
 * plate better; but never to a near copy of a box already listed.
 */
Test(detect, spare_places_hold_other_boxes_of_a_text_never_copies)
{
    float truth[4][2];
    pw_image *img = scene_one(1280, 720, "KL 482 MN", 30, 640.f, 360.f, 6.f, 1, 17u, truth);
    cr_assert_not_null(img);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    pw_rect t = corners_rect(truth);
    int on_plate = 0;
    for (size_t i = 0; i < n; i++) {
        on_plate += pw_rect_iou(c[i].box, t) > 0.3;
        for (size_t j = i + 1; j < n; j++)
            cr_expect_leq(pw_rect_iou(c[i].box, c[j].box), 0.8, "candidates %zu and %zu are one box", i, j);
    }
    cr_expect_geq(on_plate, 2, "%zu candidates, %d on the plate: no second box of its text", n, on_plate);
    pw_image_destroy(&img);
}

/*
 * A plate leaning 16-20 degrees at the back of a van covered in level
 * lettering (24 lines, fainter than the plate). The lettering's windows
 * outscore the leaning text's on the level grid and fill its places, so
 * the plate is found only through the sheared grids' own seeds.
 */
static int leaning_plate_rank(int char_h, float tilt, unsigned seed)
{
    static const char *words[] = {"HAULAGE", "LOGISTICS", "EXPRESS", "FREIGHT", "CARGO 24", "TRANSPORT"};
    enum { LETTERING = 24 };
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = seed, .clutter = 30, .blur_sigma = 0.8, .noise_sigma = 2.0};
    pw_scene_plate pl[LETTERING + 1];
    for (int i = 0; i < LETTERING; i++) {
        pw_plate_style_defaults(&pl[i].style, words[i % 6], char_h);
        pl[i].style.border = 0;
        pl[i].style.plate_value = 150;
        pl[i].style.text_value = 80;
        pl[i].cx = 180.f + 300.f * (float)(i % 4);
        pl[i].cy = 60.f + 75.f * (float)(i / 4);
        pl[i].tilt_deg = 0;
    }
    pw_plate_style_defaults(&pl[LETTERING].style, "LE 417 AN", char_h);
    pl[LETTERING].cx = 640.f, pl[LETTERING].cy = 640.f, pl[LETTERING].tilt_deg = tilt;
    pw_image *img = NULL;
    float corners[LETTERING + 1][4][2];
    cr_assert_eq(pw_synth_scene(&spec, pl, LETTERING + 1, &img, corners), 0);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n;
    cr_assert_eq(pw_detector_run(det, &p, &c, &n), 0);
    int hit = find_hit(c, n, corners_rect(corners[LETTERING]), 0.4);
    pw_image_destroy(&img);
    return hit;
}

/* Without the sheared grids the plate is found in 17 of these 32 scenes, with them in 24. */
Test(detect, finds_leaning_plate_among_level_lettering)
{
    const int heights[] = {18, 26};
    const float tilts[] = {-20.f, -16.f, 16.f, 20.f};
    int found = 0, total = 0;
    for (int h = 0; h < 2; h++)
        for (int t = 0; t < 4; t++)
            for (unsigned s = 1; s <= 4; s++, total++)
                found += leaning_plate_rank(heights[h], tilts[t], s) >= 0;
    cr_expect_geq(found, 22, "the leaning plate was found in %d of %d scenes", found, total);
}
