/*
 * The video benchmark's ground-truth reader and its scoring, on small
 * hand-written truth files and reads: exact, within one edit, missed and
 * false vehicles, frame-level counts, and line-numbered errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "video.h"

static gchar *tmpdir;

static void setup(void)
{
    tmpdir = g_dir_make_tmp("pw-bench-units-XXXXXX", NULL);
    cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
    gchar *argv[] = {"rm", "-rf", tmpdir, NULL};
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(tmpdir);
}

static gchar *write_file(const char *name, const char *text)
{
    gchar *path = g_build_filename(tmpdir, name, NULL);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static GHashTable *new_table(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
}

TestSuite(truth, .init = setup, .fini = teardown);

Test(truth, frames_and_timestamps_are_read)
{
    gchar *p = write_file("t.csv", "recording,plate_text,country,first_frame,last_frame,first_ms,last_ms\n"
                                   "a.webm,AB-123-CD,FR,20,49,800,1960\n"
                                   "a.webm,wx48213,PL,,,2800,3960\n"
                                   "b.webm,7FKM294,US,5,9\n");
    GHashTable *t = new_table();
    pw_err err = {0};
    cr_assert_eq(pw_vtruth_load(p, t, &err), 0, "%s", err.msg);
    GArray *a = g_hash_table_lookup(t, "a.webm");
    cr_assert_eq(a->len, 2);
    pw_vpassage *p0 = &g_array_index(a, pw_vpassage, 0), *p1 = &g_array_index(a, pw_vpassage, 1);
    cr_assert_str_eq(p0->plate, "AB123CD");
    cr_assert_eq(p0->first_frame, 20);
    cr_assert_eq(p0->last_ms, 1960);
    cr_assert_str_eq(p1->plate, "WX48213");
    cr_assert_eq(p1->first_frame, -1);
    cr_assert_eq(p1->first_ms, 2800);
    GArray *b = g_hash_table_lookup(t, "b.webm");
    cr_assert_eq(g_array_index(b, pw_vpassage, 0).last_frame, 9);
    g_hash_table_unref(t);
    g_free(p);
}

static void expect_error(const char *text, const char *needle)
{
    gchar *p = write_file("bad.csv", text);
    GHashTable *t = new_table();
    pw_err err = {0};
    cr_assert_eq(pw_vtruth_load(p, t, &err), PW_EMANIFEST, "accepted: %s", text);
    cr_assert(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
    cr_assert(strstr(err.msg, "bad.csv"), "message '%s' does not name the file", err.msg);
    g_hash_table_unref(t);
    g_free(p);
}

Test(truth, bad_lines_are_named)
{
    expect_error("image,plate\n", ":1:");
    expect_error("recording,plate_text,country,first_frame,last_frame\na.webm,AB1,FR,3\n", ":2:");
    expect_error("recording,plate_text,country,first_frame,last_frame\n\na.webm,AB1,FR,x,4\n", ":3:");
    expect_error("recording,plate_text,country,first_frame,last_frame\na.webm,AB1,FR,9,4\n", "ends before");
    expect_error("recording,plate_text,country,first_frame,last_frame,first_ms,last_ms\na.webm,AB1,FR,,,,\n",
                 "first_frame,last_frame or first_ms,last_ms");
    expect_error("recording,plate_text,country,first_frame,last_frame\na.webm,--,FR,1,4\n", "empty");
    /* Labels that would not fit a plate or a country code are refused, not cut. */
    expect_error("recording,plate_text,country,first_frame,last_frame\na.webm,ABCDEFGHIJ12345678,FR,1,4\n",
                 "more than 16 characters");
    expect_error("recording,plate_text,country,first_frame,last_frame\na.webm,AB123CD,FRANCE,1,4\n",
                 "longer than 3 characters");
}

Test(truth, boxes_give_heights)
{
    gchar *p = write_file("b.csv", "recording,frame,plate_text,x,y,w,h\na.webm,20,AB123CD,1,2,100,25\n"
                                   "other.webm,20,X,1,2,3,99\n");
    GHashTable *h = g_hash_table_new(g_direct_hash, g_direct_equal);
    pw_err err = {0};
    cr_assert_eq(pw_vboxes_load(p, "a.webm", h, &err), 0, "%s", err.msg);
    cr_assert_eq(GPOINTER_TO_INT(g_hash_table_lookup(h, GINT_TO_POINTER(20))), 25);
    cr_assert_eq(g_hash_table_size(h), 1);
    g_hash_table_unref(h);
    g_free(p);
}

static pw_vpassage passage(const char *plate, int first, int last)
{
    pw_vpassage p = {.first_frame = first, .last_frame = last, .first_ms = -1, .last_ms = -1};
    g_strlcpy(p.plate, plate, sizeof p.plate);
    return p;
}

static void add_final(GArray *finals, const char *text)
{
    pw_vfinal f = {.frames = 5};
    g_strlcpy(f.text, text, sizeof f.text);
    g_array_append_val(finals, f);
}

static void add_read(GArray *reads, uint64_t seq, const char *text)
{
    pw_vread r = {.seq = seq, .pts_ns = (int64_t)seq * 40000000};
    g_strlcpy(r.text, text, sizeof r.text);
    g_array_append_val(reads, r);
}

Test(score, vehicles_exact_one_edit_missed_false)
{
    pw_vrec rec = {.name = "a.webm", .passages = g_array_new(FALSE, FALSE, sizeof(pw_vpassage)),
                   .heights = g_hash_table_new(g_direct_hash, g_direct_equal)};
    pw_vpassage ps[] = {passage("AB123CD", 0, 3), passage("WX48213", 10, 13), passage("7FKM294", 20, 23)};
    g_array_append_vals(rec.passages, ps, 3);
    GArray *finals = g_array_new(FALSE, FALSE, sizeof(pw_vfinal));
    add_final(finals, "WX48218");  /* one edit from the second passage */
    add_final(finals, "AB123CD");  /* exact */
    add_final(finals, "ZZ999");    /* nothing like any passage */
    add_final(finals, "AB123CD");  /* the first vehicle reported twice: the copy is false */
    GArray *reads = g_array_new(FALSE, FALSE, sizeof(pw_vread));
    add_read(reads, 0, "AB123CD");
    add_read(reads, 1, "AB123CO");
    add_read(reads, 1, "AB123CD");
    add_read(reads, 11, "WX48213");
    add_read(reads, 30, "ZZ999");
    g_hash_table_insert(rec.heights, GINT_TO_POINTER(0), GINT_TO_POINTER(20));
    JsonObject *o = json_object_new(), *h = json_object_new();
    GHashTable *conf = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    pw_vscore_recording(&rec, reads, finals, o, h, conf);
    cr_assert_eq(json_object_get_int_member(o, "passages"), 3);
    cr_assert_eq(json_object_get_int_member(o, "exact"), 1);
    cr_assert_eq(json_object_get_int_member(o, "one_edit"), 2);
    cr_assert_eq(json_object_get_int_member(o, "missed"), 1);
    cr_assert_eq(json_object_get_int_member(o, "false_vehicles"), 2);
    cr_assert_eq(json_object_get_int_member(o, "truth_frames"), 12);
    cr_assert_eq(json_object_get_int_member(o, "frames_exact"), 3);
    cr_assert_eq(json_object_get_int_member(o, "reads_exact"), 3);
    cr_assert_eq(json_object_get_int_member(o, "reads_outside_passages"), 1);
    JsonArray *band = json_object_get_array_member(h, "16");
    cr_assert_not_null(band);
    cr_assert_eq(json_array_get_int_element(band, 0), 1);
    cr_assert_eq(json_array_get_int_element(band, 1), 1);
    JsonArray *c = pw_vscore_confusions(conf, 5);
    cr_assert_eq(json_array_get_length(c), 1);
    JsonObject *top = json_array_get_object_element(c, 0);
    cr_assert_str_eq(json_object_get_string_member(top, "truth"), "D");
    cr_assert_str_eq(json_object_get_string_member(top, "read"), "O");
    json_array_unref(c);
    json_object_unref(o), json_object_unref(h);
    g_hash_table_unref(conf);
    g_array_unref(finals), g_array_unref(reads), g_array_unref(rec.passages);
    g_hash_table_unref(rec.heights);
}

Test(score, timestamps_become_frames)
{
    pw_vrec rec = {.name = "a.webm", .passages = g_array_new(FALSE, FALSE, sizeof(pw_vpassage)),
                   .heights = g_hash_table_new(g_direct_hash, g_direct_equal)};
    pw_vpassage p = passage("AB123CD", -1, -1);
    p.first_ms = 400, p.last_ms = 520; /* frames 10 to 13 at 25 fps */
    g_array_append_val(rec.passages, p);
    GArray *finals = g_array_new(FALSE, FALSE, sizeof(pw_vfinal));
    GArray *reads = g_array_new(FALSE, FALSE, sizeof(pw_vread));
    add_read(reads, 11, "AB123CD");
    add_read(reads, 14, "AB123CD");
    JsonObject *o = json_object_new();
    GHashTable *conf = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    pw_vscore_recording(&rec, reads, finals, o, NULL, conf);
    cr_assert_eq(json_object_get_int_member(o, "truth_frames"), 4);
    cr_assert_eq(json_object_get_int_member(o, "frames_exact"), 1);
    cr_assert_eq(json_object_get_int_member(o, "reads_outside_passages"), 1);
    cr_assert_eq(json_object_get_int_member(o, "missed"), 1);
    json_object_unref(o);
    g_hash_table_unref(conf);
    g_array_unref(finals), g_array_unref(reads), g_array_unref(rec.passages);
    g_hash_table_unref(rec.heights);
}

Test(score, variant_keys_are_checked)
{
    pw_lane_config lc;
    pw_lane_config_defaults(&lc, "x");
    pw_err err = {0};
    cr_assert_eq(pw_vconfig_apply("simd=scalar, ocr_workers=2,final_after_ms=900", &lc, &err), 0, "%s", err.msg);
    cr_assert_eq(lc.detect.simd, PW_SIMD_SCALAR);
    cr_assert_eq(lc.ocr_workers, 2);
    cr_assert_eq(lc.tracker.final_after_ns, 900000000);
    cr_assert_eq(pw_vconfig_apply("colour=red", &lc, &err), PW_ECONFIG);
    cr_assert(strstr(err.msg, "unknown key 'colour'"), "%s", err.msg);
    cr_assert_eq(pw_vconfig_apply("voting=off", &lc, &err), PW_ECONFIG, "voting takes 0 or 1");
    cr_assert_eq(pw_vconfig_apply("voting=0", &lc, &err), 0, "%s", err.msg);
    cr_assert(lc.tracker.disable_voting);
    cr_assert_eq(pw_vconfig_apply("detector=haar", &lc, &err), 0, "%s", err.msg);
    cr_assert_not_null(lc.haar_cascade);
    cr_assert_eq(pw_vconfig_apply("detector=platewatch", &lc, &err), 0, "%s", err.msg);
    cr_assert_null(lc.haar_cascade);
    cr_assert_eq(pw_vconfig_apply("detector=yolo", &lc, &err), PW_ECONFIG);
    cr_assert_eq(pw_vconfig_apply("ocr_workers=0", &lc, &err), PW_ECONFIG);
    cr_assert(strstr(err.msg, "ocr_workers=0"), "%s", err.msg);
    cr_assert_eq(pw_vconfig_apply("simd", &lc, &err), PW_ECONFIG);
}
