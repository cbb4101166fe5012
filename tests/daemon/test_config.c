/*
 * The settings tables (pw_settings.h) as the daemon and the gate load them:
 * unknown and repeated keys refused with file, line and a suggestion; the
 * defaults from their owners; the shipped configuration files naming every
 * key of the tables.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "daemon_config.h"
#include "gate.h"
#include "publish.h"
#include "pwtest.h"

static char *tmpdir;

static void setup(void)
{
    tmpdir = pwtest_tmpdir("pw-config");
}

static void teardown(void)
{
    pwtest_rmtree(&tmpdir);
}

/* A valid file: lines 1-9, the lane group's header on line 5. */
static const char *const base_conf = "[site]\n"
                                     "id = t\n"
                                     "[security]\n"
                                     "allow_plain = true\n"
                                     "[lane a]\n"
                                     "source = testsrc://\n"
                                     "publish = tcp://127.0.0.1:7700\n"
                                     "replay = tcp://127.0.0.1:7701\n"
                                     "journal = /tmp/a.journal\n";

static gchar *write_file(const char *name, const char *text)
{
    gchar *path = g_build_filename(tmpdir, name, NULL);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* Loads base_conf followed by extra (from line 10 on); returns the code, err filled. */
static int load_with(const char *extra, pw_daemon_config **cfg, pw_err *err)
{
    gchar *text = g_strconcat(base_conf, extra, NULL);
    gchar *path = write_file("d.conf", text);
    int rc = pw_daemon_config_load(path, cfg, err);
    g_free(text);
    g_free(path);
    return rc;
}

static void expect_refused(const char *extra, const char *const *parts)
{
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    cr_assert_eq(load_with(extra, &cfg, &err), PW_ECONFIG, "accepted: %s", extra);
    cr_assert_null(cfg);
    for (const char *const *p = parts; *p; p++)
        cr_expect(strstr(err.msg, *p) != NULL, "'%s' not in: %s", *p, err.msg);
}

Test(config, misspelt_key_is_refused_with_its_line_and_the_closest_key, .init = setup, .fini = teardown)
{
    expect_refused("final_afer_ms = 800\n",
                   (const char *const[]){"d.conf:10: [lane a] final_afer_ms", "unknown key",
                                         "did you mean final_after_ms?", NULL});
    expect_refused("ocr_worker = 2\n", (const char *const[]){"d.conf:10:", "did you mean ocr_workers?", NULL});
}

Test(config, unknown_key_far_from_any_has_no_suggestion, .init = setup, .fini = teardown)
{
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    gchar *path = write_file("s.conf", "[site]\nid = t\ncolour_of_the_sky = blue\n[security]\nallow_plain = true\n");
    cr_assert_eq(pw_daemon_config_load(path, &cfg, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "s.conf:3: [site] colour_of_the_sky: unknown key") != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, "did you mean") == NULL, "%s", err.msg);
    g_free(path);
}

Test(config, repeated_key_and_group_are_refused_naming_both_lines, .init = setup, .fini = teardown)
{
    /* GKeyFile alone would keep the last value and run with it. */
    expect_refused("final_after_ms = 800\nocr_workers = 2\nfinal_after_ms = 900\n",
                   (const char *const[]){"d.conf:12: [lane a] final_after_ms", "repeated key", "first on line 10",
                                         NULL});
    expect_refused("[site]\nstats_interval_s = 5\n",
                   (const char *const[]){"d.conf:10: [site]", "repeated group", "first on line 1", NULL});
    /* Blanks around the key and comments between do not hide a repeat. */
    expect_refused("  jpeg_crops=true\n# jpeg_crops = false\njpeg_crops   = false\n",
                   (const char *const[]){"d.conf:12:", "repeated key", NULL});
}

Test(config, bad_value_and_missing_key_name_their_lines, .init = setup, .fini = teardown)
{
    expect_refused("ocr_workers = 40\n",
                   (const char *const[]){"d.conf:10: [lane a] ocr_workers", "from 1 to 16", "\"40\"", NULL});
    expect_refused("rank_candidates = 33\n",
                   (const char *const[]){"d.conf:10: [lane a] rank_candidates", "from 0 to 32", NULL});
    expect_refused("voting = maybe\n", (const char *const[]){"d.conf:10:", "true or false", NULL});
    expect_refused("journal_max_bytes = 12X\n", (const char *const[]){"d.conf:10:", "size in bytes", NULL});
    /* An absent required key is reported at its group's header. */
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    gchar *path = write_file("m.conf", "[site]\nid = t\n[security]\nallow_plain = true\n\n[lane b]\nsource = x\n");
    cr_assert_eq(pw_daemon_config_load(path, &cfg, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "m.conf:6: [lane b] publish: missing (required)") != NULL, "%s", err.msg);
    g_free(path);
}

Test(config, defaults_come_from_their_owners, .init = setup, .fini = teardown)
{
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    cr_assert_eq(load_with("", &cfg, &err), 0, "%s", err.msg);
    const pw_daemon_lane *dl = &cfg->lanes[0];
    pw_read_settings rd;
    pw_read_settings_defaults(&rd);
    cr_expect_eq(dl->lane.read.candidates, rd.candidates);
    cr_expect_eq(dl->lane.read.min_confidence, rd.min_confidence);
    pw_lane_config lc;
    pw_lane_config_defaults(&lc, "x");
    cr_expect_eq(dl->lane.read.rank_candidates, lc.read.rank_candidates, "the lane's own default");
    cr_expect_lt(lc.read.rank_candidates, rd.rank_candidates, "a lane looks at fewer boxes than a still's reader");
    pw_reader_config still;
    pw_reader_config_defaults(&still);
    cr_expect_eq(dl->lane.ocr.plain_fallback, 0, "a lane does not read a crop a second time whole");
    cr_expect_eq(still.ocr.plain_fallback, 1, "a still's reader does");
    cr_expect_eq(dl->lane.ocr_workers, lc.ocr_workers);
    cr_expect_eq(dl->lane.ocr_queue, lc.ocr_queue);
    cr_expect_eq(dl->lane.tracker.new_min_frames, lc.tracker.new_min_frames);
    cr_expect_eq(dl->lane.tracker.final_after_ns, lc.tracker.final_after_ns);
    cr_expect_str_eq(dl->lane.camera, "a", "the camera id defaults to the lane's name");
    cr_expect_eq(dl->journal_max_bytes, PW_JOURNAL_MAX_BYTES_DEFAULT);
    cr_expect_null(dl->lane.haar_cascade);
    pw_daemon_config_destroy(&cfg);
    cr_assert_null(cfg);
}

Test(config, values_reach_their_fields, .init = setup, .fini = teardown)
{
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    cr_assert_eq(load_with("journal_max_bytes = 64M\nfinal_after_ms = 800\nvoting = false\n"
                           "min_read_confidence = 55.5\ndetector = haar\ncamera = cam-7\nroi = 1,2,30,40\n"
                           "rank_candidates = 0\nplain_fallback = true\n",
                           &cfg, &err),
                 0, "%s", err.msg);
    const pw_daemon_lane *dl = &cfg->lanes[0];
    cr_expect_eq(dl->journal_max_bytes, 64LL << 20);
    cr_expect_eq(dl->lane.tracker.final_after_ns, 800LL * 1000000);
    cr_expect_eq(dl->lane.tracker.disable_voting, 1);
    cr_expect_float_eq(dl->lane.read.min_confidence, 55.5f, 1e-6);
    cr_expect_eq(dl->lane.read.rank_candidates, 0, "0 turns the ranking off (the default is not 0)");
    cr_expect_eq(dl->lane.ocr.plain_fallback, 1);
    cr_expect_not_null(dl->lane.haar_cascade);
    cr_expect_str_eq(dl->lane.camera, "cam-7");
    cr_expect_eq(dl->lane.detect.roi.w, 30);
    pw_daemon_config_destroy(&cfg);
}

/* Issue 14: these ids passed --check, then every event was refused or cut. */
Test(config, camera_ids_that_break_topics_or_are_cut_are_refused, .init = setup, .fini = teardown)
{
    expect_refused("camera = front cam\n",
                   (const char *const[]){"d.conf:10: [lane a] camera", "has ' '", NULL});
    gchar *long_id = g_strnfill(64, 'c');
    gchar *line = g_strdup_printf("camera = %s\n", long_id);
    expect_refused(line, (const char *const[]){"d.conf:10: [lane a] camera", "64 characters", NULL});
    g_free(line);
    gchar *group = g_strdup_printf("[lane %s]\nsource = x\n", long_id);
    expect_refused(group, (const char *const[]){"d.conf:10:", "lane name", "64 characters", NULL});
    g_free(group), g_free(long_id);
    gchar *id63 = g_strnfill(63, 'c');
    line = g_strdup_printf("camera = %s\n", id63);
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    cr_expect_eq(load_with(line, &cfg, &err), 0, "63 characters fit: %s", err.msg);
    pw_daemon_config_destroy(&cfg);
    g_free(line), g_free(id63);
}

/* Every key of a table appears in the shipped file, set or commented out ("#key = ..."). */
static void expect_file_names_every_key(const char *rel, const pw_setting *t, size_t n)
{
    gchar *path = g_build_filename(g_getenv("PW_SOURCE_DIR"), rel, NULL), *text = NULL;
    cr_assert(g_file_get_contents(path, &text, NULL, NULL), "%s", path);
    for (size_t i = 0; i < n; i++) {
        gchar *re = g_strdup_printf("^#?%s\\s*=", t[i].key);
        cr_expect(g_regex_match_simple(re, text, G_REGEX_MULTILINE, 0), "%s does not name [%s] %s", rel,
                  t[i].group, t[i].key);
        g_free(re);
    }
    g_free(text);
    g_free(path);
}

/* The value text v of entry s, read into a copy of defaults, formats as the default does. */
static void expect_default(const pw_setting *s, const char *v, const void *defaults, size_t size, const char *rel)
{
    void *copy = g_memdup2(defaults, size);
    GPtrArray *strings = g_ptr_array_new_with_free_func(g_free);
    pw_err err = {0};
    cr_assert_eq(pw_setting_set(s, v, copy, strings, NULL, &err), 0, "%s: %s = %s: %s", rel, s->key, v, err.msg);
    GString *want = g_string_new(NULL), *got = g_string_new(NULL);
    pw_setting_format(s, defaults, want);
    pw_setting_format(s, copy, got);
    cr_expect_str_eq(got->str, want->str, "%s shows %s = %s, but its default is %s", rel, s->key, v, want->str);
    g_string_free(want, TRUE), g_string_free(got, TRUE);
    g_ptr_array_unref(strings);
    g_free(copy);
}

/*
 * Lines matching pattern (key in group 1, value in group 2) of a shipped
 * file show defaults: each must read back as its key's default.
 * defaults_of(group) gives the struct the group's entries are fields of.
 */
static void expect_shown_defaults(const char *rel, const char *pattern, const pw_setting *t, size_t n,
                                  const void *(*defaults_of)(const char *group, size_t *size))
{
    gchar *path = g_build_filename(g_getenv("PW_SOURCE_DIR"), rel, NULL), *text = NULL;
    cr_assert(g_file_get_contents(path, &text, NULL, NULL), "%s", path);
    GRegex *re = g_regex_new(pattern, G_REGEX_MULTILINE, 0, NULL);
    GMatchInfo *m = NULL;
    int shown = 0;
    for (g_regex_match(re, text, 0, &m); g_match_info_matches(m); g_match_info_next(m, NULL)) {
        gchar *key = g_match_info_fetch(m, 1), *value = g_match_info_fetch(m, 2);
        for (size_t i = 0; i < n; i++) {
            size_t size = 0;
            const void *d = defaults_of(t[i].group, &size);
            /* Keys without a fixed default (paths, the lane's name) show an example instead. */
            if (!strcmp(t[i].key, key) && d && !t[i].doc_default && !(t[i].flags & PW_SETTING_REQUIRED)) {
                GString *def = g_string_new(NULL);
                pw_setting_format(&t[i], d, def);
                if (def->len)
                    expect_default(&t[i], g_strstrip(value), d, size, rel), shown++;
                g_string_free(def, TRUE);
            }
        }
        g_free(key), g_free(value);
    }
    cr_expect_gt(shown, 5, "%s shows defaults", rel);
    g_match_info_free(m);
    g_regex_unref(re);
    g_free(text), g_free(path);
}

static pw_daemon_config daemon_defaults;
static pw_daemon_lane lane_defaults;

static const void *daemon_defaults_of(const char *group, size_t *size)
{
    pw_daemon_config_defaults(&daemon_defaults);
    pw_daemon_lane_defaults(&lane_defaults);
    *size = strcmp(group, "lane") ? sizeof daemon_defaults : sizeof lane_defaults;
    return strcmp(group, "lane") ? (const void *)&daemon_defaults : (const void *)&lane_defaults;
}

static pw_gate_config gate_defaults;

static const void *gate_defaults_of(const char *group, size_t *size)
{
    (void)group;
    pw_gate_config_defaults(&gate_defaults);
    *size = sizeof gate_defaults;
    return &gate_defaults;
}

Test(config, values_the_shipped_files_show_as_defaults_are_the_defaults)
{
    size_t n = 0;
    const pw_setting *t = pw_daemon_settings(&n);
    /* platewatchd.conf shows defaults commented out; what it sets is the site's choice. */
    expect_shown_defaults("config/platewatchd.conf", "^#(\\w+)\\s*=(.*)$", t, n, daemon_defaults_of);
    /* gate.conf says its values are the defaults where one exists. */
    t = pw_gate_settings_table(&n);
    expect_shown_defaults("config/gate.conf", "^(\\w+)\\s*=(.*)$", t, n, gate_defaults_of);
}

Test(config, shipped_daemon_file_loads_and_names_every_key)
{
    size_t n = 0;
    const pw_setting *t = pw_daemon_settings(&n);
    cr_assert_gt(n, 20);
    expect_file_names_every_key("config/platewatchd.conf", t, n);
    gchar *path = g_build_filename(g_getenv("PW_SOURCE_DIR"), "config", "platewatchd.conf", NULL);
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    cr_expect_eq(pw_daemon_config_load(path, &cfg, &err), 0, "%s", err.msg);
    pw_daemon_config_destroy(&cfg);
    g_free(path);
}

Test(config, shipped_gate_file_loads_and_names_every_key)
{
    size_t n = 0;
    const pw_setting *t = pw_gate_settings_table(&n);
    expect_file_names_every_key("config/gate.conf", t, n);
    gchar *path = g_build_filename(g_getenv("PW_SOURCE_DIR"), "config", "gate.conf", NULL);
    pw_gate_settings *s = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), 0, "%s", err.msg);
    cr_expect_eq(pw_gate_config_check(pw_gate_settings_config(s), &err), 0, "%s", err.msg);
    pw_gate_settings_destroy(&s);
    g_free(path);
}

Test(config, gate_refuses_unknown_and_repeated_keys, .init = setup, .fini = teardown)
{
    pw_gate_settings *s = NULL;
    pw_err err = {0};
    gchar *path = write_file("g.conf", "[gate]\nstore = x.db\n[thresholds]\nrelase_distance = 0.2\n");
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "g.conf:4: [thresholds] relase_distance: unknown key; did you mean release_distance?"),
              "%s", err.msg);
    g_free(path);
    path = write_file("g2.conf", "[gate]\nstore = x.db\nheartbeat_ms = 10\nstore = y.db\n");
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "g2.conf:4: [gate] store: repeated key (first on line 2)"), "%s", err.msg);
    g_free(path);
    path = write_file("g3.conf", "[gate]\nstore = x.db\n[threshold]\nmin_confidence = 0.5\n");
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "g3.conf:3: [threshold]: unknown group"), "%s", err.msg);
    g_free(path);
    /* A range from the table holds for configurations built in code too. */
    pw_gate_config c;
    pw_gate_config_defaults(&c);
    c.store_path = "x.db";
    c.th.min_confidence = 1.5;
    cr_expect_eq(pw_gate_config_check(&c, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "[thresholds] min_confidence 1.5") != NULL, "%s", err.msg);
}

Test(config, variant_keys_come_from_the_table)
{
    pw_lane_config lc;
    pw_lane_config_defaults(&lc, "x");
    pw_err err = {0};
    cr_assert_eq(pw_daemon_lane_vary(&lc, "final_after_ms", "900", &err), 0, "%s", err.msg);
    cr_expect_eq(lc.tracker.final_after_ns, 900LL * 1000000);
    cr_assert_eq(pw_daemon_lane_vary(&lc, "detector", "haar", &err), 0, "%s", err.msg);
    cr_expect_not_null(lc.haar_cascade);
    cr_assert_eq(pw_daemon_lane_vary(&lc, "detector", "platewatch", &err), 0, "%s", err.msg);
    cr_expect_null(lc.haar_cascade);
    cr_expect_eq(pw_daemon_lane_vary(&lc, "final_afer_ms", "900", &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "did you mean final_after_ms?") != NULL, "%s", err.msg);
    cr_expect_eq(pw_daemon_lane_vary(&lc, "journal", "/tmp/j", &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "cannot vary 'journal'") != NULL, "%s", err.msg);
    cr_expect_eq(pw_daemon_lane_vary(&lc, "ocr_queue", "0", &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "ocr_queue=0") != NULL && strstr(err.msg, "from 1 to 256"), "%s", err.msg);
}

/* [metrics] is a group of the table: its key is typed, checked and named like any other. */
Test(config, metrics_listen_is_a_table_key_named_with_its_line, .init = setup, .fini = teardown)
{
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    cr_assert_eq(load_with("[metrics]\nlisten = 127.0.0.1:9750\n", &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg->metrics_listen, "127.0.0.1:9750");
    pw_daemon_config_destroy(&cfg);
    cr_assert_eq(load_with("[metrics]\nlisten =\n", &cfg, &err), 0, "%s", err.msg);
    cr_expect_null(cfg->metrics_listen, "an empty value leaves the metrics off");
    pw_daemon_config_destroy(&cfg);
    expect_refused("[metrics]\nlisten = somewhere\n",
                   (const char *const[]){"d.conf:11: [metrics] listen", "somewhere", NULL});
    expect_refused("[metrics]\nlisen = 127.0.0.1:9750\n",
                   (const char *const[]){"d.conf:11: [metrics] lisen", "did you mean listen?", NULL});
}
