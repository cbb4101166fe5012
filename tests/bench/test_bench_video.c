/*
 * `platewatch bench video` as a user runs it: small pw-synth drive clips
 * through a platewatchd configuration, the JSON and HTML reports, two
 * configurations side by side, a manifest of stills, real-time mode, and
 * usage errors. Paths of the programs come from the environment (meson
 * sets PW_PLATEWATCH and PW_SYNTH).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

#include "pwtest.h"

#define PLATES "AB-123-CD:FR,WX 48213:PL"
/* Two vehicles of 24 frames with 16-frame gaps: 2 * (16 + 24) + 16 frames. */
#define CLIP_FRAMES 96
#define PLATE_FRAMES 48

static char *tmpdir;

static void setup(void)
{
    tmpdir = pwtest_tmpdir("pw-bench-video");
}

static void teardown(void)
{
    pwtest_rmtree(&tmpdir);
}

typedef pwtest_run_result run_result;

static run_result run(const char *env_program, const char *const *args)
{
    return pwtest_run(env_program, args, tmpdir);
}

/* Writes a small drive-by clip (and its truth and boxes) into folder; returns the clip's path. */
static gchar *make_clip(const char *folder, const char *name)
{
    gchar *dir = g_build_filename(tmpdir, folder, NULL);
    g_mkdir_with_parents(dir, 0700);
    gchar *clip = g_build_filename(dir, name, NULL);
    const char *args[] = {"drive", "--out", clip, "--plates", PLATES, "--width", "800", "--height", "450",
                          "--frames", "24", "--gap", "16", "--far", "20", "--near", "28", NULL};
    run_result r = run("PW_SYNTH", args);
    cr_assert_eq(r.status, 0, "pw-synth: %s", r.err);
    pwtest_run_free(&r);
    g_free(dir);
    return clip;
}

static gchar *write_config(void)
{
    gchar *path = g_build_filename(tmpdir, "lane.conf", NULL);
    gchar *text = g_strdup_printf("[site]\nid = bench\n[security]\nallow_plain = true\n[lane l01]\n"
                                  "source = rtsp://127.0.0.1:1/unused\ncountries = FR,PL,US\n"
                                  "publish = tcp://127.0.0.1:7700\nreplay = tcp://127.0.0.1:7701\n"
                                  "journal = %s/l01.journal\nfinal_after_ms = 600\n"
                                  /* Every frame searched and read: the frame-level figures are what is checked. */
                                  "settle_reads = 0\nmotion_threshold = 0\n", tmpdir);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    g_free(text);
    return path;
}

static JsonParser *load_json(const char *path)
{
    JsonParser *p = json_parser_new();
    GError *gerr = NULL;
    cr_assert(json_parser_load_from_file(p, path, &gerr), "%s: %s", path, gerr ? gerr->message : "");
    return p;
}

static JsonObject *config_result(JsonParser *p, guint i)
{
    JsonObject *root = json_node_get_object(json_parser_get_root(p));
    JsonArray *cfgs = json_object_get_array_member(root, "configurations");
    cr_assert_gt(json_array_get_length(cfgs), i);
    return json_array_get_object_element(cfgs, i);
}

static gint64 total(JsonObject *cfg, const char *name)
{
    return json_object_get_int_member(json_object_get_object_member(cfg, "totals"), name);
}

TestSuite(bench_video, .init = setup, .fini = teardown, .timeout = 300);

Test(bench_video, one_configuration_reads_the_passages)
{
    gchar *clip = make_clip("clips", "lane.webm"), *conf = write_config();
    gchar *json = g_build_filename(tmpdir, "r.json", NULL), *html = g_build_filename(tmpdir, "r.html", NULL);
    gchar *folder = g_path_get_dirname(clip);
    const char *args[] = {"bench", "video", "--config", conf, "--json", json, "--html", html, folder, NULL};
    run_result r = run("PW_PLATEWATCH", args);
    cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
    cr_assert(strstr(r.out, "read exactly (final)"), "no table: %s", r.out);
    cr_assert_null(strstr(r.err, "\r"), "a progress bar was drawn on a pipe");
    JsonParser *p = load_json(json);
    JsonObject *c = config_result(p, 0);
    cr_assert_eq(total(c, "passages"), 2);
    cr_assert_geq(total(c, "exact"), 1, "no passage read exactly");
    cr_assert_eq(total(c, "exact") + total(c, "missed") + (total(c, "one_edit") - total(c, "exact")), 2);
    cr_assert_leq(total(c, "false_vehicles"), 1);
    cr_assert_eq(total(c, "truth_frames"), PLATE_FRAMES);
    cr_assert_gt(total(c, "frames_exact"), PLATE_FRAMES / 2, "frame-level exact reads: %" G_GINT64_FORMAT,
                 total(c, "frames_exact"));
    cr_assert_eq(total(c, "frames"), CLIP_FRAMES, "offline runs read every frame");
    cr_assert_eq(total(c, "frames_dropped"), 0);
    cr_assert_gt(json_object_get_double_member(c, "throughput_fps"), 0);
    cr_assert_gt(json_object_get_double_member(c, "cpu_ms_per_frame"), 0);
    cr_assert_gt(json_object_get_int_member(c, "peak_rss_kb"), 0);
    JsonObject *det = json_object_get_object_member(json_object_get_object_member(c, "totals"), "detect");
    cr_assert_eq(json_object_get_int_member(det, "samples"), CLIP_FRAMES);
    cr_assert_leq(json_object_get_double_member(det, "p50_ms"), json_object_get_double_member(det, "p99_ms"));
    cr_assert_gt(json_object_get_size(json_object_get_object_member(c, "by_height")), 0,
                 "the clip's boxes give plate heights");
    gchar *page = NULL;
    cr_assert(g_file_get_contents(html, &page, NULL, NULL));
    cr_assert(strstr(page, "<svg"), "no chart in the page");
    cr_assert(strstr(page, "by plate height"));
    cr_assert_null(strstr(page, "<script"), "the page must not need scripts");
    cr_assert_null(strstr(page, "src="), "the page must not fetch anything");
    g_free(page);
    g_object_unref(p);
    pwtest_run_free(&r);
    g_free(clip), g_free(conf), g_free(json), g_free(html), g_free(folder);
}

Test(bench_video, two_simd_levels_side_by_side_agree)
{
    gchar *clip = make_clip("clips", "lane.avi"), *conf = write_config();
    gchar *json = g_build_filename(tmpdir, "r.json", NULL);
    const char *args[] = {"bench", "video", "--config", conf, "--variant", "scalar:simd=scalar", "--variant",
                          "sse2:simd=sse2", "--json", json, clip, NULL};
    run_result r = run("PW_PLATEWATCH", args);
    cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
    cr_assert(strstr(r.out, "scalar") && strstr(r.out, "sse2") && strstr(r.out, "ratio"), "%s", r.out);
    JsonParser *p = load_json(json);
    JsonObject *a = config_result(p, 0), *b = config_result(p, 1);
    cr_assert_str_eq(json_object_get_string_member(a, "simd"), "scalar");
    cr_assert_str_eq(json_object_get_string_member(b, "simd"), "sse2");
    /* Every SIMD level finds the same candidates, so the reads are the same. */
    cr_assert_eq(total(a, "frames_exact"), total(b, "frames_exact"));
    cr_assert_eq(total(a, "exact"), total(b, "exact"));
    cr_assert_eq(total(a, "frames"), total(b, "frames"));
    g_object_unref(p);
    pwtest_run_free(&r);
    g_free(clip), g_free(conf), g_free(json);
}

Test(bench_video, manifest_stills_are_one_frame_vehicles)
{
    gchar *dir = g_build_filename(tmpdir, "scenes", NULL), *conf = write_config();
    const char *gen[] = {"scenes", "--out", dir, "--count", "3", "--width", "800", "--height", "450", NULL};
    run_result g = run("PW_SYNTH", gen);
    cr_assert_eq(g.status, 0, "%s", g.err);
    gchar *manifest = g_build_filename(dir, "manifest.csv", NULL), *json = g_build_filename(tmpdir, "m.json", NULL);
    const char *args[] = {"bench", "video", "--config", conf, "--manifest", manifest, "--json", json, NULL};
    run_result r = run("PW_PLATEWATCH", args);
    cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
    JsonParser *p = load_json(json);
    JsonObject *c = config_result(p, 0);
    cr_assert_eq(total(c, "passages"), 3);
    cr_assert_eq(total(c, "truth_frames"), 3);
    cr_assert_eq(total(c, "frames"), 3);
    cr_assert_gt(json_object_get_size(json_object_get_object_member(c, "by_height")), 0);
    g_object_unref(p);
    pwtest_run_free(&g), pwtest_run_free(&r);
    g_free(dir), g_free(conf), g_free(manifest), g_free(json);
}

Test(bench_video, realtime_reports_dropped_frames)
{
    gchar *clip = make_clip("clips", "lane.webm"), *conf = write_config();
    gchar *json = g_build_filename(tmpdir, "r.json", NULL);
    const char *args[] = {"bench", "video", "--realtime", "--config", conf, "--json", json, clip, NULL};
    run_result r = run("PW_PLATEWATCH", args);
    cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
    JsonParser *p = load_json(json);
    JsonObject *c = config_result(p, 0);
    cr_assert(json_object_get_boolean_member(c, "realtime"));
    /* Every frame the camera gave was either processed or counted as dropped. */
    cr_assert_eq(total(c, "frames") + total(c, "frames_dropped"), total(c, "frames_in"));
    cr_assert_eq(total(c, "frames_in"), CLIP_FRAMES);
    g_object_unref(p);
    pwtest_run_free(&r);
    g_free(clip), g_free(conf), g_free(json);
}

static void expect_usage_error(const char *const *args, const char *needle)
{
    run_result r = run("PW_PLATEWATCH", args);
    cr_assert_eq(r.status, 2, "status %d for %s", r.status, args[2]);
    cr_assert(strstr(r.err, needle), "stderr '%s' lacks '%s'", r.err, needle);
    pwtest_run_free(&r);
}

Test(bench_video, bad_input_is_named)
{
    gchar *conf = write_config();
    gchar *clip = g_build_filename(tmpdir, "no-truth.webm", NULL);
    cr_assert(g_file_set_contents(clip, "x", 1, NULL));
    const char *no_truth[] = {"bench", "video", "--config", conf, clip, NULL};
    expect_usage_error(no_truth, "no ground truth");
    gchar *bad = g_strconcat(clip, ".truth.csv", NULL);
    cr_assert(g_file_set_contents(bad, "recording,plate_text,country,first_frame,last_frame\nno-truth.webm,AB1\n",
                                  -1, NULL));
    expect_usage_error(no_truth, "truth.csv:2:");
    const char *bad_variant[] = {"bench", "video", "--config", conf, "--variant", "x:colour=red", clip, NULL};
    expect_usage_error(bad_variant, "unknown key 'colour'");
    const char *no_config[] = {"bench", "video", clip, NULL};
    expect_usage_error(no_config, "usage");
    const char *missing[] = {"bench", "video", "--config", conf, "/nonexistent/clip.webm", NULL};
    expect_usage_error(missing, "/nonexistent/clip.webm");
    g_free(conf), g_free(clip), g_free(bad);
}

/* A drive-by plate or country its ground truth could not hold whole is refused, not cut. */
Test(bench_video, pw_synth_refuses_plates_its_truth_cannot_hold)
{
    gchar *clip = g_build_filename(tmpdir, "long.webm", NULL);
    const char *too_long[] = {"drive", "--out", clip, "--plates", "ABCDEFGHI-12345678:FR", NULL};
    run_result r = run("PW_SYNTH", too_long);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "more than 16 characters"), "%s", r.err);
    pwtest_run_free(&r);
    const char *long_country[] = {"drive", "--out", clip, "--plates", "AB-123-CD:FRANCE", NULL};
    r = run("PW_SYNTH", long_country);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "longer than 3 characters"), "%s", r.err);
    pwtest_run_free(&r);
    cr_expect(!g_file_test(clip, G_FILE_TEST_EXISTS), "nothing is written");
    g_free(clip);
}
