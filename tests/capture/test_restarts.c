/*
 * test_restarts.c - starting and stopping a source many times, and a
 * recording that loops many times, leave no descriptor behind: a lane that
 * restarts its camera every few minutes must run for months.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "testutil.h"

#define W 160
#define H 120
#define FRAMES 6
#define ROUNDS 50
/* The first rounds load plugins and start GStreamer's shared threads. */
#define WARMUP 5

static char *dir, *uri;

static void setup(void)
{
    dir = tu_tmpdir();
    cr_assert_not_null(dir);
    char *path = g_strdup_printf("%s/short.webm", dir);
    cr_assert_eq(tu_write_recording(path, "webm", FRAMES, W, H, 12), 0);
    uri = g_filename_to_uri(path, NULL, NULL);
    g_free(path);
}

static void teardown(void)
{
    tu_rmtree(dir);
    g_free(dir);
    g_free(uri);
}

TestSuite(restarts, .init = setup, .fini = teardown, .timeout = 300);

/* Descriptors this process holds now. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory itself */
}

/*
 * The fewest descriptors seen over about 100 ms. A looping recording is
 * restarted between two samples now and then, and a pipeline starting up
 * holds a few descriptors for a moment; a leak raises the floor for good.
 */
static int fd_floor(void)
{
    int least = count_fds();
    for (int i = 0; i < 50; i++) {
        g_usleep(2000);
        int n = count_fds();
        least = n < least ? n : least;
    }
    return least;
}

static void list_fds(const char *when)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -l /proc/%d/fd | sed 's/^/  /' >&2", (int)getpid());
    fprintf(stderr, "descriptors %s:\n", when);
    if (system(cmd) != 0)
        fprintf(stderr, "  (cannot list)\n");
}

/* One source started, read and destroyed. */
static void one_round(const char *source, int loop)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, source);
    cfg.loop = loop;
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_capture_new(&cfg, &cap, &err), 0, "new: %s", err.msg);
    cr_assert_eq(pw_capture_start(cap, &err), 0, "start: %s", err.msg);
    int n = 0;
    int rc = tu_drain(cap, 10000, 3, &n);
    cr_assert_eq(rc, 0, "read: %s", pw_strerror(rc));
    pw_capture_destroy(&cap);
}

Test(restarts, starting_and_stopping_a_recording_50_times_keeps_the_descriptors)
{
    int before = 0;
    for (int i = 0; i < ROUNDS; i++) {
        if (i == WARMUP)
            before = count_fds();
        one_round(uri, 0);
    }
    int after = count_fds();
    if (after > before)
        list_fds("after the rounds");
    cr_assert_leq(after, before, "%d descriptors before rounds %d-%d, %d after", before, WARMUP + 1,
                  ROUNDS, after);
}

Test(restarts, a_recording_looping_50_times_keeps_the_descriptors)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, uri);
    cfg.loop = 1;
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_capture_new(&cfg, &cap, &err), 0, "new: %s", err.msg);
    cr_assert_eq(pw_capture_start(cap, &err), 0, "start: %s", err.msg);
    int before = 0;
    for (int i = 0; i < ROUNDS * FRAMES; i++) {
        if (i == WARMUP * FRAMES)
            before = fd_floor();
        pw_frame *f = NULL;
        int rc = pw_capture_next(cap, 10000, &f, &err);
        cr_assert_eq(rc, 0, "frame %d: %s", i, pw_strerror(rc));
        pw_frame_release(&f);
    }
    int after = fd_floor();
    if (after > before)
        list_fds("after the loops");
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    pw_capture_destroy(&cap);
    cr_assert_geq(st.frames, (uint64_t)(ROUNDS * FRAMES));
    /*
     * GLib and GStreamer open a few descriptors lazily (thread pools, wake-up
     * pipes) while the loops go on; the leak this guards against added four a
     * loop, 180 over these 45.
     */
    cr_assert_leq(after, before + 4, "%d descriptors after %d loops, %d after %d", before, WARMUP, after,
                  ROUNDS);
}
