/*
 * video_truth.c - recordings and their ground truth for `bench video`:
 * CLIP.truth.csv (one line per passage), CLIP.boxes.csv (one line per frame
 * with a plate, optional), and image manifests turned into folders of
 * stills. The formats are described in docs/ground-truth.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "video.h"

static const char *const video_exts[] = {".webm", ".avi", ".mkv", ".mp4", ".mov", ".mjpeg", ".mjpg", ".ogv"};

static int is_video(const char *path)
{
    gchar *lower = g_ascii_strdown(path, -1);
    int yes = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(video_exts) && !yes; i++)
        yes = g_str_has_suffix(lower, video_exts[i]);
    g_free(lower);
    return yes;
}

/* An empty field is -1 (not given); anything else must be a non-negative integer. */
static int parse_opt_int(const char *s, int64_t *out)
{
    gchar *t = g_strstrip(g_strdup(s));
    int ok = 1;
    if (!*t) {
        *out = -1;
    } else {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(t, &end, 10);
        ok = errno == 0 && *end == '\0' && v >= 0 && v <= INT32_MAX;
        *out = v;
    }
    g_free(t);
    return ok;
}

static void rec_free(gpointer p)
{
    pw_vrec *r = p;
    g_free(r->name);
    g_free(r->source);
    if (r->passages)
        g_array_unref(r->passages);
    if (r->heights)
        g_hash_table_unref(r->heights);
    g_free(r);
}

static int parse_truth_line(const char *path, int line, gchar **f, guint n, pw_vpassage *p, pw_err *err)
{
    if (n != 5 && n != 7)
        return pw_err_set(err, PW_EMANIFEST,
                          "%s:%d: %u fields; expected recording,plate_text,country,first_frame,last_frame"
                          "[,first_ms,last_ms]", path, line, n);
    memset(p, 0, sizeof *p);
    p->line = line;
    /* A label longer than any plate, or a country code longer than any, would be cut silently. */
    char chars[64];
    if (pw_plate_chars(f[1], chars, sizeof chars) > PW_PLATE_MAX)
        return pw_err_set(err, PW_EMANIFEST, "%s:%d: plate '%s' has more than %d characters", path, line, f[1],
                          PW_PLATE_MAX);
    if (strlen(g_strstrip(f[2])) >= PW_COUNTRY_MAX)
        return pw_err_set(err, PW_EMANIFEST, "%s:%d: country '%s' is longer than %d characters", path, line, f[2],
                          PW_COUNTRY_MAX - 1);
    pw_plate_chars(f[1], p->plate, sizeof p->plate);
    g_strlcpy(p->country, g_strstrip(f[2]), sizeof p->country);
    int64_t v[4] = {-1, -1, -1, -1};
    for (guint i = 3; i < n; i++)
        if (!parse_opt_int(f[i], &v[i - 3]))
            return pw_err_set(err, PW_EMANIFEST, "%s:%d: field %u ('%s') is not a frame number or milliseconds",
                              path, line, i + 1, f[i]);
    if (!*g_strstrip(f[0]) || !p->plate[0])
        return pw_err_set(err, PW_EMANIFEST, "%s:%d: the recording or the plate text is empty", path, line);
    int frames = v[0] >= 0 && v[1] >= 0, times = v[2] >= 0 && v[3] >= 0;
    if (!frames && !times)
        return pw_err_set(err, PW_EMANIFEST, "%s:%d: give first_frame,last_frame or first_ms,last_ms", path, line);
    if ((frames && v[1] < v[0]) || (times && v[3] < v[2]))
        return pw_err_set(err, PW_EMANIFEST, "%s:%d: the passage ends before it starts", path, line);
    p->first_frame = frames ? (int)v[0] : -1;
    p->last_frame = frames ? (int)v[1] : -1;
    p->first_ms = times ? v[2] : -1;
    p->last_ms = times ? v[3] : -1;
    return 0;
}

int pw_vtruth_load(const char *path, GHashTable *table, pw_err *err)
{
    gchar *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        int rc = pw_err_set(err, -ENOENT, "%s: %s", path, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    gchar **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    int rc = 0;
    if (!lines[0] || !g_str_has_prefix(lines[0], "recording,plate_text,country,"))
        rc = pw_err_set(err, PW_EMANIFEST, "%s:1: header must start with recording,plate_text,country,", path);
    for (int i = 1; rc == 0 && lines[0] && lines[i]; i++) {
        g_strchomp(lines[i]);
        if (!lines[i][0] || lines[i][0] == '#')
            continue;
        gchar **f = g_strsplit(lines[i], ",", -1);
        pw_vpassage p;
        rc = parse_truth_line(path, i + 1, f, g_strv_length(f), &p, err);
        if (rc == 0) {
            gchar *name = g_strstrip(g_strdup(f[0]));
            GArray *a = g_hash_table_lookup(table, name);
            if (!a) {
                a = g_array_new(FALSE, FALSE, sizeof(pw_vpassage));
                g_hash_table_insert(table, g_strdup(name), a);
            }
            g_array_append_val(a, p);
            g_free(name);
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
    return rc;
}

int pw_vboxes_load(const char *path, const char *name, GHashTable *heights, pw_err *err)
{
    gchar *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return pw_err_set(err, -ENOENT, "%s: cannot be read", path);
    gchar **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    int rc = 0;
    if (!lines[0] || !g_str_has_prefix(lines[0], "recording,frame,plate_text,x,y,w,h"))
        rc = pw_err_set(err, PW_EMANIFEST, "%s:1: header must be recording,frame,plate_text,x,y,w,h", path);
    for (int i = 1; rc == 0 && lines[i]; i++) {
        g_strchomp(lines[i]);
        if (!lines[i][0] || lines[i][0] == '#')
            continue;
        gchar **f = g_strsplit(lines[i], ",", -1);
        int64_t frame = -1, h = -1;
        if (g_strv_length(f) != 7 || !parse_opt_int(f[1], &frame) || !parse_opt_int(f[6], &h) || frame < 0 || h < 1)
            rc = pw_err_set(err, PW_EMANIFEST, "%s:%d: expected recording,frame,plate_text,x,y,w,h with a frame "
                            "number and a height of at least 1", path, i + 1);
        else if (strcmp(g_strstrip(f[0]), name) == 0)
            g_hash_table_insert(heights, GINT_TO_POINTER((int)frame), GINT_TO_POINTER((int)h));
        g_strfreev(f);
    }
    g_strfreev(lines);
    return rc;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Recording files of a folder, in name order. */
static void list_videos(const char *dir, GPtrArray *out)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    GPtrArray *found = g_ptr_array_new();
    for (const char *e; d && (e = g_dir_read_name(d));)
        if (is_video(e))
            g_ptr_array_add(found, g_build_filename(dir, e, NULL));
    if (d)
        g_dir_close(d);
    g_ptr_array_sort(found, cmp_str);
    for (guint i = 0; i < found->len; i++)
        g_ptr_array_add(out, found->pdata[i]);
    g_ptr_array_free(found, TRUE);
}

/* The passages of a recording: --truth files first, then CLIP.truth.csv, then truth.csv beside it. */
static int find_truth(const char *file, const char *name, GHashTable *given, GArray **out, pw_err *err)
{
    GArray *a = g_hash_table_lookup(given, name);
    if (a) {
        *out = g_array_ref(a);
        return 0;
    }
    gchar *dir = g_path_get_dirname(file);
    gchar *cands[2] = {g_strconcat(file, ".truth.csv", NULL), g_build_filename(dir, "truth.csv", NULL)};
    int rc = 1;
    for (int i = 0; i < 2 && rc == 1; i++) {
        if (!g_file_test(cands[i], G_FILE_TEST_EXISTS))
            continue;
        GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
        rc = pw_vtruth_load(cands[i], t, err);
        if (rc == 0) {
            a = g_hash_table_lookup(t, name);
            *out = a ? g_array_ref(a) : g_array_new(FALSE, FALSE, sizeof(pw_vpassage));
        }
        g_hash_table_unref(t);
    }
    if (rc == 1)
        rc = pw_err_set(err, PW_EMANIFEST, "%s: no ground truth (%s, %s or --truth FILE)", file, cands[0], cands[1]);
    g_free(cands[0]), g_free(cands[1]), g_free(dir);
    return rc;
}

static int add_recording(pw_vset *set, const char *file, GHashTable *given, pw_err *err)
{
    pw_vrec *r = g_new0(pw_vrec, 1);
    r->name = g_path_get_basename(file);
    gchar *abs = g_canonicalize_filename(file, NULL);
    r->source = g_strconcat("file://", abs, NULL);
    r->heights = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_ptr_array_add(set->recs, r);
    int rc = find_truth(abs, r->name, given, &r->passages, err);
    gchar *boxes = g_strconcat(abs, ".boxes.csv", NULL);
    if (rc == 0 && g_file_test(boxes, G_FILE_TEST_EXISTS))
        rc = pw_vboxes_load(boxes, r->name, r->heights, err);
    g_free(boxes);
    g_free(abs);
    return rc;
}

/* A manifest set becomes a folder of links named in row order, so that frame i is row i. */
static int add_manifest_set(pw_vset *set, const pw_manifest *m, const char *name, pw_err *err)
{
    gchar *dir = g_build_filename(set->tmpdir, name, NULL);
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        int rc = pw_err_set(err, -errno, "%s: %s", dir, g_strerror(errno));
        g_free(dir);
        return rc;
    }
    pw_vrec *r = g_new0(pw_vrec, 1);
    r->name = g_strconcat("set:", name, NULL);
    r->source = dir;
    r->stills = 1;
    r->passages = g_array_new(FALSE, FALSE, sizeof(pw_vpassage));
    r->heights = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_ptr_array_add(set->recs, r);
    for (size_t i = 0; i < pw_manifest_count(m); i++) {
        const pw_manifest_row *row = pw_manifest_row_at(m, i);
        if (strcmp(row->set, name) != 0)
            continue;
        int frame = (int)r->passages->len;
        const char *dot = strrchr(row->image, '.');
        gchar *target = g_canonicalize_filename(row->image, NULL);
        gchar *link = g_strdup_printf("%s/%06d%s", dir, frame, dot ? dot : "");
        int ok = symlink(target, link) == 0;
        g_free(target), g_free(link);
        if (!ok)
            return pw_err_set(err, -errno, "%s: cannot link %s: %s", dir, row->image, g_strerror(errno));
        pw_vpassage p = {.first_frame = frame, .last_frame = frame, .first_ms = -1, .last_ms = -1, .line = row->line};
        pw_plate_chars(row->plate, p.plate, sizeof p.plate);
        g_strlcpy(p.country, row->country, sizeof p.country);
        g_array_append_val(r->passages, p);
        if (row->has_box && row->box.h > 0)
            g_hash_table_insert(r->heights, GINT_TO_POINTER(frame), GINT_TO_POINTER(row->box.h));
    }
    return 0;
}

static int add_manifest(pw_vset *set, const pw_vinputs *in, pw_err *err)
{
    pw_manifest *m = NULL;
    int rc = pw_manifest_load(in->manifest, &m, err);
    if (rc < 0)
        return rc;
    pw_manifest_filter_sets(m, in->sets);
    GPtrArray *names = g_ptr_array_new();
    for (size_t i = 0; i < pw_manifest_count(m); i++) {
        const char *s = pw_manifest_row_at(m, i)->set;
        if (!g_ptr_array_find_with_equal_func(names, s, g_str_equal, NULL))
            g_ptr_array_add(names, (gpointer)s);
    }
    if (names->len == 0)
        rc = pw_err_set(err, PW_EMANIFEST, "%s: no rows in the sets asked for", in->manifest);
    set->tmpdir = rc == 0 ? g_dir_make_tmp("pw-bench-video-XXXXXX", NULL) : NULL;
    for (guint i = 0; rc == 0 && i < names->len; i++)
        rc = add_manifest_set(set, m, names->pdata[i], err);
    g_ptr_array_free(names, TRUE);
    pw_manifest_destroy(&m);
    return rc;
}

static int add_inputs(pw_vset *set, const pw_vinputs *in, GHashTable *given, pw_err *err)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    int rc = 0;
    for (char **p = in->inputs; p && *p && rc == 0; p++) {
        if (g_file_test(*p, G_FILE_TEST_IS_DIR)) {
            guint before = files->len;
            list_videos(*p, files);
            if (files->len == before)
                rc = pw_err_set(err, -ENOENT, "%s: no recordings (.webm, .avi, .mkv, .mp4, ...) in this folder", *p);
        } else if (g_file_test(*p, G_FILE_TEST_IS_REGULAR)) {
            g_ptr_array_add(files, g_strdup(*p));
        } else {
            rc = pw_err_set(err, -ENOENT, "%s: no such recording or folder", *p);
        }
    }
    for (guint i = 0; rc == 0 && i < files->len; i++)
        rc = add_recording(set, files->pdata[i], given, err);
    g_ptr_array_free(files, TRUE);
    return rc;
}

int pw_vset_load(const pw_vinputs *in, pw_vset **out, pw_err *err)
{
    *out = NULL;
    pw_vset *set = g_new0(pw_vset, 1);
    set->recs = g_ptr_array_new_with_free_func(rec_free);
    GHashTable *given = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    int rc = 0;
    for (char **t = in->truth_files; t && *t && rc == 0; t++)
        rc = pw_vtruth_load(*t, given, err);
    if (rc == 0)
        rc = add_inputs(set, in, given, err);
    if (rc == 0 && in->manifest)
        rc = add_manifest(set, in, err);
    g_hash_table_unref(given);
    if (rc == 0 && set->recs->len == 0)
        rc = pw_err_set(err, -EINVAL, "no recordings given (files, folders or --manifest)");
    if (rc < 0) {
        pw_vset_destroy(&set);
        return rc;
    }
    *out = set;
    return 0;
}

/* Removes the folders of links made for manifest sets; the images themselves are untouched. */
static void remove_links(const char *tmpdir)
{
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    for (const char *e; d && (e = g_dir_read_name(d));) {
        gchar *sub = g_build_filename(tmpdir, e, NULL);
        GDir *s = g_dir_open(sub, 0, NULL);
        for (const char *l; s && (l = g_dir_read_name(s));) {
            gchar *p = g_build_filename(sub, l, NULL);
            g_unlink(p);
            g_free(p);
        }
        if (s)
            g_dir_close(s);
        g_rmdir(sub);
        g_free(sub);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmpdir);
}

void pw_vset_destroy(pw_vset **sp)
{
    if (!sp || !*sp)
        return;
    pw_vset *set = *sp;
    if (set->tmpdir)
        remove_links(set->tmpdir);
    g_free(set->tmpdir);
    g_ptr_array_free(set->recs, TRUE);
    g_free(set);
    *sp = NULL;
}
