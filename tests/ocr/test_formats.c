/*
 * test_formats.c - the plate-format files of models/formats, their loader's
 * error reports, country lists, and matching with confusable correction and
 * choice among per-character alternatives.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "plateformat.h"
#include "pw_build_config.h"

static pw_formats *formats;

static void load_shipped(void)
{
    pw_err err;
    int rc = pw_formats_load_dir(PW_MODELS_DIR "/formats", &formats, &err);
    cr_assert_eq(rc, 0, "loading the shipped formats: %s", err.msg);
}

static void unload(void)
{
    pw_formats_destroy(&formats);
    cr_assert_null(formats);
}

TestSuite(formats, .init = load_shipped, .fini = unload);

Test(formats, every_required_country_is_shipped)
{
    static const char *required[] = {"FR", "DE", "NL", "BE", "PL", "CZ", "SK", "AT", "HU",
                                     "RO", "BG", "IT", "ES", "GB", "UA", "TR", "US", "BR"};
    for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
        int found = 0;
        for (size_t k = 0; k < pw_formats_country_count(formats); k++)
            found |= strcmp(pw_formats_country(formats, k), required[i]) == 0;
        cr_expect(found, "no format file for %s", required[i]);
    }
    cr_expect_null(pw_formats_country(formats, 1000));
}

static size_t parse(const char *list, char codes[][PW_COUNTRY_MAX], int *rc, pw_err *err)
{
    size_t n = 0;
    *rc = pw_formats_parse_countries(formats, list, codes, 32, &n, err);
    return n;
}

Test(formats, country_lists_are_parsed_case_insensitively)
{
    char codes[32][PW_COUNTRY_MAX];
    pw_err err;
    int rc;
    size_t n = parse("fr, De,NL", codes, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_assert_eq(n, 3);
    cr_expect_str_eq(codes[0], "FR");
    cr_expect_str_eq(codes[1], "DE");
    cr_expect_str_eq(codes[2], "NL");
}

Test(formats, regions_expand_to_their_countries)
{
    char codes[32][PW_COUNTRY_MAX];
    pw_err err;
    int rc;
    size_t n = parse("EU", codes, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect_geq(n, 13);
    int has_sk = 0, has_us = 0;
    for (size_t i = 0; i < n; i++) {
        has_sk |= strcmp(codes[i], "SK") == 0;
        has_us |= strcmp(codes[i], "US") == 0;
    }
    cr_expect(has_sk);
    cr_expect_not(has_us);
}

Test(formats, unknown_country_is_named)
{
    char codes[32][PW_COUNTRY_MAX];
    pw_err err;
    int rc;
    parse("FR,XQ", codes, &rc, &err);
    cr_expect_eq(rc, -ENOENT);
    cr_expect(strstr(err.msg, "XQ") != NULL, "message: %s", err.msg);
}

Test(formats, too_many_countries_is_an_error)
{
    char codes[2][PW_COUNTRY_MAX];
    size_t n = 0;
    cr_expect_eq(pw_formats_parse_countries(formats, "FR,DE,NL", codes, 2, &n, NULL), -E2BIG);
}

static int match(const char *reading, const char *list, pw_format_match *m)
{
    char codes[32][PW_COUNTRY_MAX];
    size_t n = 0;
    cr_assert_eq(pw_formats_parse_countries(formats, list, codes, 32, &n, NULL), 0);
    return pw_formats_match(formats, reading, (const char(*)[PW_COUNTRY_MAX])codes, n, m);
}

Test(formats, exact_readings_match_with_separators_ignored)
{
    pw_format_match m;
    cr_assert_eq(match("AB-123-CD", "FR", &m), 0);
    cr_expect_str_eq(m.text, "AB123CD");
    cr_expect_str_eq(m.country, "FR");
    cr_expect_str_eq(m.format, "SS-NNN-SS");
    cr_expect_eq(m.corrections, 0);
    cr_assert_eq(match("1234 AB 56", "FR", &m), 0);
    cr_expect_str_eq(m.text, "1234AB56");
    cr_assert_eq(match("HPM9362", "BR", &m), 0);
    cr_expect_str_eq(m.country, "BR");
    cr_assert_eq(match("ABC1D23", "BR", &m), 0);
    cr_assert_eq(match("1T4 3213", "CZ", &m), 0);
    cr_assert_eq(match("RK346AL", "SK", &m), 0);
    cr_assert_eq(match("B MW 1234E", "DE", &m), 0);
    cr_expect_str_eq(m.text, "BMW1234E");
}

Test(formats, confusables_are_corrected_where_the_slot_demands)
{
    pw_format_match m;
    /* Digit slots: O, I, Z, S, B, G, D and Q become digits. */
    cr_assert_eq(match("ABC10O4", "BR", &m), 0);
    cr_expect_str_eq(m.text, "ABC1004");
    cr_expect_eq(m.corrections, 1);
    cr_assert_eq(match("AB-IZ3-CD", "FR", &m), 0);
    cr_expect_str_eq(m.text, "AB123CD");
    cr_expect_eq(m.corrections, 2);
    cr_assert_eq(match("QDG55B8", "BR", &m), 0, "the format needing fewest corrections wins");
    cr_expect_str_eq(m.text, "QDG5588");
    /* Letter slots: digits become their look-alike letters. */
    cr_assert_eq(match("A8C1234", "BR", &m), 0);
    cr_expect_str_eq(m.text, "ABC1234");
    cr_assert_eq(match("5K-123-2G", "IT", &m), 0);
    cr_expect_str_eq(m.text, "SK123ZG");
}

Test(formats, generic_slots_correct_nothing)
{
    pw_format_match m;
    cr_assert_eq(match("WH0515", "US", &m), 0);
    cr_expect_str_eq(m.text, "WH0515");
    cr_expect_eq(m.corrections, 0);
    cr_assert_eq(match("WHO515", "US", &m), 0);
    cr_expect_str_eq(m.text, "WHO515");
}

Test(formats, the_first_listed_country_wins_a_tie)
{
    pw_format_match m;
    cr_assert_eq(match("AB123CD", "IT,FR", &m), 0);
    cr_expect_str_eq(m.country, "IT");
    cr_assert_eq(match("AB123CD", "FR,IT", &m), 0);
    cr_expect_str_eq(m.country, "FR");
}

Test(formats, no_match_reports_the_cleaned_reading)
{
    pw_format_match m;
    cr_expect_eq(match("he-llo", "FR", &m), PW_ENOPLATE);
    cr_expect_str_eq(m.text, "HELLO");
    cr_expect_str_eq(m.country, "");
    cr_expect_eq(match("", "FR", &m), PW_ENOPLATE);
    cr_expect_eq(pw_formats_match(formats, NULL, NULL, 0, &m), -EINVAL);
}

Test(formats, all_countries_are_tried_when_none_are_given)
{
    pw_format_match m;
    cr_assert_eq(pw_formats_match(formats, "HPM9362", NULL, 0, &m), 0);
    cr_expect_neq(m.country[0], '\0');
}

static pw_char_choices one(char c, float conf)
{
    return (pw_char_choices){.ch = {c}, .conf = {conf}, .n = 1};
}

static pw_char_choices two(char c, float conf, char alt, float alt_conf)
{
    return (pw_char_choices){.ch = {c, alt}, .conf = {conf, alt_conf}, .n = 2};
}

Test(formats, alternatives_fill_slots_their_best_choice_cannot)
{
    /* BR old format LLL-NNNN; the 4th position was read as 'A' with '4' second. */
    pw_char_choices pos[7] = {one('H', 95), one('P', 95), one('M', 95), two('A', 60, '4', 35),
                              one('3', 95), one('6', 95), one('2', 95)};
    char br[1][PW_COUNTRY_MAX] = {"BR"};
    pw_choice_match r[3];
    size_t n = 0;
    cr_assert_eq(pw_formats_match_choices(formats, pos, 7, (const char(*)[PW_COUNTRY_MAX])br, 1, 0, r, 3, &n), 0);
    cr_assert_geq(n, 1);
    cr_expect_str_eq(r[0].m.text, "HPM4362");
    cr_expect_eq(r[0].m.corrections, 0);
    cr_expect_float_eq(r[0].char_conf[3], 35.0f, 0.01f);
}

Test(formats, stray_positions_are_dropped_when_allowed)
{
    /* A frame line read as 'I' before a French SIV plate. */
    const char *text = "IAB123CD";
    pw_char_choices pos[8];
    for (int i = 0; i < 8; i++)
        pos[i] = one(text[i], i == 0 ? 40 : 95);
    char fr[1][PW_COUNTRY_MAX] = {"FR"};
    pw_choice_match r[3];
    size_t n = 0;
    cr_assert_eq(pw_formats_match_choices(formats, pos, 8, (const char(*)[PW_COUNTRY_MAX])fr, 1, 0, r, 3, &n), 0);
    cr_expect_eq(n, 0, "without dropping, 8 positions fit no French format");
    cr_assert_eq(pw_formats_match_choices(formats, pos, 8, (const char(*)[PW_COUNTRY_MAX])fr, 1, 1, r, 3, &n), 0);
    cr_assert_geq(n, 1);
    cr_expect_str_eq(r[0].m.text, "AB123CD");
    cr_expect_eq(r[0].dropped, 1);
    for (size_t i = 1; i < n; i++)
        cr_expect_geq(r[i].cost, r[0].cost, "results are sorted by cost");
}

Test(formats, bad_choice_arguments_are_refused)
{
    pw_char_choices bad = {.n = 0};
    pw_choice_match r[1];
    size_t n = 0;
    cr_expect_eq(pw_formats_match_choices(formats, &bad, 1, NULL, 0, 1, r, 1, &n), -EINVAL);
    cr_expect_eq(pw_formats_match_choices(formats, NULL, 3, NULL, 0, 1, r, 1, &n), -EINVAL);
    cr_expect_eq(pw_formats_match_choices(formats, &bad, 0, NULL, 0, 1, r, 1, &n), 0);
    cr_expect_eq(n, 0);
}

/* ---- Loader errors ------------------------------------------------------ */

static char *tmpdir;

static void make_tmpdir(void)
{
    tmpdir = g_dir_make_tmp("pw-formats-XXXXXX", NULL);
    cr_assert_not_null(tmpdir);
}

static void remove_tmpdir(void)
{
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    for (const char *name; d && (name = g_dir_read_name(d));) {
        char *p = g_build_filename(tmpdir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmpdir);
    g_free(tmpdir);
}

static void write_file(const char *name, const char *text, gssize len)
{
    char *p = g_build_filename(tmpdir, name, NULL);
    cr_assert(g_file_set_contents(p, text, len, NULL));
    g_free(p);
}

/* Loads tmpdir and checks that the error names the file, the line and the problem. */
static void expect_error(int code, const char *file_line, const char *problem)
{
    pw_formats *f = (pw_formats *)0x1;
    pw_err err;
    pw_err_clear(&err);
    int rc = pw_formats_load_dir(tmpdir, &f, &err);
    cr_expect_eq(rc, code, "rc %d (%s): %s", rc, pw_strerror(rc), err.msg);
    cr_expect_null(f);
    cr_expect(strstr(err.msg, file_line) != NULL, "'%s' not in: %s", file_line, err.msg);
    cr_expect(strstr(err.msg, problem) != NULL, "'%s' not in: %s", problem, err.msg);
}

TestSuite(format_files, .init = make_tmpdir, .fini = remove_tmpdir);

Test(format_files, a_good_file_loads)
{
    write_file("XX.fmt", "# test\ncountry XX\nname Test\nregion ZZ\nclass V [AEIOU]\nformat VNN-L{1,2}  # x\n", -1);
    pw_formats *f = NULL;
    pw_err err;
    cr_assert_eq(pw_formats_load_dir(tmpdir, &f, &err), 0, "%s", err.msg);
    cr_expect_eq(pw_formats_country_count(f), 1);
    cr_expect_str_eq(pw_formats_country_name(f, 0), "Test");
    pw_format_match m;
    cr_expect_eq(pw_formats_match(f, "A12-BC", NULL, 0, &m), 0);
    cr_expect_eq(pw_formats_match(f, "B12-BC", NULL, 0, &m), PW_ENOPLATE, "B is not in class V");
    char codes[4][PW_COUNTRY_MAX];
    size_t n = 0;
    cr_expect_eq(pw_formats_parse_countries(f, "zz", codes, 4, &n, NULL), 0);
    cr_expect_eq(n, 1);
    pw_formats_destroy(&f);
    pw_formats_destroy(&f);
}

Test(format_files, unknown_keyword)
{
    write_file("XX.fmt", "country XX\n\nformatt LL\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:3:", "unknown keyword");
}

Test(format_files, unknown_slot_letter)
{
    write_file("XX.fmt", "country XX\nformat LL-NN\nformat LX-NN\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:3:", "unknown slot letter");
}

Test(format_files, unclosed_set)
{
    write_file("XX.fmt", "country XX\nformat [A-C\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:2:", "closing");
}

Test(format_files, reversed_range)
{
    write_file("XX.fmt", "country XX\nformat [C-A]NN\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:2:", "character set");
}

Test(format_files, bad_repeat_count)
{
    write_file("XX.fmt", "country XX\nformat L{3,1}\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:2:", "repeat count");
    write_file("XX.fmt", "country XX\nformat L{x}\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:2:", "repeat count");
}

Test(format_files, too_long_pattern)
{
    write_file("XX.fmt", "country XX\nformat N{9}L{9}\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:2:", "longer than 16");
}

Test(format_files, bad_country_code)
{
    write_file("XX.fmt", "country france\nformat LL\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:1:", "country code");
}

Test(format_files, keyword_without_value)
{
    write_file("XX.fmt", "country XX\nformat\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt:2:", "no value");
}

Test(format_files, missing_country_or_format)
{
    write_file("XX.fmt", "format LL\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt", "no 'country' line");
    write_file("XX.fmt", "country XX\n", -1);
    expect_error(PW_EFORMATFILE, "XX.fmt", "no 'format' line");
}

Test(format_files, duplicate_country)
{
    write_file("A.fmt", "country XX\nformat LL\n", -1);
    write_file("B.fmt", "country XX\nformat NN\n", -1);
    expect_error(PW_EFORMATFILE, ".fmt", "another file");
}

Test(format_files, binary_file)
{
    write_file("XX.fmt", "country XX\n\0\1\2format", 20);
    expect_error(PW_EFORMATFILE, "XX.fmt", "not a text file");
}

Test(format_files, empty_folder)
{
    expect_error(-ENOENT, tmpdir, "no plate-format");
}

Test(format_files, missing_folder)
{
    pw_formats *f = NULL;
    pw_err err;
    cr_expect_eq(pw_formats_load_dir("/nonexistent/formats", &f, &err), -ENOENT);
    cr_expect(strstr(err.msg, "/nonexistent/formats") != NULL, "%s", err.msg);
    cr_expect_null(f);
}
