/* The typed GKeyFile getters (common/pw_keyfile.h) on key files held in memory. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "pw_keyfile.h"

static GKeyFile *kf;
static pw_err err;
static pw_keyfile k;

/* Loads text as the key file "site.conf"; every test calls it first. */
static void load(const char *text)
{
    kf = g_key_file_new();
    GError *gerr = NULL;
    cr_assert(g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, &gerr), "%s",
              gerr ? gerr->message : "");
    err = (pw_err){0};
    k = (pw_keyfile){kf, "site.conf", &err};
}

static void unload(void)
{
    g_clear_pointer(&kf, g_key_file_free);
}

TestSuite(keyfile, .fini = unload);

Test(keyfile, absent_optional_keys_give_the_default)
{
    load("[lane a]\nsource = x\n");
    char *s = NULL;
    int i = 0;
    double d = 0;
    bool b = false;
    cr_assert_eq(pw_keyfile_string(&k, "lane a", "camera", "cam0", 0, &s), 0, "%s", err.msg);
    cr_assert_str_eq(s, "cam0");
    g_free(s);
    cr_assert_eq(pw_keyfile_string(&k, "nogroup", "camera", NULL, 0, &s), 0, "%s", err.msg);
    cr_assert_null(s, "an absent group is an absent key");
    cr_assert_eq(pw_keyfile_int(&k, "lane a", "ocr_workers", 7, 1, 16, &i), 0);
    cr_assert_eq(i, 7);
    cr_assert_eq(pw_keyfile_double(&k, "lane a", "cost", 0.3, 0, 1, &d), 0);
    cr_assert_float_eq(d, 0.3, 1e-12);
    cr_assert_eq(pw_keyfile_bool(&k, "lane a", "loop", true, &b), 0);
    cr_assert(b);
    cr_assert_eq(err.code, 0, "no error recorded: %s", err.msg);
}

Test(keyfile, required_missing_key_names_path_group_and_key)
{
    load("[lane a]\nsource = x\n");
    char *s = (char *)"untouched";
    cr_assert_eq(pw_keyfile_string(&k, "lane a", "publish", NULL, PW_KEYFILE_REQUIRED, &s),
                 PW_ECONFIG);
    cr_assert_eq(err.code, PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [lane a] publish: missing (required)");
    cr_assert_str_eq(s, "untouched", "*out is left alone on error");
}

Test(keyfile, empty_value_is_an_error_unless_asked_to_count_as_absent)
{
    load("[g]\nname =\nn =   \nflag =\n");
    char *s = NULL;
    int i = 5;
    bool b = true;
    cr_assert_eq(pw_keyfile_string(&k, "g", "name", "def", 0, &s), PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [g] name: empty value");
    cr_assert_eq(pw_keyfile_int(&k, "g", "n", 1, 0, 10, &i), PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [g] n: empty value", "blanks only are empty too");
    cr_assert_eq(i, 5);
    cr_assert_eq(pw_keyfile_bool(&k, "g", "flag", false, &b), PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [g] flag: empty value");

    cr_assert_eq(pw_keyfile_string(&k, "g", "name", "def", PW_KEYFILE_EMPTY_IS_ABSENT, &s), 0);
    cr_assert_str_eq(s, "def");
    g_free(s);
    cr_assert_eq(pw_keyfile_string(&k, "g", "name", NULL,
                                   PW_KEYFILE_EMPTY_IS_ABSENT | PW_KEYFILE_REQUIRED, &s),
                 PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [g] name: missing (required)");
}

Test(keyfile, int_must_be_a_whole_number_in_range)
{
    load("[g]\nlow = 0\nhigh = 17\nword = ten\nfrac = 3.5\nok = 16\nneg = -3\n");
    int i = 42;
    cr_assert_eq(pw_keyfile_int(&k, "g", "high", 1, 1, 16, &i), PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [g] high: expected a whole number from 1 to 16, got \"17\"");
    cr_assert_eq(pw_keyfile_int(&k, "g", "low", 1, 1, 16, &i), PW_ECONFIG);
    cr_assert(strstr(err.msg, "[g] low: expected a whole number from 1 to 16"), "%s", err.msg);
    cr_assert_eq(pw_keyfile_int(&k, "g", "word", 1, 1, 16, &i), PW_ECONFIG);
    cr_assert(strstr(err.msg, "[g] word: expected a whole number from 1 to 16"), "%s", err.msg);
    cr_assert_eq(pw_keyfile_int(&k, "g", "frac", 1, 1, 16, &i), PW_ECONFIG);
    cr_assert(strstr(err.msg, "[g] frac: expected a whole number"), "%s", err.msg);
    cr_assert_eq(i, 42, "*out is left alone on error");
    cr_assert_eq(pw_keyfile_int(&k, "g", "ok", 1, 1, 16, &i), 0, "%s", err.msg);
    cr_assert_eq(i, 16, "the bounds are inclusive");
    cr_assert_eq(pw_keyfile_int(&k, "g", "neg", 0, -5, 5, &i), 0, "%s", err.msg);
    cr_assert_eq(i, -3);
}

Test(keyfile, double_must_be_a_number_in_range)
{
    load("[t]\nover = 1.5\nunder = -0.1\nnan = nan\nword = high\nok = 0.25\ntail = 0.5x\n");
    double d = 9;
    cr_assert_eq(pw_keyfile_double(&k, "t", "over", 0.6, 0, 1, &d), PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [t] over: expected a number from 0 to 1, got \"1.5\"");
    cr_assert_eq(pw_keyfile_double(&k, "t", "under", 0.6, 0, 1, &d), PW_ECONFIG);
    cr_assert(strstr(err.msg, "[t] under: expected a number from 0 to 1"), "%s", err.msg);
    cr_assert_eq(pw_keyfile_double(&k, "t", "nan", 0.6, -INFINITY, INFINITY, &d), PW_ECONFIG,
                 "NaN is in no range");
    cr_assert_eq(pw_keyfile_double(&k, "t", "tail", 0.6, 0, 1, &d), PW_ECONFIG, "trailing junk");
    cr_assert_eq(pw_keyfile_double(&k, "t", "word", 0.6, -INFINITY, INFINITY, &d), PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [t] word: expected a number, got \"high\"");
    cr_assert_float_eq(d, 9, 1e-12, "*out is left alone on error");
    cr_assert_eq(pw_keyfile_double(&k, "t", "ok", 0.6, 0, 1, &d), 0, "%s", err.msg);
    cr_assert_float_eq(d, 0.25, 1e-12);
}

Test(keyfile, bool_takes_true_false_yes_no_1_0_and_refuses_anything_else)
{
    load("[e]\na = TRUE\nb = no\nc = 1\nd = False\ne = maybe\nf = 2\n");
    bool b = false;
    cr_assert_eq(pw_keyfile_bool(&k, "e", "a", false, &b), 0, "%s", err.msg);
    cr_assert(b);
    cr_assert_eq(pw_keyfile_bool(&k, "e", "b", true, &b), 0, "%s", err.msg);
    cr_assert_not(b);
    cr_assert_eq(pw_keyfile_bool(&k, "e", "c", false, &b), 0, "%s", err.msg);
    cr_assert(b);
    cr_assert_eq(pw_keyfile_bool(&k, "e", "d", true, &b), 0, "%s", err.msg);
    cr_assert_not(b);
    cr_assert_eq(pw_keyfile_bool(&k, "e", "e", false, &b), PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [e] e: expected true or false, got \"maybe\"");
    cr_assert_eq(pw_keyfile_bool(&k, "e", "f", false, &b), PW_ECONFIG);
    cr_assert(strstr(err.msg, "[e] f: expected true or false"), "%s", err.msg);
}

Test(keyfile, strings_are_stripped_of_surrounding_blanks)
{
    /* \s and \t are GLib escapes that survive its own parsing, so only our strip removes them. */
    load("[g]\nname = \\s\\t padded value \\t\\s\nnum = \\s 12\\t\n");
    char *s = NULL;
    int i = 0;
    cr_assert_eq(pw_keyfile_string(&k, "g", "name", NULL, 0, &s), 0, "%s", err.msg);
    cr_assert_str_eq(s, "padded value", "inner blanks stay, outer ones go");
    g_free(s);
    cr_assert_eq(pw_keyfile_int(&k, "g", "num", 0, 0, 100, &i), 0, "%s", err.msg);
    cr_assert_eq(i, 12);
}

Test(keyfile, a_malformed_value_is_an_error_not_an_absent_key)
{
    load("[g]\nescape = bad\\qescape\nutf8 = a\xff\xfe b\n");
    char *s = NULL;
    cr_assert_eq(pw_keyfile_string(&k, "g", "escape", "def", 0, &s), PW_ECONFIG);
    cr_assert_null(s);
    cr_assert(g_str_has_prefix(err.msg, "site.conf: [g] escape: "), "%s", err.msg);
    int i = 0;
    cr_assert_eq(pw_keyfile_int(&k, "g", "utf8", 3, 0, 10, &i), PW_ECONFIG);
    cr_assert_eq(i, 0, "not the default");
    cr_assert(g_str_has_prefix(err.msg, "site.conf: [g] utf8: "), "%s", err.msg);
}

Test(keyfile, bad_formats_the_reason_and_accepts_a_null_err)
{
    load("[g]\n");
    cr_assert_eq(pw_keyfile_bad(&k, "g", "roi", "expected %d numbers", 4), PW_ECONFIG);
    cr_assert_str_eq(err.msg, "site.conf: [g] roi: expected 4 numbers");
    pw_keyfile quiet = {kf, "site.conf", NULL};
    char *s = NULL;
    cr_assert_eq(pw_keyfile_string(&quiet, "g", "x", NULL, PW_KEYFILE_REQUIRED, &s), PW_ECONFIG);
}
