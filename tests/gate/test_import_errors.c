/*
 * test_import_errors.c - declaration files that cannot be imported are
 * refused with a sentence naming the file, the line (or element) and what
 * was wrong, both by pw_declstore_import() and by `platewatch-gate import`,
 * and nothing in them crashes the import (json-glib recursion).
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static char *dir;
static pw_declstore *st;
static GPtrArray *rejects;

static void setup(void)
{
    dir = gt_tmpdir();
    char *path = g_build_filename(dir, "store.db", NULL);
    pw_err err = {0};
    cr_assert_eq(pw_declstore_new(path, &st, &err), 0, "%s", err.msg);
    g_free(path);
    rejects = g_ptr_array_new_with_free_func(g_free);
}

static void teardown(void)
{
    pw_declstore_destroy(&st);
    g_ptr_array_unref(rejects);
    gt_rmdir(dir);
}

TestSuite(import_errors, .init = setup, .fini = teardown);

static void on_reject(const char *file, long line, const char *reason, void *user)
{
    (void)file;
    g_ptr_array_add(user, g_strdup_printf("%ld: %s", line, reason));
}

static char *write_bytes(const char *name, const void *data, size_t len)
{
    char *path = g_build_filename(dir, name, NULL);
    cr_assert(g_file_set_contents(path, data, (gssize)len, NULL));
    return path;
}

/* "{"a":" depth times, then 1 and the closing braces; with_array wraps it in [ ]. */
static char *nested(int depth, bool with_array)
{
    GString *s = g_string_new(with_array ? "[" : "");
    for (int i = 0; i < depth; i++)
        g_string_append(s, "{\"a\":");
    g_string_append_c(s, '1');
    for (int i = 0; i < depth; i++)
        g_string_append_c(s, '}');
    g_string_append(s, with_array ? "]\n" : "\n");
    return g_string_free(s, FALSE);
}

/* Runs platewatch-gate import on path; returns the exit status and stderr (g_free). */
static int run_import(const char *path, char **errout)
{
    char *store = g_build_filename(dir, "cli.db", NULL);
    char *argv[] = {PW_GATE_EXE, "--store", store, "import", (char *)path, NULL};
    int status = 0;
    GError *gerr = NULL;
    cr_assert(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                           errout, &status, &gerr), "%s", gerr ? gerr->message : "");
    g_free(store);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void assert_cli_says(const char *name, const void *data, size_t len, const char *want)
{
    char *path = write_bytes(name, data, len);
    char *err = NULL;
    int rc = run_import(path, &err);
    cr_assert_eq(rc, 1, "%s: exit %d, stderr: %s", name, rc, err);
    char *full = g_strdup_printf("%s%s", path, want);
    cr_assert(strstr(err, full), "%s: stderr does not say \"%s\":\n%s", name, full, err);
    g_free(full);
    g_free(err);
    g_free(path);
}

Test(import_errors, cli_names_a_misspelt_header_column)
{
    static const char text[] = "referense,vehicle_plate,window_start,window_end\n"
                               "MRN1,AB12CDE,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z\n";
    assert_cli_says("h.csv", text, strlen(text), ":1: header column 1 \"referense\" is unknown");
}

Test(import_errors, cli_names_an_empty_file)
{
    assert_cli_says("e.csv", "", 0, ": empty file");
    assert_cli_says("e.json", " \n", 2, ": empty file");
}

Test(import_errors, cli_names_random_bytes)
{
    /* Fixed bytes that are neither text nor UTF-8, as a copied binary would be. */
    uint8_t junk[256];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 167u + 13u);
    assert_cli_says("r.csv", junk, sizeof junk, ":1: the header is unusable");
    char *path = write_bytes("r.json", junk, sizeof junk);
    char *err = NULL;
    cr_assert_eq(run_import(path, &err), 1);
    cr_assert(strstr(err, "r.json:1: rejected: not JSON"), "%s", err);
    cr_assert(strstr(err, "rows rejected"), "the file's summary is printed too: %s", err);
    g_free(err);
    g_free(path);
}

Test(import_errors, cli_names_truncated_json_with_line_and_column)
{
    static const char text[] = "[{\"reference\":\"J1\",\n\"vehicle_plate\":\"AB1";
    assert_cli_says("t.json", text, strlen(text), ":2:");
    char *path = write_bytes("t2.json", text, strlen(text));
    char *err = NULL;
    run_import(path, &err);
    cr_assert(strstr(err, "not JSON"), "%s", err);
    cr_assert(!strstr(err, "<data>"), "json-glib's placeholder name is replaced: %s", err);
    g_free(err);
    g_free(path);
}

Test(import_errors, deeply_nested_array_is_refused_not_a_crash)
{
    char *text = nested(60000, true);
    char *path = write_bytes("deep.json", text, strlen(text));
    pw_err err = {0};
    pw_import_report rep;
    int rc = pw_declstore_import(st, path, PW_IMPORT_AUTO, on_reject, rejects, &rep, &err);
    cr_assert_eq(rc, PW_EIMPORT, "rc %d: %s", rc, err.msg);
    cr_assert(strstr(err.msg, "deep.json: line 1 column"), "%s", err.msg);
    cr_assert(strstr(err.msg, "nest deeper than"), "%s", err.msg);
    g_free(text);
    g_free(path);
}

Test(import_errors, deeply_nested_json_line_is_one_rejected_row)
{
    char *deep = nested(60000, false);
    char *text = g_strconcat(deep, "{\"reference\":\"L1\",\"vehicle_plate\":\"XY99ZZ\","
                             "\"window_start\":\"2025-03-01T10:00:00Z\","
                             "\"window_end\":\"2025-03-01T14:00:00Z\"}\n", NULL);
    char *path = write_bytes("deep.jsonl", text, strlen(text));
    pw_err err = {0};
    pw_import_report rep;
    int rc = pw_declstore_import(st, path, PW_IMPORT_JSON, on_reject, rejects, &rep, &err);
    cr_assert_eq(rc, PW_EIMPORT, "rc %d: %s", rc, err.msg);
    cr_assert_eq(rep.inserted, 1, "the good line after the deep one is imported");
    cr_assert_eq(rejects->len, 1);
    cr_assert(g_str_has_prefix(rejects->pdata[0], "1: not JSON: "), "%s",
              (char *)rejects->pdata[0]);
    cr_assert(strstr(rejects->pdata[0], "nest deeper"), "%s", (char *)rejects->pdata[0]);
    g_free(deep);
    g_free(text);
    g_free(path);
}

Test(import_errors, csv_row_with_nul_or_bad_utf8_is_rejected_by_line)
{
    static const char text[] =
        "reference,vehicle_plate,window_start,window_end\n"
        "MRN1,AB12CDE,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z\n"
        "MRN2\0X,AB12CDE,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z\n"
        "MRN\xff" "3,AB12CDE,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z\n";
    char *path = write_bytes("n.csv", text, sizeof text - 1);
    pw_err err = {0};
    pw_import_report rep;
    int rc = pw_declstore_import(st, path, PW_IMPORT_CSV, on_reject, rejects, &rep, &err);
    cr_assert_eq(rc, PW_EIMPORT, "rc %d: %s", rc, err.msg);
    cr_assert_eq(rep.inserted, 1);
    cr_assert_eq(rejects->len, 2);
    cr_assert(g_str_has_prefix(rejects->pdata[0], "3: ") && strstr(rejects->pdata[0], "NUL"),
              "%s", (char *)rejects->pdata[0]);
    cr_assert(g_str_has_prefix(rejects->pdata[1], "4: ") && strstr(rejects->pdata[1], "UTF-8"),
              "%s", (char *)rejects->pdata[1]);
    cr_assert(strstr(err.msg, "n.csv: 2 of 3 rows rejected"), "%s", err.msg);
    g_free(path);
}
