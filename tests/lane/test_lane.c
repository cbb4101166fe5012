/*
 * The lane reads each frame with the read path `platewatch read` uses: the
 * same photographs give the same plates through pw_reader and through a
 * lane running on a folder of them, one frame per image.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "lane.h"
#include "pw_build_config.h"
#include "pwtest.h"
#include "reader.h"
#include "synth.h"

static char *tmpdir;

static void setup(void)
{
    tmpdir = pwtest_tmpdir("pw-lane");
}

static void teardown(void)
{
    pwtest_rmtree(&tmpdir);
}

typedef struct {
    const char *printed;
    int char_height;
    float tilt;
    int two_plates;  /* a second, smaller plate elsewhere in the frame */
} still_case;

static const still_case STILLS[] = {
    {"AB-123-CD", 30, 0, 0},
    {"WX 48213", 24, 4, 0},
    {"7FKM294", 34, -3, 1},
    {"RK 346AL", 20, 2, 0},
    {"B MW 1234", 28, -6, 1},
};

/* Writes still i as a PNG (lossless: GStreamer and OpenCV decode it to the same pixels). */
static void write_still(size_t i)
{
    const still_case *c = &STILLS[i];
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = 11u + (unsigned)i, .clutter = 40,
                          .blur_sigma = 0.6, .noise_sigma = 2.0, .vehicle = 1};
    pw_scene_plate plates[2] = {{.cx = 620, .cy = 430, .tilt_deg = c->tilt}, {.cx = 250, .cy = 200}};
    pw_plate_style_defaults(&plates[0].style, c->printed, c->char_height);
    pw_plate_style_defaults(&plates[1].style, "KL 5521", 18);
    pw_image *img = NULL;
    cr_assert_eq(pw_synth_scene(&spec, plates, c->two_plates ? 2 : 1, &img, NULL), 0);
    gchar *path = g_strdup_printf("%s/still-%02zu.png", tmpdir, i);
    pw_plane p = pw_image_plane(img);
    cr_assert_eq(pw_cv_write_file(&p, path, NULL), 0);
    pw_image_destroy(&img);
    g_free(path);
}

/* The plates pw_reader reports for each still, as "frame:text" lines in a sorted list; candidates 0: the default. */
static GPtrArray *reader_plates(const char *prefix, size_t n, int candidates, int rank, size_t *handed)
{
    pw_reader_config cfg;
    pw_reader_config_defaults(&cfg);
    if (candidates)
        cfg.read.candidates = candidates;
    if (rank >= 0)
        cfg.read.rank_candidates = rank;
    pw_reader *r = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_reader_new(&cfg, &r, &err), 0, "%s", err.msg);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < n; i++) {
        gchar *path = g_strdup_printf("%s/%s-%02zu.png", tmpdir, prefix, i);
        pw_read_result res;
        cr_assert_eq(pw_reader_read_file(r, path, NULL, 0, &res, &err), 0, "%s: %s", path, err.msg);
        for (size_t k = 0; k < res.n_plates; k++)
            g_ptr_array_add(out, g_strdup_printf("%zu:%s", i, res.plates[k].read.text));
        if (handed)
            *handed += MIN(res.n_candidates, pw_read_settings_pool(&cfg.read));
        g_free(path);
    }
    pw_reader_destroy(&r);
    return out;
}

typedef struct {
    GMutex lock;
    GPtrArray *reads;
} read_log;

static void on_read(const pw_lane_read *rd, void *user)
{
    read_log *log = user;
    g_mutex_lock(&log->lock);
    g_ptr_array_add(log->reads, g_strdup_printf("%" G_GUINT64_FORMAT ":%s", rd->frame_seq, rd->text));
    g_mutex_unlock(&log->lock);
}

/* The reads a lane with the default settings (candidates 0) accepts on the folder of stills. */
static GPtrArray *lane_reads(const char *prefix, pw_formats *formats, int candidates, pw_lane_counters *st)
{
    gchar *source = g_strdup_printf("%s/%s-*.png", tmpdir, prefix);
    pw_lane_config cfg;
    pw_lane_config_defaults(&cfg, source);
    if (candidates)
        cfg.read.candidates = candidates;
    cfg.formats = formats;
    /* One frame per vehicle, far apart in stream time, as bench video --manifest runs stills. */
    cfg.tracker.new_min_frames = 1;
    cfg.capture.fps_num = 1;
    cfg.capture.fps_den = 30;
    read_log log = {.reads = g_ptr_array_new_with_free_func(g_free)};
    g_mutex_init(&log.lock);
    pw_lane_sink sink = {.on_read = on_read, .user = &log};
    pw_lane *lane = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_lane_new(&cfg, &sink, &lane, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_lane_start(lane, &err), 0, "%s", err.msg);
    pw_lane_wait(lane);
    if (st)
        pw_lane_get_stats(lane, st);
    pw_lane_destroy(&lane);
    g_mutex_clear(&log.lock);
    g_free(source);
    return log.reads;
}

static gint by_string(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static gchar *joined(GPtrArray *a)
{
    g_ptr_array_sort(a, by_string);
    g_ptr_array_add(a, NULL);
    gchar *s = g_strjoinv(" ", (gchar **)a->pdata);
    g_ptr_array_remove_index(a, a->len - 1);
    return s;
}

/*
 * Given the same read settings (the lane's defaults, with candidates read a
 * frame; 0: the default), the lane's reads of the stills are the reader's,
 * and the lane hands the reader as many of the localiser's candidates as
 * `platewatch read` considers.
 */
static void expect_lane_reads_as_reader(const char *prefix, size_t n, pw_formats *formats, int candidates)
{
    size_t handed = 0;
    pw_lane_counters st = {0};
    pw_lane_config lane_defaults;
    pw_lane_config_defaults(&lane_defaults, NULL);
    GPtrArray *by_reader = reader_plates(prefix, n, candidates, lane_defaults.read.rank_candidates, &handed);
    GPtrArray *by_lane = lane_reads(prefix, formats, candidates, &st);
    gchar *a = joined(by_reader), *b = joined(by_lane);
    /* Most stills must be read at all, or the comparison proves nothing. */
    cr_assert_geq(by_reader->len, n - 1, "the reader read only: %s", a);
    cr_expect_str_eq(b, a, "lane reads \"%s\", reader \"%s\"", b, a);
    cr_expect_eq(st.candidates + st.candidates_skipped, handed,
                 "the lane handed %" G_GUINT64_FORMAT " candidates to OCR and skipped %" G_GUINT64_FORMAT
                 ", the reader considered %zu",
                 st.candidates, st.candidates_skipped, handed);
    g_free(a), g_free(b);
    g_ptr_array_free(by_reader, TRUE);
    g_ptr_array_free(by_lane, TRUE);
}

Test(lane, reads_each_frame_as_platewatch_read_reads_the_image, .init = setup, .fini = teardown, .timeout = 300)
{
    size_t n = G_N_ELEMENTS(STILLS);
    for (size_t i = 0; i < n; i++)
        write_still(i);
    pw_formats *formats = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_formats_load_dir(PW_MODELS_DIR "/formats", &formats, &err), 0, "%s", err.msg);
    expect_lane_reads_as_reader("still", n, formats, 0);
    pw_formats_destroy(&formats);
}

/*
 * Writes still i of a varied set, as pw-synth scenes makes them: plates of
 * 18-39 px characters anywhere in the lower frame, tilted up to 6 degrees.
 */
static void write_varied_still(size_t i)
{
    pw_scene_spec spec = {.width = 1280, .height = 720, .seed = 101u + 7u * (unsigned)i, .clutter = 40,
                          .blur_sigma = 0.6, .noise_sigma = 3.0, .vehicle = 1};
    pw_scene_plate plate = {.cx = 1280 * (0.3f + (float)((i * 13) % 40) / 100.0f),
                            .cy = 720 * (0.45f + (float)((i * 7) % 30) / 100.0f),
                            .tilt_deg = (float)((int)((i * 5) % 13) - 6)};
    pw_plate_style_defaults(&plate.style, STILLS[i % G_N_ELEMENTS(STILLS)].printed, 18 + (int)((i * 11) % 22));
    pw_image *img = NULL;
    cr_assert_eq(pw_synth_scene(&spec, &plate, 1, &img, NULL), 0);
    gchar *path = g_strdup_printf("%s/varied-%02zu.png", tmpdir, i);
    pw_plane p = pw_image_plane(img);
    cr_assert_eq(pw_cv_write_file(&p, path, NULL), 0);
    pw_image_destroy(&img);
    g_free(path);
}

#define VARIED_STILLS 20

/*
 * With one candidate read a frame, which one is read decides the result:
 * the lane must rank the localiser's first rank_candidates boxes by their
 * character rows as the reader does, not read the localiser's first box.
 */
Test(lane, ranks_candidates_as_platewatch_read_does, .init = setup, .fini = teardown, .timeout = 300)
{
    size_t n = VARIED_STILLS;
    for (size_t i = 0; i < n; i++)
        write_varied_still(i);
    pw_formats *formats = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_formats_load_dir(PW_MODELS_DIR "/formats", &formats, &err), 0, "%s", err.msg);
    expect_lane_reads_as_reader("varied", n, formats, 1);
    pw_formats_destroy(&formats);
}

/* Writes crop i: a rendered plate alone, as a camera that cuts out plates sends it. */
static void write_crop(size_t i, const char *printed, int char_height)
{
    pw_plate_style style;
    pw_plate_style_defaults(&style, printed, char_height);
    pw_image *img = NULL;
    cr_assert_eq(pw_synth_plate(&style, &img), 0);
    gchar *path = g_strdup_printf("%s/crop-%02zu.png", tmpdir, i);
    pw_plane p = pw_image_plane(img);
    cr_assert_eq(pw_cv_write_file(&p, path, NULL), 0);
    pw_image_destroy(&img);
    g_free(path);
}

/*
 * Frames that are plate crops are read whole by the lane as by platewatch
 * read (before, only the reader read the whole image: bench video --manifest
 * read 35 of fold 0's 74 us-crops exactly where bench images read 41).
 */
Test(lane, reads_plate_crop_frames_whole_as_platewatch_read_does, .init = setup, .fini = teardown, .timeout = 300)
{
    const char *printed[] = {"FKR 428", "7FKM294", "WX 48213"};
    size_t n = G_N_ELEMENTS(printed);
    for (size_t i = 0; i < n; i++)
        write_crop(i, printed[i], 40);
    pw_formats *formats = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_formats_load_dir(PW_MODELS_DIR "/formats", &formats, &err), 0, "%s", err.msg);
    GPtrArray *by_reader = reader_plates("crop", n, 0, -1, NULL), *by_lane = lane_reads("crop", formats, 0, NULL);
    gchar *a = joined(by_reader), *b = joined(by_lane);
    cr_assert(strstr(a, "FKR428"), "the reader reads the crop whole: %s", a);
    cr_expect_str_eq(b, a, "lane reads \"%s\", reader \"%s\"", b, a);
    g_free(a), g_free(b);
    g_ptr_array_free(by_reader, TRUE);
    g_ptr_array_free(by_lane, TRUE);
    pw_formats_destroy(&formats);
}
