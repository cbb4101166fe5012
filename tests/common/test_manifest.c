/* The manifest reader: good rows, crop rows, and malformed rows named by line. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

static gchar *write_temp(const char *text)
{
    gchar *path = NULL;
    int fd = g_file_open_tmp("pw-manifest-XXXXXX.csv", &path, NULL);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

Test(manifest, reads_boxes_crops_and_sets)
{
    gchar *path = write_temp("image,plate_text,x,y,w,h,country,set\n"
                             "eu/a.jpg,ab123,10,20,100,25,EU,eu\n"
                             "\n"
                             "us-crops/b.png,XYZ9,,,,,US,us-crops\n");
    pw_manifest *m = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_manifest_load(path, &m, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_manifest_count(m), 2);
    const pw_manifest_row *a = pw_manifest_row_at(m, 0), *b = pw_manifest_row_at(m, 1);
    cr_assert_str_eq(a->plate, "AB123");
    cr_assert(a->has_box);
    cr_assert_eq(a->box.w, 100);
    cr_assert(g_str_has_suffix(a->image, "/eu/a.jpg"));
    cr_assert_eq(a->line, 2);
    cr_assert_not(b->has_box);
    cr_assert_str_eq(b->set, "us-crops");
    cr_assert_eq(b->line, 4);
    pw_manifest_filter_sets(m, "us-crops");
    cr_assert_eq(pw_manifest_count(m), 1);
    cr_assert_str_eq(pw_manifest_row_at(m, 0)->plate, "XYZ9");
    pw_manifest_destroy(&m);
    cr_assert_null(m);
    g_unlink(path);
    g_free(path);
}

Test(manifest, malformed_rows_name_file_and_line)
{
    const char *bad[] = {
        "image,plate_text,x,y,w,h,country,set\nok.jpg,AB1,1,2,3,4,FR,fr\nshort.jpg,AB1,1,2\n",
        "image,plate_text,x,y,w,h,country,set\nok.jpg,AB1,1,2,3,4,FR,fr\nbox.jpg,AB1,1,two,3,4,FR,fr\n",
        "image,plate_text,x,y,w,h,country,set\nok.jpg,AB1,1,2,3,4,FR,fr\nhalf.jpg,AB1,1,2,,,FR,fr\n",
        "image,plate_text,x,y,w,h,country,set\nok.jpg,AB1,1,2,3,4,FR,fr\nneg.jpg,AB1,-1,2,3,4,FR,fr\n",
        "image,plate_text,x,y,w,h,country,set\nok.jpg,AB1,1,2,3,4,FR,fr\n,AB1,1,2,3,4,FR,fr\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        gchar *path = write_temp(bad[i]);
        pw_manifest *m = NULL;
        pw_err err = {0};
        cr_assert_eq(pw_manifest_load(path, &m, &err), PW_EMANIFEST, "case %zu", i);
        cr_assert_null(m);
        gchar *where = g_strdup_printf("%s:3:", path);
        cr_assert(strstr(err.msg, where) != NULL, "case %zu: %s", i, err.msg);
        g_free(where);
        g_unlink(path);
        g_free(path);
    }
}

Test(manifest, missing_file_is_named)
{
    pw_manifest *m = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_manifest_load("/nonexistent/manifest.csv", &m, &err), -ENOENT);
    cr_assert(strstr(err.msg, "/nonexistent/manifest.csv") != NULL);
}

/* Found by fuzz-manifest: an empty file read past the end of its line list. */
Test(manifest, empty_file_is_refused_with_a_reason)
{
    gchar *path = write_temp("");
    pw_manifest *m = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_manifest_load(path, &m, &err), PW_EMANIFEST);
    cr_assert_null(m);
    cr_assert(strstr(err.msg, "empty file"), "%s", err.msg);
    g_unlink(path);
    g_free(path);
}
