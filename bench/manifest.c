#define _POSIX_C_SOURCE 200809L
#include "manifest.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

struct pw_manifest {
    GArray *rows; /* of pw_manifest_row */
};

enum { COL_IMAGE, COL_PLATE, COL_X, COL_Y, COL_W, COL_H, COL_COUNTRY, COL_SET, N_COLS };

static void row_clear(gpointer p)
{
    pw_manifest_row *r = p;
    g_free(r->image);
    g_free(r->plate);
    g_free(r->country);
    g_free(r->set);
}

static int parse_int(const char *s, int *out)
{
    gint64 v;
    if (!g_ascii_string_to_signed(s, 10, 0, PW_MAX_IMAGE_SIDE * 4, &v, NULL))
        return -1;
    *out = (int)v;
    return 0;
}

/* Reads the four box fields: all empty (crop row) or all non-negative integers. */
static int parse_box(char **f, pw_manifest_row *row)
{
    int empty = 0;
    for (int i = COL_X; i <= COL_H; i++)
        empty += f[i][0] == '\0';
    if (empty == 4) {
        row->has_box = 0;
        return 0;
    }
    if (empty || parse_int(f[COL_X], &row->box.x) || parse_int(f[COL_Y], &row->box.y) ||
        parse_int(f[COL_W], &row->box.w) || parse_int(f[COL_H], &row->box.h))
        return -1;
    row->has_box = 1;
    return 0;
}

static int parse_row(const char *path, const char *dir, char *line, int lineno, pw_manifest_row *row,
                     pw_err *err)
{
    g_strchomp(line);
    gchar **f = g_strsplit(line, ",", -1);
    int rc = 0;
    if (g_strv_length(f) != N_COLS)
        rc = pw_err_set(err, PW_EMANIFEST, "%s:%d: expected %d comma-separated fields, found %u", path,
                        lineno, N_COLS, g_strv_length(f));
    else if (!f[COL_IMAGE][0] || !f[COL_PLATE][0])
        rc = pw_err_set(err, PW_EMANIFEST, "%s:%d: image and plate_text must not be empty", path, lineno);
    else if (parse_box(f, row) < 0)
        rc = pw_err_set(err, PW_EMANIFEST, "%s:%d: box x,y,w,h must be four non-negative integers or all empty",
                        path, lineno);
    if (rc == 0) {
        row->image = g_path_is_absolute(f[COL_IMAGE]) ? g_strdup(f[COL_IMAGE])
                                                       : g_build_filename(dir, f[COL_IMAGE], NULL);
        row->plate = g_ascii_strup(f[COL_PLATE], -1);
        row->country = g_strdup(f[COL_COUNTRY]);
        row->set = g_strdup(f[COL_SET]);
        row->line = lineno;
    }
    g_strfreev(f);
    return rc;
}

int pw_manifest_load(const char *path, pw_manifest **out, pw_err *err)
{
    if (!path || !out)
        return -EINVAL;
    *out = NULL;
    gchar *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        int rc = pw_err_set(err, gerr->code == G_FILE_ERROR_NOENT ? -ENOENT : -EIO, "%s: %s", path,
                            gerr->message);
        g_error_free(gerr);
        return rc;
    }
    pw_manifest *m = g_new0(pw_manifest, 1);
    m->rows = g_array_new(FALSE, TRUE, sizeof(pw_manifest_row));
    g_array_set_clear_func(m->rows, row_clear);
    gchar *dir = g_path_get_dirname(path);
    gchar **lines = g_strsplit(text, "\n", -1);
    int rc = 0;
    /* An empty file splits into no lines at all: there is no header to skip. */
    if (!lines[0])
        rc = pw_err_set(err, PW_EMANIFEST, "%s: empty file (a header line is required)", path);
    for (int i = 1; rc == 0 && lines[i]; i++) { /* line 1 is the header */
        if (!g_strstrip(lines[i])[0])
            continue;
        pw_manifest_row row = {0};
        rc = parse_row(path, dir, lines[i], i + 1, &row, err);
        if (rc == 0)
            g_array_append_val(m->rows, row);
    }
    g_strfreev(lines);
    g_free(dir);
    g_free(text);
    if (rc < 0) {
        pw_manifest_destroy(&m);
        return rc;
    }
    *out = m;
    return 0;
}

void pw_manifest_destroy(pw_manifest **m)
{
    if (!m || !*m)
        return;
    g_array_free((*m)->rows, TRUE);
    g_free(*m);
    *m = NULL;
}

size_t pw_manifest_count(const pw_manifest *m)
{
    return m ? m->rows->len : 0;
}

const pw_manifest_row *pw_manifest_row_at(const pw_manifest *m, size_t i)
{
    return i < m->rows->len ? &g_array_index(m->rows, pw_manifest_row, i) : NULL;
}

void pw_manifest_filter_sets(pw_manifest *m, const char *sets)
{
    if (!m || !sets || !*sets)
        return;
    gchar **wanted = g_strsplit(sets, ",", -1);
    for (guint i = m->rows->len; i-- > 0;) {
        const pw_manifest_row *r = &g_array_index(m->rows, pw_manifest_row, i);
        if (!g_strv_contains((const gchar *const *)wanted, r->set))
            g_array_remove_index(m->rows, i);
    }
    g_strfreev(wanted);
}

int pw_manifest_fold(const char *path, int *fold, pw_err *err)
{
    gchar *bytes = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &bytes, &len, &gerr)) {
        int rc = pw_err_set(err, -EIO, "%s", gerr->message);
        g_error_free(gerr);
        return rc;
    }
    guint8 digest[20];
    gsize n = sizeof digest;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sum, (const guchar *)bytes, len);
    g_checksum_get_digest(sum, digest, &n);
    g_checksum_free(sum);
    g_free(bytes);
    /* The digest read as one big-endian number, modulo 5, a byte at a time. */
    unsigned r = 0;
    for (gsize i = 0; i < n; i++)
        r = (r * 256 + digest[i]) % 5;
    *fold = (int)r;
    return 0;
}

int pw_manifest_filter_folds(pw_manifest *m, const char *folds, pw_err *err)
{
    if (!m || !folds || !*folds)
        return 0;
    int wanted[5] = {0};
    gchar **parts = g_strsplit(folds, ",", -1);
    int rc = 0;
    for (gchar **p = parts; *p && rc == 0; p++) {
        char *end = NULL;
        long f = strtol(*p, &end, 10);
        if (end == *p || *end || f < 0 || f > 4)
            rc = pw_err_set(err, -EINVAL, "fold \"%s\" is not a number from 0 to 4", *p);
        else
            wanted[f] = 1;
    }
    g_strfreev(parts);
    for (guint i = m->rows->len; rc == 0 && i-- > 0;) {
        const pw_manifest_row *r = &g_array_index(m->rows, pw_manifest_row, i);
        int fold = 0;
        rc = pw_manifest_fold(r->image, &fold, err);
        if (rc == 0 && !wanted[fold])
            g_array_remove_index(m->rows, i);
    }
    return rc;
}
