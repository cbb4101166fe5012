/*
 * test_store.c - the declarations store: commands and CSV/JSON import, and
 * files that cannot be imported, refused with a sentence naming the file,
 * the line (or element) and the fault, by pw_declstore_import() and by
 * `platewatch-gate import`, never a crash (json-glib recursion).
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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
    cr_assert_null(st);
    pw_declstore_destroy(&st);    /* NULL is accepted */
    g_ptr_array_unref(rejects);
    gt_rmdir(dir);
}

static void on_reject(const char *file, long line, const char *reason, void *user)
{
    (void)file;
    g_ptr_array_add(user, g_strdup_printf("%ld: %s", line, reason));
}

static char *write_file(const char *name, const char *text)
{
    char *path = g_build_filename(dir, name, NULL);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void assert_reject(guint i, const char *prefix, const char *needle)
{
    cr_assert_lt(i, rejects->len, "only %u rejects", rejects->len);
    const char *r = rejects->pdata[i];
    cr_assert(g_str_has_prefix(r, prefix), "reject %u is \"%s\", want line %s", i, r, prefix);
    cr_assert(strstr(r, needle), "reject %u is \"%s\", want \"%s\" in it", i, r, needle);
}

TestSuite(store, .init = setup, .fini = teardown);

static const char good_csv[] =
    "reference,vehicle_plate,trailer_plate,country,site,lane,window_start,window_end,status\n"
    "MRN1,AB12 CDE,XY99ZZ,GB,dover,l03,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,active\n"
    "MRN2,\"FR-123-AB\",,FR,,,2025-03-01T10:00:00+01:00,2025-03-01T14:00:00Z,\n"
    "\"MRN,\"\"3\"\"\",\"ZZ 1\",,,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,\n";

Test(store, csv_malformed_rows_named_by_line)
{
    char *path = write_file("d.csv",
        "reference,vehicle_plate,trailer_plate,country,site,lane,window_start,window_end,status\n"
        "MRN1,AB12CDE,,GB,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,\n"
        "MRN2,AB12!CDE,,GB,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,\n"
        "MRN3,AB12CDE,,GB,,,2025-03-01,2025-03-01T14:00:00Z,\n"
        "MRN4,AB12CDE,,GB,,\n"
        "MRN1,AB12CDE,,GB,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,\n"
        "MRN5,AB12CDE,,GBR,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,\n"
        "MRN6,AB12CDE,,GB,,,2025-03-01T14:00:00Z,2025-03-01T10:00:00Z,\n"
        "MRN7,AB12CDE,,GB,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,maybe\n"
        "\"MRN8,AB12CDE,,GB,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,\n"
        ",AB12CDE,,GB,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,\n"
        "MRN9,AB12CDE,,GB,,,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z,\n");
    pw_import_report rep;
    pw_err err = {0};
    int rc = pw_declstore_import(st, path, PW_IMPORT_AUTO, on_reject, rejects, &rep, &err);
    cr_assert_eq(rc, PW_EIMPORT, "rc %d: %s", rc, err.msg);
    cr_assert_eq(rep.rows, 11);
    cr_assert_eq(rep.inserted, 2);
    cr_assert_eq(rep.rejected, 9);
    assert_reject(0, "3: ", "vehicle_plate \"AB12!CDE\"");
    assert_reject(1, "4: ", "window_start");
    assert_reject(2, "5: ", "6 fields where the header has 9");
    assert_reject(3, "6: ", "MRN1 is repeated (first at line 2)");
    assert_reject(4, "7: ", "country");
    assert_reject(5, "8: ", "window_end is before window_start");
    assert_reject(6, "9: ", "status \"maybe\"");
    assert_reject(7, "10: ", "quote");
    assert_reject(8, "11: ", "reference is empty");
    cr_assert_eq(pw_declstore_count(st), 2);
    g_free(path);
}

Test(store, csv_reimport_is_idempotent)
{
    char *path = write_file("d.csv", good_csv);
    pw_import_report rep;
    pw_err err = {0};
    cr_assert_eq(pw_declstore_import(st, path, PW_IMPORT_CSV, on_reject, rejects, &rep, &err),
                 0, "%s", err.msg);
    cr_assert_eq(rep.inserted, 3);
    cr_assert_eq(pw_declstore_import(st, path, PW_IMPORT_CSV, on_reject, rejects, &rep, &err),
                 0, "%s", err.msg);
    cr_assert_eq(rep.inserted, 0);
    cr_assert_eq(rep.unchanged, 3);
    cr_assert_eq(pw_declstore_count(st), 3);
    pw_decl d;
    cr_assert_eq(pw_declstore_get(st, "MRN,\"3\"", &d, &err), 0, "%s", err.msg);
    cr_assert_str_eq(d.vehicle_plate, "ZZ1", "a quoted plate is normalised");
    cr_assert_eq(pw_declstore_get(st, "MRN2", &d, &err), 0);
    cr_assert_str_eq(d.vehicle_plate, "FR123AB");
    cr_assert_eq(d.window_start_us, INT64_C(1740819600) * G_USEC_PER_SEC, "+01:00 zone");
    g_free(path);
}

Test(store, csv_bad_header_imports_nothing)
{
    char *path = write_file("d.csv", "reference,plate,window_start,window_end\n"
                                     "MRN1,AB12CDE,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z\n");
    pw_err err = {0};
    cr_assert_eq(pw_declstore_import(st, path, PW_IMPORT_CSV, NULL, NULL, NULL, &err),
                 PW_EIMPORT);
    cr_assert(strstr(err.msg, ":1: header column 2 \"plate\" is unknown"), "%s", err.msg);
    cr_assert_eq(pw_declstore_count(st), 0);
    g_free(path);
}

Test(store, json_array_and_lines)
{
    char *arr = write_file("d.json",
        "[{\"reference\":\"J1\",\"vehicle_plate\":\"AB12CDE\",\"country\":\"GB\","
        "\"window_start\":\"2025-03-01T10:00:00Z\",\"window_end\":\"2025-03-01T14:00:00Z\"},"
        " {\"reference\":\"J2\",\"vehicle_plate\":\"AB12CDE\"},"
        " {\"reference\":\"J1\",\"vehicle_plate\":\"AB12CDE\","
        "\"window_start\":\"2025-03-01T10:00:00Z\",\"window_end\":\"2025-03-01T14:00:00Z\"},"
        " 42,"
        " {\"reference\":\"J3\",\"vehicle_plate\":[1],\"window_start\":\"x\","
        "\"window_end\":\"y\"}]");
    pw_import_report rep;
    pw_err err = {0};
    cr_assert_eq(pw_declstore_import(st, arr, PW_IMPORT_AUTO, on_reject, rejects, &rep, &err),
                 PW_EIMPORT);
    cr_assert_eq(rep.inserted, 1);
    assert_reject(0, "1: ", "member \"window_start\" is missing");
    assert_reject(1, "2: ", "J1 is repeated (first at element 0)");
    assert_reject(2, "3: ", "not a JSON object");
    assert_reject(3, "4: ", "member \"vehicle_plate\" is not a string");

    g_ptr_array_set_size(rejects, 0);
    char *lines = write_file("d.jsonl",
        "{\"reference\":\"L1\",\"vehicle_plate\":\"XY99ZZ\",\"trailer_plate\":\"TR 1\","
        "\"window_start\":\"2025-03-01T10:00:00Z\",\"window_end\":\"2025-03-01T14:00:00Z\"}\n"
        "{\"reference\":\"L2\",\n"
        "\n"
        "{\"reference\":\"J1\",\"vehicle_plate\":\"AB12CDF\",\"country\":\"GB\","
        "\"window_start\":\"2025-03-01T10:00:00Z\",\"window_end\":\"2025-03-01T14:00:00Z\"}\n");
    cr_assert_eq(pw_declstore_import(st, lines, PW_IMPORT_JSON, on_reject, rejects, &rep, &err),
                 PW_EIMPORT);
    cr_assert_eq(rep.inserted, 1);
    cr_assert_eq(rep.updated, 1, "J1 changed its plate");
    assert_reject(0, "2: ", "not JSON");
    g_free(arr);
    g_free(lines);
}

static int count_cb(const pw_decl *d, void *user)
{
    (void)d;
    (*(int *)user)++;
    return 0;
}

Test(store, add_amend_cancel_and_reindex)
{
    gt_add(st, "R1", "AB12CDE", NULL, "GB", NULL);
    pw_decl d;
    pw_err err = {0};
    cr_assert_eq(pw_declstore_add(st, &(pw_decl){.reference = "R1", .vehicle_plate = "X1"},
                                  &err), -EEXIST);
    cr_assert_eq(pw_declstore_get(st, "R1", &d, &err), 0);
    strcpy(d.vehicle_plate, "ZZ99QQQ");
    cr_assert_eq(pw_declstore_amend(st, &d, &err), 0, "%s", err.msg);
    int n = 0;
    cr_assert_eq(pw_declstore_list(st, "AB12CDE", count_cb, &n, &err), 0);
    cr_assert_eq(n, 0, "the old plate must no longer be indexed");
    cr_assert_eq(pw_declstore_list(st, "2Z99QQQ", count_cb, &n, &err), 0);
    cr_assert_eq(n, 1, "the new plate is found, with a confusion");
    cr_assert_eq(pw_declstore_cancel(st, "R1", &err), 0);
    cr_assert_eq(pw_declstore_get(st, "R1", &d, &err), 0);
    cr_assert_eq(d.status, PW_DECL_CANCELLED);
    cr_assert_eq(pw_declstore_cancel(st, "nope", &err), -ENOENT);
    cr_assert(strstr(err.msg, "nope"));
    strcpy(d.reference, "R9");
    cr_assert_eq(pw_declstore_amend(st, &d, &err), -ENOENT);
    d.window_end_us = d.window_start_us - 1;
    cr_assert_eq(pw_declstore_add(st, &d, &err), -EINVAL);
}

Test(store, csv_splitter)
{
    char line[] = "a,\"b,c\",\"d\"\"e\",,f";
    char *f[8];
    cr_assert_eq(pw_csv_split(line, f, 8), 5);
    cr_assert_str_eq(f[1], "b,c");
    cr_assert_str_eq(f[2], "d\"e");
    cr_assert_str_eq(f[3], "");
    char bad1[] = "a,\"b", bad2[] = "a,b\"c", bad3[] = "\"a\"b";
    cr_assert_eq(pw_csv_split(bad1, f, 8), -1);
    cr_assert_eq(pw_csv_split(bad2, f, 8), -1);
    cr_assert_eq(pw_csv_split(bad3, f, 8), -1);
}

/* ---- Files that cannot be imported: named with file, line and fault (issue 14, item 5) ---- */

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

Test(store, cli_names_a_misspelt_header_column)
{
    static const char text[] = "referense,vehicle_plate,window_start,window_end\n"
                               "MRN1,AB12CDE,2025-03-01T10:00:00Z,2025-03-01T14:00:00Z\n";
    assert_cli_says("h.csv", text, strlen(text), ":1: header column 1 \"referense\" is unknown");
}

Test(store, cli_names_an_empty_file)
{
    assert_cli_says("e.csv", "", 0, ": empty file");
    assert_cli_says("e.json", " \n", 2, ": empty file");
}

Test(store, cli_names_random_bytes)
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

Test(store, cli_names_truncated_json_with_line_and_column)
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

Test(store, deeply_nested_array_is_refused_not_a_crash)
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

Test(store, deeply_nested_json_line_is_one_rejected_row)
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

Test(store, csv_row_with_nul_or_bad_utf8_is_rejected_by_line)
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
