/*
 * backend_images.c - a folder or glob of still images, in name order.
 *
 * GStreamer's image sources take printf-style numbered names, not globs or
 * folders of mixed formats, so stills are read here and decoded with the
 * same OpenCV decoder the reader uses. A file that does not decode is
 * skipped with a warning naming it; an empty match cannot start.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "capture_internal.h"
#include "cvshim.h"

typedef struct {
    pw_backend base;
    GThread *thread;
    gint stop;
    char **files; /* sorted, NULL-terminated */
    guint n;
} images_backend;

static int is_image_name(const char *name)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm",
                                      ".pnm", ".tif", ".tiff", ".webp"};
    char *lower = g_ascii_strdown(name, -1);
    int yes = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(ext) && !yes; i++)
        yes = g_str_has_suffix(lower, ext[i]);
    g_free(lower);
    return yes;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *list_folder(const char *dir)
{
    GPtrArray *a = g_ptr_array_new();
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        if (is_image_name(name))
            g_ptr_array_add(a, g_build_filename(dir, name, NULL));
    if (d)
        g_dir_close(d);
    return a;
}

static GPtrArray *list_glob(const char *pattern)
{
    GPtrArray *a = g_ptr_array_new();
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            if (g_file_test(g.gl_pathv[i], G_FILE_TEST_IS_REGULAR))
                g_ptr_array_add(a, g_strdup(g.gl_pathv[i]));
    }
    globfree(&g);
    return a;
}

static void decode_one(images_backend *b, guint i)
{
    char *bytes = NULL;
    gsize len = 0;
    pw_err err;
    pw_err_clear(&err);
    if (!g_file_get_contents(b->files[i], &bytes, &len, NULL)) {
        g_warning("source '%s': cannot read '%s', skipped", b->base.cfg->source, b->files[i]);
        return;
    }
    pw_frame *f = pw_frame_new_owned();
    pw_frame_stamp(f);
    int rc = pw_cv_decode((const uint8_t *)bytes, len, &f->grey_img,
                          b->base.cfg->want_bgr ? &f->bgr_img : NULL, &err);
    g_free(bytes);
    if (rc) {
        g_warning("source '%s': '%s' is not a decodable image (%s), skipped",
                  b->base.cfg->source, b->files[i], pw_strerror(rc));
        pw_frame_release(&f);
        return;
    }
    pw_frame_use_images(f);
    const pw_capture_config *cfg = b->base.cfg;
    if (cfg->fps_num > 0)
        f->info.pts_ns = (int64_t)i * 1000000000LL * cfg->fps_den / cfg->fps_num;
    pw_capture_deliver(b->base.cap, f);
}

static gpointer run(gpointer data)
{
    images_backend *b = data;
    const pw_capture_config *cfg = b->base.cfg;
    for (guint i = 0; i < b->n && !g_atomic_int_get(&b->stop); i++) {
        gint64 t0 = g_get_monotonic_time();
        decode_one(b, i);
        /* Pacing makes a folder behave like a camera at the asked rate. */
        if (cfg->pace && cfg->fps_num > 0) {
            gint64 period = (gint64)1000000 * cfg->fps_den / cfg->fps_num;
            gint64 left = t0 + period - g_get_monotonic_time();
            if (left > 0)
                g_usleep((gulong)left);
        }
    }
    if (!g_atomic_int_get(&b->stop))
        pw_capture_report(b->base.cap, PW_EEOS, "end of the image list");
    return NULL;
}

static int images_start(pw_backend *base, pw_err *err)
{
    images_backend *b = (images_backend *)base;
    const char *path = b->base.spec->path;
    GPtrArray *a = g_file_test(path, G_FILE_TEST_IS_DIR) ? list_folder(path) : list_glob(path);
    if (a->len == 0) {
        g_ptr_array_free(a, TRUE);
        return pw_err_set(err, -ENOENT, "no image files match '%s'", path);
    }
    qsort(a->pdata, a->len, sizeof(char *), cmp_names);
    b->n = a->len;
    g_ptr_array_add(a, NULL);
    g_strfreev(b->files);
    b->files = (char **)g_ptr_array_free(a, FALSE);
    g_atomic_int_set(&b->stop, 0);
    b->thread = g_thread_new("pw-capture-img", run, b);
    return 0;
}

static void images_stop(pw_backend *base)
{
    images_backend *b = (images_backend *)base;
    g_atomic_int_set(&b->stop, 1);
    if (b->thread)
        g_thread_join(b->thread);
    b->thread = NULL;
}

static void images_destroy(pw_backend *base)
{
    images_backend *b = (images_backend *)base;
    images_stop(base);
    g_strfreev(b->files);
    g_free(b);
}

static const pw_backend_ops images_ops = {images_start, images_stop, images_destroy};

int pw_backend_images_new(pw_capture *cap, pw_backend **out, pw_err *err)
{
    (void)err;
    images_backend *b = g_new0(images_backend, 1);
    b->base.ops = &images_ops;
    b->base.cap = cap;
    b->base.cfg = pw_capture_cfg(cap);
    b->base.spec = pw_capture_spec(cap);
    *out = &b->base;
    return 0;
}
