/* fuzz_util.c - see fuzz_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

static char *dir;

static void remove_dir(void)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

const char *fuzz_dir(void)
{
    if (!dir) {
        /* tmpfs when there is one: a million writes should not reach a disk. */
        const char *base = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm"
                                                                        : g_get_tmp_dir();
        char *tmpl = g_build_filename(base, "pw-fuzz-XXXXXX", NULL);
        dir = g_mkdtemp(tmpl);
        if (!dir)
            abort();
        atexit(remove_dir);
    }
    return dir;
}

char *fuzz_write_file(const char *name, const uint8_t *data, size_t size, int mode)
{
    char *path = g_build_filename(fuzz_dir(), name, NULL);
    g_unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    close(fd);
    return path;
}

static void bytes_free(gpointer p)
{
    g_bytes_unref(p);
}

GPtrArray *fuzz_frames(const uint8_t *data, size_t size)
{
    GPtrArray *frames = g_ptr_array_new_with_free_func(bytes_free);
    size_t start = 0;
    for (size_t i = 0; i + 1 < size; i++) {
        if (memcmp(data + i, FUZZ_FRAME_SEP, 2) == 0) {
            g_ptr_array_add(frames, g_bytes_new(data + start, i - start));
            start = i + 2;
            i++;
        }
    }
    g_ptr_array_add(frames, g_bytes_new(data + start, size - start));
    return frames;
}

static GLogWriterOutput drop(GLogLevelFlags level, const GLogField *fields, gsize n,
                             gpointer user)
{
    (void)level;
    (void)fields;
    (void)n;
    (void)user;
    return G_LOG_WRITER_HANDLED;
}

void fuzz_quiet_logs(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        g_log_set_writer_func(drop, NULL, NULL);
        g_once_init_leave(&once, 1);
    }
}
