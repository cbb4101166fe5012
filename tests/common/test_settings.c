/*
 * The settings mechanism (common/pw_settings.h) on a small table of its
 * own: the line index, typed values, malformed values, suggestions and the
 * formatting the reference uses.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "pw_settings.h"
#include "pwtest.h"

typedef struct {
    const char *name;
    int count;
    int64_t wait_ns;
    int64_t bytes;
    double cost;
    int on;
    bool off;
    int mode;
} sample;

static const char *const modes[] = {"fast", "slow", "exact", NULL};

static const pw_setting table[] = {
    {"g", "name", PW_SETTING_STRING, offsetof(sample, name), .flags = PW_SETTING_ID, .doc = "a name"},
    {"g", "count", PW_SETTING_INT, offsetof(sample, count), .min = 1, .max = 16, .doc = "a count"},
    {"g", "wait_ms", PW_SETTING_INT64, offsetof(sample, wait_ns), .min = 0, .max = 1000, .scale = 1e6, .doc = "w"},
    {"g", "bytes", PW_SETTING_SIZE, offsetof(sample, bytes), .min = 1024, .max = (double)(1LL << 30), .doc = "b"},
    {"g", "cost", PW_SETTING_DOUBLE, offsetof(sample, cost), .min = 0, .max = 1, .doc = "c"},
    {"g", "on", PW_SETTING_BOOL, offsetof(sample, on), .doc = "o"},
    {"g", "voting", PW_SETTING_CBOOL, offsetof(sample, off), .flags = PW_SETTING_INVERT, .doc = "v"},
    {"g", "mode", PW_SETTING_ENUM, offsetof(sample, mode), .choices = modes, .doc = "m"},
};
#define N G_N_ELEMENTS(table)

static char *tmpdir;
static pw_err err;

static void setup(void)
{
    tmpdir = pwtest_tmpdir("pw-settings");
    err = (pw_err){0};
}

static void teardown(void)
{
    pwtest_rmtree(&tmpdir);
}

TestSuite(settings, .init = setup, .fini = teardown);

/* Writes text as site.conf, loads it and applies group g to s; returns the code. */
static int apply(const char *text, sample *s)
{
    gchar *path = g_build_filename(tmpdir, "site.conf", NULL);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    pw_settings_file *f = NULL;
    GPtrArray *strings = g_ptr_array_new_with_free_func(g_free);
    int rc = pw_settings_file_load(path, &f, &err);
    if (rc == 0)
        rc = pw_settings_apply(f, table, N, "g", "g", s, strings, NULL, &err);
    if (rc == 0 && s->name)
        s->name = g_intern_string(s->name); /* outlives the strings array */
    pw_settings_file_destroy(&f);
    cr_assert_null(f);
    g_ptr_array_unref(strings);
    g_free(path);
    return rc;
}

Test(settings, absent_keys_keep_the_defaults_present_ones_are_typed)
{
    sample s = {.count = 3, .cost = 0.5};
    cr_assert_eq(apply("[g]\n", &s), 0, "%s", err.msg);
    cr_expect_eq(s.count, 3);
    cr_expect_eq(s.cost, 0.5);
    cr_assert_eq(apply("[g]\nname = cam-1\ncount = 16\nwait_ms = 250\nbytes = 3M\ncost = 0.25\non = YES\n"
                       "voting = false\nmode = exact\n", &s),
                 0, "%s", err.msg);
    cr_expect_str_eq(s.name, "cam-1");
    cr_expect_eq(s.count, 16);
    cr_expect_eq(s.wait_ns, 250LL * 1000000);
    cr_expect_eq(s.bytes, 3LL << 20);
    cr_expect_eq(s.cost, 0.25);
    cr_expect_eq(s.on, 1);
    cr_expect(s.off, "voting = false sets the inverted field");
    cr_expect_eq(s.mode, 2);
}

Test(settings, values_out_of_range_or_malformed_name_the_line)
{
    sample s = {0};
    static const char *const bad[][2] = {
        {"count = 17", "from 1 to 16"},     {"count = 2.5", "whole number"},   {"count = 0x3", "whole number"},
        {"cost = nan", "from 0 to 1"},      {"cost = 0.5x", "from 0 to 1"},    {"bytes = 1023", "from 1K to 1G"},
        {"bytes = 2T", "size in bytes"},    {"bytes = -1K", "size in bytes"},  {"on = 2", "true or false"},
        {"mode = quick", "fast, slow or exact"}, {"name = a b", "has ' '"}, {"count =", "empty value"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        gchar *text = g_strdup_printf("# comment\n[g]\n%s\n", bad[i][0]);
        cr_expect_eq(apply(text, &s), PW_ECONFIG, "accepted: %s", bad[i][0]);
        cr_expect(strstr(err.msg, "site.conf:3: [g] ") != NULL, "%s: %s", bad[i][0], err.msg);
        cr_expect(strstr(err.msg, bad[i][1]) != NULL, "%s: %s", bad[i][0], err.msg);
        g_free(text);
    }
}

Test(settings, a_malformed_value_is_an_error_not_an_absent_key)
{
    sample s = {.count = 3};
    cr_expect_eq(apply("[g]\nname = bad\\qescape\n", &s), PW_ECONFIG);
    cr_expect(strstr(err.msg, "site.conf:2: [g] name: ") != NULL, "%s", err.msg);
    cr_expect_eq(apply("[g]\ncount = 1\xff\xfe\n", &s), PW_ECONFIG);
    cr_expect_eq(s.count, 3, "not changed");
    cr_expect(strstr(err.msg, "site.conf:2: [g] count: ") != NULL, "%s", err.msg);
    /* GLib's \s and \t escapes survive its parsing; blanks around a value are not part of it. */
    cr_expect_eq(apply("[g]\ncount = \\s 12\\t\n", &s), 0, "%s", err.msg);
    cr_expect_eq(s.count, 12);
}

Test(settings, syntax_errors_repeats_and_unknown_keys)
{
    sample s = {0};
    cr_expect_eq(apply("[g\ncount = 1\n", &s), PW_ECONFIG);
    cr_expect(strstr(err.msg, "site.conf") != NULL, "%s", err.msg);
    cr_expect_eq(apply("[g]\ncount = 1\n\n[g]\ncount = 2\n", &s), PW_ECONFIG);
    cr_expect(strstr(err.msg, "site.conf:4: [g]: repeated group (first on line 1)"), "%s", err.msg);
    cr_expect_eq(apply("[g]\n count=1\non = true\ncount\t= 2\n", &s), PW_ECONFIG);
    cr_expect(strstr(err.msg, "site.conf:4: [g] count: repeated key (first on line 2)"), "%s", err.msg);
    cr_expect_eq(apply("[g]\ncoutn = 1\n", &s), PW_ECONFIG);
    cr_expect(strstr(err.msg, "site.conf:2: [g] coutn: unknown key; did you mean count?"), "%s", err.msg);
    /* The same key in two groups is not a repeat. */
    cr_expect_eq(apply("[g]\ncount = 1\n[h]\ncount = 2\n", &s), 0, "%s", err.msg);
    pw_settings_file *f = NULL;
    cr_expect_eq(pw_settings_file_load("/nonexistent/site.conf", &f, &err), -ENOENT);
    cr_expect_null(f);
}

Test(settings, suggestions_only_for_near_misses)
{
    cr_expect_str_eq(pw_settings_suggest(table, N, "g", "wait_sm"), "wait_ms");
    cr_expect_str_eq(pw_settings_suggest(table, N, "g", "vting"), "voting");
    cr_expect_null(pw_settings_suggest(table, N, "g", "colour"));
    cr_expect_null(pw_settings_suggest(table, N, "other", "count"), "another group's keys are not suggested");
    cr_expect_not_null(pw_settings_find(table, N, "g", "bytes"));
    cr_expect_null(pw_settings_find(table, N, "h", "bytes"));
}

Test(settings, a_formatted_default_reads_back_as_itself)
{
    sample def = {.name = "cam", .count = 7, .wait_ns = 1500000, .bytes = 256LL << 20, .cost = 0.35, .on = 1,
                  .off = true, .mode = 1};
    sample back = {0};
    GPtrArray *strings = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < N; i++) {
        GString *v = g_string_new(NULL);
        pw_setting_format(&table[i], &def, v);
        if (!strcmp(table[i].key, "wait_ms")) {
            /* 1.5 ms does not hold in whole milliseconds: formatting shows what the file can say. */
            cr_expect_str_eq(v->str, "1");
        } else {
            cr_expect_eq(pw_setting_set(&table[i], v->str, &back, strings, NULL, &err), 0, "%s: %s", table[i].key,
                         err.msg);
        }
        g_string_free(v, TRUE);
    }
    cr_expect_str_eq(back.name, "cam");
    cr_expect_eq(back.bytes, def.bytes);
    cr_expect_eq(back.cost, def.cost);
    cr_expect_eq(back.off, def.off);
    cr_expect_eq(back.mode, def.mode);
    GString *md = g_string_new(NULL);
    pw_settings_markdown(table, N, "g", &def, md);
    cr_expect(strstr(md->str, "| `bytes` | a size in bytes (K, M or G: powers of 1024) from 1K to 1G | `256M` |"),
              "%s", md->str);
    cr_expect(strstr(md->str, "| `mode` | fast, slow or exact | `slow` |"), "%s", md->str);
    g_string_free(md, TRUE);
    g_ptr_array_unref(strings);
    cr_expect_eq(pw_settings_check_ranges(table, N, &def, &err), 0, "%s", err.msg);
    def.cost = 2;
    cr_expect_eq(pw_settings_check_ranges(table, N, &def, &err), PW_ECONFIG);
    cr_expect(strstr(err.msg, "[g] cost 2") != NULL, "%s", err.msg);
}
