/*
 * The platewatch command as a user runs it: `read --json` on good and bad
 * files, text output, usage errors, and `bench images` on a generated
 * manifest. Paths of the programs come from the environment (meson sets
 * PW_PLATEWATCH and PW_SYNTH).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "pwtest.h"

static char *tmpdir;

static void setup(void)
{
    tmpdir = pwtest_tmpdir("pw-cli");
}

static void teardown(void)
{
    pwtest_rmtree(&tmpdir);
}

typedef pwtest_run_result run_result;

static run_result run(const char *const *args)
{
    return pwtest_run("PW_PLATEWATCH", args, NULL);
}

/* Writes n rendered scenes with pw-synth; returns the manifest path. */
static gchar *synth_scenes(int n)
{
    gchar *count = g_strdup_printf("%d", n);
    gchar *argv[] = {(gchar *)g_getenv("PW_SYNTH"), "scenes", "--out", tmpdir, "--count", count, "--seed", "3", NULL};
    cr_assert_not_null(argv[0], "PW_SYNTH is not set");
    int wait = 0;
    cr_assert(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &wait, NULL));
    cr_assert(g_spawn_check_wait_status(wait, NULL));
    g_free(count);
    return g_build_filename(tmpdir, "manifest.csv", NULL);
}

static JsonObject *parse_line(JsonParser *parser, const char *line)
{
    GError *gerr = NULL;
    cr_assert(json_parser_load_from_data(parser, line, -1, &gerr), "not JSON: %s", line);
    JsonNode *root = json_parser_get_root(parser);
    cr_assert(JSON_NODE_HOLDS_OBJECT(root));
    return json_node_get_object(root);
}

/* The label of the first manifest row, read back from the manifest itself. */
static gchar *first_label(const char *manifest)
{
    gchar *text = NULL;
    cr_assert(g_file_get_contents(manifest, &text, NULL, NULL));
    gchar **lines = g_strsplit(text, "\n", 3);
    gchar **fields = g_strsplit(lines[1], ",", -1);
    gchar *label = g_strdup(fields[1]);
    g_strfreev(fields);
    g_strfreev(lines);
    g_free(text);
    return label;
}

Test(cli, read_json_prints_one_parseable_line_per_image, .init = setup, .fini = teardown, .timeout = 120)
{
    gchar *manifest = synth_scenes(1);
    gchar *label = first_label(manifest);
    gchar *good = g_build_filename(tmpdir, "scene-000.jpg", NULL);
    gchar *missing = g_build_filename(tmpdir, "nowhere.jpg", NULL);
    gchar *empty = g_build_filename(tmpdir, "empty.png", NULL);
    cr_assert(g_file_set_contents(empty, "", 0, NULL));
    const char *args[] = {"read", "--json", "--top", "3", good, missing, empty, NULL};
    run_result r = run(args);
    cr_assert_eq(r.status, 1, "some images failed, so the status is 1; stderr: %s", r.err);
    gchar **lines = g_strsplit(g_strchomp(r.out), "\n", -1);
    cr_assert_eq(g_strv_length(lines), 3, "stdout: %s", r.out);
    JsonParser *parser = json_parser_new();

    JsonObject *o = parse_line(parser, lines[0]);
    cr_assert_str_eq(json_object_get_string_member(o, "image"), good);
    cr_assert_eq(json_object_get_int_member(o, "width"), 1280);
    JsonObject *ms = json_object_get_object_member(o, "ms");
    cr_assert(json_object_has_member(ms, "decode") && json_object_has_member(ms, "detect") &&
              json_object_has_member(ms, "ocr"));
    JsonArray *plates = json_object_get_array_member(o, "plates");
    int found = 0;
    for (guint i = 0; i < json_array_get_length(plates); i++) {
        JsonObject *p = json_array_get_object_element(plates, i);
        if (strcmp(json_object_get_string_member(p, "text"), label) != 0)
            continue;
        found = 1;
        cr_assert_eq(json_array_get_length(json_object_get_array_member(p, "corners")), 4);
        cr_assert(json_object_has_member(json_object_get_object_member(p, "box"), "w"));
        cr_assert_leq(json_array_get_length(json_object_get_array_member(p, "alternatives")), 3);
        cr_assert_eq(json_array_get_length(json_object_get_array_member(p, "char_confidences")), strlen(label));
        cr_assert(json_object_has_member(p, "country"));
    }
    cr_assert(found, "label %s not among the plates: %s", label, lines[0]);

    o = parse_line(parser, lines[1]);
    cr_assert_str_eq(json_object_get_string_member(o, "image"), missing);
    cr_assert_eq(json_object_get_int_member(o, "error_code"), -ENOENT);
    o = parse_line(parser, lines[2]);
    cr_assert_str_eq(json_object_get_string_member(o, "image"), empty);
    cr_assert(strstr(json_object_get_string_member(o, "error"), "0 bytes") != NULL);
    cr_assert(strstr(r.err, "nowhere.jpg") != NULL && strstr(r.err, "empty.png") != NULL, "%s", r.err);

    g_object_unref(parser);
    g_strfreev(lines);
    pwtest_run_free(&r);
    g_free(good), g_free(missing), g_free(empty), g_free(manifest), g_free(label);
}

Test(cli, read_text_names_plate_country_and_timings, .init = setup, .fini = teardown, .timeout = 120)
{
    gchar *manifest = synth_scenes(1);
    gchar *label = first_label(manifest);
    gchar *good = g_build_filename(tmpdir, "scene-000.jpg", NULL);
    const char *args[] = {"read", good, NULL};
    run_result r = run(args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, label) != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "detect") && strstr(r.out, "ocr") && strstr(r.out, "corners"), "%s", r.out);
    pwtest_run_free(&r);
    g_free(good), g_free(manifest), g_free(label);
}

Test(cli, usage_errors_exit_2_with_a_reason, .init = setup, .fini = teardown)
{
    const char *none[] = {"read", NULL};
    run_result r = run(none);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "no image") != NULL, "%s", r.err);
    pwtest_run_free(&r);
    const char *country[] = {"read", "--country", "ZZ", "x.jpg", NULL};
    r = run(country);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "ZZ") != NULL, "%s", r.err);
    pwtest_run_free(&r);
    const char *tess[] = {"read", "--tessdata", "/nonexistent", "x.jpg", NULL};
    r = run(tess);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "/nonexistent") != NULL, "%s", r.err);
    pwtest_run_free(&r);
}

Test(cli, bench_images_reports_every_column, .init = setup, .fini = teardown, .timeout = 300)
{
    gchar *manifest = synth_scenes(4);
    const char *args[] = {"bench", "images", manifest, NULL};
    run_result r = run(args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "detected") && strstr(r.out, "exact") && strstr(r.out, "1-edit") &&
              strstr(r.out, "p95 ms"), "%s", r.out);
    /* The row for the generated set: 4 images, and the easy rendered plates are found. */
    const char *row = strstr(r.out, "\nsynth");
    cr_assert_not_null(row, "%s", r.out);
    int images = 0;
    double detected = 0, exact = 0;
    cr_assert_eq(sscanf(row, "\nsynth %d %lf%% %lf%%", &images, &detected, &exact), 3, "%s", row);
    cr_assert_eq(images, 4);
    cr_assert_geq(detected, 75.0, "%s", r.out);
    cr_assert_geq(exact, 50.0, "%s", r.out);
    pwtest_run_free(&r);

    const char *bad[] = {"bench", "images", "/nonexistent/manifest.csv", NULL};
    r = run(bad);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "/nonexistent/manifest.csv") != NULL);
    pwtest_run_free(&r);
    g_free(manifest);
}
