/*
 * bench_capture.c - `platewatch bench capture`: what capture costs beyond
 * decoding, and how long a frame waits between its capture and the
 * consumer taking it.
 *
 * Overhead: a 1280x720 MJPEG/AVI recording (made here with videotestsrc and
 * jpegenc, so nothing outside the run is needed) is read to its end by a
 * bare decode pipeline (filesrc ! decodebin ! fakesink) as the baseline, by
 * decode + GRAY8 conversion, and by pw_capture with a consumer that keeps
 * up; each is run --repeat times and the median kept. The overhead is the
 * capture time per frame minus the bare decode time per frame.
 *
 * Latency: a live 30 fps source (videotestsrc, then the same recording
 * paced at its own rate) with a consumer that waits in pw_capture_next();
 * latency is CLOCK_MONOTONIC at dequeue minus the frame's monotonic_ns.
 */
#define _POSIX_C_SOURCE 200809L
#include <glib.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "capture.h"

typedef struct {
    int width, height, frames, repeat, latency_frames;
    char *recording; /* --file: an existing recording instead of the generated one */
    char *pattern;   /* videotestsrc pattern of the generated recording */
} bench_opts;

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

/* Wall and process CPU time of one run. The machine is shared, so CPU time
 * (all threads of this process) is the steadier of the two. */
typedef struct {
    double wall, cpu;
} run_time;

static run_time time_start(void)
{
    return (run_time){now_ms(), clock_ms(CLOCK_PROCESS_CPUTIME_ID)};
}

static run_time time_since(run_time t0)
{
    return (run_time){now_ms() - t0.wall, clock_ms(CLOCK_PROCESS_CPUTIME_ID) - t0.cpu};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(GArray *a, double p)
{
    if (a->len == 0)
        return 0;
    qsort(a->data, a->len, sizeof(double), cmp_double);
    guint i = (guint)(p * (a->len - 1) + 0.5);
    return g_array_index(a, double, i);
}

/* Runs a pipeline description to its end; returns its times, wall < 0 on failure. */
static run_time run_to_eos(const char *desc)
{
    GError *e = NULL;
    GstElement *p = gst_parse_launch(desc, &e);
    if (e) {
        fprintf(stderr, "bench capture: pipeline '%s': %s\n", desc, e->message);
        g_error_free(e);
        if (p)
            gst_object_unref(p);
        return (run_time){-1, -1};
    }
    run_time t0 = time_start();
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 600 * GST_SECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    run_time ms = time_since(t0);
    if (!m || GST_MESSAGE_TYPE(m) != GST_MESSAGE_EOS)
        ms.wall = -1;
    if (ms.wall < 0)
        fprintf(stderr, "bench capture: pipeline '%s' failed\n", desc);
    if (m)
        gst_message_unref(m);
    gst_object_unref(bus);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    return ms;
}

static int make_recording(const char *path, const bench_opts *o)
{
    char *desc = g_strdup_printf("videotestsrc pattern=%s num-buffers=%d "
                                 "! video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 "
                                 "! jpegenc quality=85 ! avimux ! filesink location=\"%s\"",
                                 o->pattern ? o->pattern : "smpte", o->frames, o->width,
                                 o->height, path);
    run_time ms = run_to_eos(desc);
    g_free(desc);
    return ms.wall < 0 ? -1 : 0;
}

/* Reads the whole recording through pw_capture; wall < 0 on failure. */
static run_time run_capture(const char *path, int want_bgr, int *frames)
{
    pw_capture_config cfg;
    pw_capture_config_defaults(&cfg, path);
    cfg.want_bgr = want_bgr;
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    *frames = 0;
    run_time t0 = time_start();
    if (pw_capture_new(&cfg, &cap, &err) || pw_capture_start(cap, &err)) {
        fprintf(stderr, "bench capture: %s\n", err.msg);
        pw_capture_destroy(&cap);
        return (run_time){-1, -1};
    }
    int rc;
    pw_frame *f = NULL;
    while ((rc = pw_capture_next(cap, 30000, &f, &err)) == 0) {
        /* Touch the plane as a consumer would, so lazy work is not hidden. */
        volatile uint8_t sink = pw_frame_get_info(f)->grey.data[0];
        (void)sink;
        pw_frame_release(&f);
        ++*frames;
    }
    pw_capture_destroy(&cap);
    run_time ms = time_since(t0);
    if (rc != PW_EEOS) {
        fprintf(stderr, "bench capture: %s ended with %s\n", path, pw_strerror(rc));
        ms.wall = -1;
    }
    return ms;
}

typedef struct {
    double median, p90, p99, max;
    uint64_t frames, dropped;
    int ok;
} latency_result;

static latency_result measure_latency(const pw_capture_config *cfg, int n)
{
    latency_result r = {0};
    pw_capture *cap = NULL;
    pw_err err;
    pw_err_clear(&err);
    if (pw_capture_new(cfg, &cap, &err) || pw_capture_start(cap, &err)) {
        fprintf(stderr, "bench capture: %s\n", err.msg);
        pw_capture_destroy(&cap);
        return r;
    }
    GArray *lat = g_array_new(FALSE, FALSE, sizeof(double));
    struct timespec ts;
    for (int i = 0; i < n; i++) {
        pw_frame *f = NULL;
        if (pw_capture_next(cap, 5000, &f, &err))
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        double ms = (double)(now - pw_frame_get_info(f)->monotonic_ns) / 1e6;
        g_array_append_val(lat, ms);
        pw_frame_release(&f);
    }
    pw_capture_stats st;
    pw_capture_get_stats(cap, &st);
    pw_capture_destroy(&cap);
    r.frames = lat->len;
    r.dropped = st.dropped;
    r.median = percentile(lat, 0.5);
    r.p90 = percentile(lat, 0.9);
    r.p99 = percentile(lat, 0.99);
    r.max = percentile(lat, 1.0);
    r.ok = lat->len > 0;
    g_array_free(lat, TRUE);
    return r;
}

static void print_latency(const char *what, latency_result r)
{
    if (!r.ok) {
        printf("  %-44s failed\n", what);
        return;
    }
    printf("  %-44s median %6.3f  p90 %6.3f  p99 %6.3f  max %6.3f ms  (%llu frames, %llu dropped)\n",
           what, r.median, r.p90, r.p99, r.max, (unsigned long long)r.frames,
           (unsigned long long)r.dropped);
}

/* The four ways of reading the recording, measured in turn in every round. */
enum { M_BARE, M_CONVERT, M_GREY, M_BGR, M_COUNT };
static const char *const method_names[M_COUNT] = {
    "bare decode (filesrc ! decodebin ! fakesink)",
    "decode + videoconvert to GRAY8 ! fakesink",
    "pw_capture grey, consumer keeps up",
    "pw_capture grey + BGR, consumer keeps up",
};

static run_time run_method(int m, const char *path, int *frames)
{
    if (m == M_GREY || m == M_BGR)
        return run_capture(path, m == M_BGR, frames);
    char *desc = g_strdup_printf("filesrc location=\"%s\" ! decodebin%s ! fakesink sync=false",
                                 path, m == M_CONVERT ? " ! videoconvert ! video/x-raw,format=GRAY8"
                                                      : "");
    run_time t = run_to_eos(desc);
    g_free(desc);
    return t;
}

static int report_overhead(const char *path, const bench_opts *o)
{
    GArray *wall[M_COUNT], *cpu[M_COUNT];
    int n = 0, dummy = 0;
    for (int m = 0; m < M_COUNT; m++) {
        wall[m] = g_array_new(FALSE, FALSE, sizeof(double));
        cpu[m] = g_array_new(FALSE, FALSE, sizeof(double));
    }
    /* A first unmeasured pass warms the page cache and the plugin registry;
     * rounds interleave the methods so that load from elsewhere hits all alike. */
    run_method(M_BARE, path, &dummy);
    int failed = 0;
    for (int r = 0; r < o->repeat && !failed; r++)
        for (int m = 0; m < M_COUNT && !failed; m++) {
            run_time t = run_method(m, path, m == M_GREY ? &n : &dummy);
            failed = t.wall < 0;
            g_array_append_val(wall[m], t.wall);
            g_array_append_val(cpu[m], t.cpu);
        }
    double w[M_COUNT], c[M_COUNT];
    for (int m = 0; m < M_COUNT; m++) {
        w[m] = percentile(wall[m], 0.5);
        c[m] = percentile(cpu[m], 0.5);
        g_array_free(wall[m], TRUE);
        g_array_free(cpu[m], TRUE);
    }
    if (failed || n <= 0)
        return 1;
    double pf = 1.0 / n;
    printf("capture overhead: %s, %d frames, median of %d interleaved rounds\n", path, n,
           o->repeat);
    printf("  %-46s %10s %7s %10s %7s\n", "", "wall ms/f", "ratio", "CPU ms/f", "ratio");
    for (int m = 0; m < M_COUNT; m++)
        printf("  %-46s %10.3f %7.3f %10.3f %7.3f\n", method_names[m], w[m] * pf,
               w[m] / w[M_BARE], c[m] * pf, c[m] / c[M_BARE]);
    printf("  overhead beyond bare decoding, grey:       wall %+.3f  CPU %+.3f ms/frame "
           "(target <= 1 ms)\n", (w[M_GREY] - w[M_BARE]) * pf, (c[M_GREY] - c[M_BARE]) * pf);
    printf("  overhead beyond bare decoding, grey + BGR: wall %+.3f  CPU %+.3f ms/frame\n",
           (w[M_BGR] - w[M_BARE]) * pf, (c[M_BGR] - c[M_BARE]) * pf);
    return 0;
}

static void report_latency(const char *path, const bench_opts *o)
{
    printf("latency, CLOCK_MONOTONIC capture stamp to dequeue, consumer keeps up:\n");
    pw_capture_config cfg;
    char *src = g_strdup("testsrc://smpte");
    pw_capture_config_defaults(&cfg, src);
    cfg.width = o->width;
    cfg.height = o->height;
    cfg.fps_num = 30;
    cfg.fps_den = 1;
    char what[96];
    g_snprintf(what, sizeof what, "testsrc %dx%d @30 fps, live, grey", o->width, o->height);
    print_latency(what, measure_latency(&cfg, o->latency_frames));
    pw_capture_config_defaults(&cfg, path);
    cfg.pace = 1;
    cfg.loop = 1;
    g_snprintf(what, sizeof what, "recording paced at its own rate, grey");
    print_latency(what, measure_latency(&cfg, o->latency_frames));
    cfg.want_bgr = 1;
    g_snprintf(what, sizeof what, "recording paced at its own rate, grey + BGR");
    print_latency(what, measure_latency(&cfg, o->latency_frames));
    g_free(src);
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.width = 1280, .height = 720, .frames = 150, .repeat = 3,
                      .latency_frames = 300};
    GOptionEntry entries[] = {
        {"width", 0, 0, G_OPTION_ARG_INT, &o->width, "frame width (1280)", "W"},
        {"height", 0, 0, G_OPTION_ARG_INT, &o->height, "frame height (720)", "H"},
        {"frames", 0, 0, G_OPTION_ARG_INT, &o->frames, "frames in the recording (150)", "N"},
        {"repeat", 0, 0, G_OPTION_ARG_INT, &o->repeat, "runs per measurement (3)", "N"},
        {"latency-frames", 0, 0, G_OPTION_ARG_INT, &o->latency_frames,
         "frames per latency measurement (300)", "N"},
        {"pattern", 0, 0, G_OPTION_ARG_STRING, &o->pattern,
         "videotestsrc pattern of the generated recording (smpte; snow is the costliest)",
         "NAME"},
        {"file", 0, 0, G_OPTION_ARG_FILENAME, &o->recording,
         "measure this recording instead of a generated MJPEG one", "PATH"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- capture overhead and latency");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *e = NULL;
    gboolean ok = g_option_context_parse(ctx, &argc, &argv, &e);
    g_option_context_free(ctx);
    /* The pattern is pasted into a pipeline description: a name only. */
    for (const char *c = o->pattern; ok && c && *c; c++)
        ok = g_ascii_isalnum(*c) || *c == '-';
    if (!ok || o->width <= 0 || o->height <= 0 || o->frames < 10 || o->repeat < 1 ||
        o->latency_frames < 10) {
        fprintf(stderr, "platewatch bench capture: %s\n",
                e ? e->message
                  : "sizes must be positive, frames >= 10, repeat >= 1, pattern a plain name");
        g_clear_error(&e);
        return 2;
    }
    return 0;
}

int pw_bench_capture_main(int argc, char **argv)
{
    bench_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    gst_init(NULL, NULL);
    char *dir = NULL, *path = o.recording;
    if (!path) {
        dir = g_dir_make_tmp("pw-bench-capture-XXXXXX", NULL);
        path = g_build_filename(dir, "bench.avi", NULL);
        if (!dir || make_recording(path, &o)) {
            fprintf(stderr, "platewatch bench capture: cannot make the test recording\n");
            rc = 2;
        }
    }
    if (rc == 0) {
        rc = report_overhead(path, &o);
        report_latency(path, &o);
    }
    if (dir) {
        g_unlink(path);
        g_rmdir(dir);
        g_free(path);
        g_free(dir);
    } else {
        g_free(o.recording);
    }
    g_free(o.pattern);
    return rc;
}
