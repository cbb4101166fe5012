/*
 * bench_detect.c - `platewatch bench detect MANIFEST`: the localiser's
 * recall on the labelled full-frame sets, its speed per 1280x720 frame at
 * every SIMD level this CPU has, and OpenCV's Haar plate cascade on the same
 * frames in the same run as the baseline.
 *
 * Each image is decoded once, then: (1) recall at native size, top-K
 * candidates against the labelled box at IoU > threshold, for the detector
 * and for the cascade; (2) speed on the image resized to 1280x720, once as
 * it is ("with plate") and once with the labelled box filled with its mean
 * grey ("without plate"; unlabelled plates in the photo may remain). Only
 * pw_detector_run() is timed: decoding and resizing are not. OpenCV runs on one
 * thread (pw_cv_set_threads), so the baseline is single-threaded like the localiser.
 */
#define _POSIX_C_SOURCE 200809L
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cvshim.h"
#include "detect.h"
#include "manifest.h"
#include "pw_build_config.h"

#define N_LEVELS 3 /* scalar, sse2, avx2 */
#define FRAME_W 1280
#define FRAME_H 720

typedef struct {
    char *sets;
    char *cascade;
    int repeat;
    int top;
    double iou;
    gboolean no_haar;
    gboolean recall_only;
    gboolean misses;
    int limit;
} bench_opts;

typedef struct {
    char name[32];
    int images, hits, hits1, haar_hits, decode_failures;
} set_stats;

typedef struct {
    pw_detector *det[N_LEVELS + 1]; /* indexed by pw_simd_level; NULL when unsupported */
    pw_cv_cascade *haar;
    GArray *t_with[N_LEVELS + 1], *t_without[N_LEVELS + 1]; /* of double, ms */
    GArray *haar_with, *haar_without;
    GArray *native;                  /* best level, native size, ms */
    GArray *sets;                    /* of set_stats */
    long mismatches, compared;
} bench_state;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(GArray *a)
{
    if (!a || a->len == 0)
        return 0.0;
    g_array_sort(a, cmp_double);
    return a->len % 2 ? g_array_index(a, double, a->len / 2)
                      : (g_array_index(a, double, a->len / 2 - 1) + g_array_index(a, double, a->len / 2)) / 2.0;
}

static set_stats *set_for(bench_state *st, const char *name)
{
    for (guint i = 0; i < st->sets->len; i++) {
        set_stats *s = &g_array_index(st->sets, set_stats, i);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    set_stats s = {{0}, 0, 0, 0, 0, 0};
    g_strlcpy(s.name, name, sizeof s.name);
    g_array_append_val(st->sets, s);
    return &g_array_index(st->sets, set_stats, st->sets->len - 1);
}

/* Rank (1-based) of the first candidate overlapping box, or 0 when none does within top. */
static int hit_rank(const pw_candidate *c, size_t n, pw_rect box, int top, double iou)
{
    for (size_t i = 0; i < n && (int)i < top; i++)
        if (pw_rect_iou(c[i].box, box) > iou)
            return (int)i + 1;
    return 0;
}

/*
 * Prints one missed image: its file, set, labelled box and the top
 * candidates' boxes with their IoU, so that misses can be inspected by kind.
 */
static void print_miss(const pw_manifest_row *row, const pw_candidate *c, size_t n, int top)
{
    pw_rect b = row->box;
    printf("miss %s set %s label %d,%d %dx%d:", row->image, row->set, b.x, b.y, b.w, b.h);
    for (size_t i = 0; i < n && (int)i < top; i++)
        printf(" %d,%d %dx%d (%.2f)", c[i].box.x, c[i].box.y, c[i].box.w, c[i].box.h, pw_rect_iou(c[i].box, b));
    printf("\n");
}

static int haar_hit(pw_cv_cascade *haar, const pw_plane *p, pw_rect box, int top, double iou, double *ms)
{
    pw_rect r[64];
    size_t n = 0;
    double t0 = pw_now_ms();
    int rc = pw_cv_cascade_detect(haar, p, 0, 0, r, 64, &n);
    *ms = pw_now_ms() - t0;
    if (rc < 0)
        return 0;
    for (size_t i = 0; i < n && (int)i < top; i++)
        if (pw_rect_iou(r[i], box) > iou)
            return 1;
    return 0;
}

/* Median of repeat runs of the detector on p, in ms. */
static double time_run(pw_detector *d, const pw_plane *p, int repeat)
{
    const pw_candidate *c;
    size_t n;
    double t[64];
    repeat = repeat < 1 ? 1 : repeat > 64 ? 64 : repeat;
    pw_detector_run(d, p, &c, &n); /* warm-up: buffers grow here, not in the timed runs */
    for (int i = 0; i < repeat; i++) {
        double t0 = pw_now_ms();
        pw_detector_run(d, p, &c, &n);
        t[i] = pw_now_ms() - t0;
    }
    qsort(t, (size_t)repeat, sizeof t[0], cmp_double);
    return t[repeat / 2];
}

static int same_candidates(const pw_candidate *a, size_t na, const pw_candidate *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i].score != b[i].score || memcmp(a[i].corners, b[i].corners, sizeof a[i].corners) != 0 ||
            a[i].crop.width != b[i].crop.width)
            return 0;
    return 1;
}

/* Runs every level on p, checks they agree with the scalar reference, and records the times. */
static void time_levels(bench_state *st, const pw_plane *p, int repeat, int with_plate)
{
    const pw_candidate *ref = NULL, *c;
    size_t nref = 0, n;
    for (int l = PW_SIMD_SCALAR; l <= N_LEVELS; l++) {
        if (!st->det[l])
            continue;
        double ms = time_run(st->det[l], p, repeat);
        g_array_append_val(with_plate ? st->t_with[l] : st->t_without[l], ms);
        if (l == PW_SIMD_SCALAR) {
            pw_detector_run(st->det[l], p, &ref, &nref);
            continue;
        }
        /* The scalar detector's candidates stay valid: only this level's detector runs again. */
        pw_detector_run(st->det[l], p, &c, &n);
        st->compared++;
        st->mismatches += !same_candidates(ref, nref, c, n);
    }
    if (st->haar) {
        double ms;
        haar_hit(st->haar, p, (pw_rect){0, 0, 0, 0}, 0, 1.0, &ms);
        g_array_append_val(with_plate ? st->haar_with : st->haar_without, ms);
    }
}

/* Fills box with the mean grey of its border, so that the plate is gone but the frame is not. */
static void erase_box(pw_plane *p, pw_rect b)
{
    pw_rect in = pw_rect_intersect(b, (pw_rect){0, 0, p->width, p->height});
    if (in.w == 0)
        return;
    int x0 = in.x, y0 = in.y, x1 = in.x + in.w, y1 = in.y + in.h;
    long sum = 0, n = 0;
    for (int x = x0; x < x1; x++)
        sum += *pw_plane_at(p, x, y0) + *pw_plane_at(p, x, y1 - 1), n += 2;
    uint8_t v = (uint8_t)(sum / n);
    for (int y = y0; y < y1; y++)
        memset(pw_plane_at(p, x0, y), v, (size_t)(x1 - x0));
}

static int timing_frames(bench_state *st, const bench_opts *o, const pw_plane *grey, pw_rect box)
{
    pw_image *f720 = NULL, *copy = NULL;
    int rc = pw_image_new(FRAME_W, FRAME_H, 1, &f720);
    if (rc == 0)
        rc = pw_image_new(grey->width, grey->height, 1, &copy);
    if (rc == 0) {
        pw_plane fp = pw_image_plane(f720), cp = pw_image_plane(copy);
        rc = pw_cv_resize(grey, &fp);
        if (rc == 0)
            time_levels(st, &fp, o->repeat, 1);
        for (int y = 0; rc == 0 && y < grey->height; y++)
            memcpy(pw_plane_at(&cp, 0, y), pw_plane_at(grey, 0, y), (size_t)grey->width);
        erase_box(&cp, box);
        if (rc == 0)
            rc = pw_cv_resize(&cp, &fp);
        if (rc == 0)
            time_levels(st, &fp, o->repeat, 0);
    }
    pw_image_destroy(&f720);
    pw_image_destroy(&copy);
    return rc;
}

static void one_image(bench_state *st, const bench_opts *o, const pw_manifest_row *row, pw_detector *best)
{
    set_stats *s = set_for(st, row->set);
    gchar *bytes = NULL;
    gsize len = 0;
    pw_image *img = NULL;
    s->images++;
    if (!g_file_get_contents(row->image, &bytes, &len, NULL) ||
        pw_cv_decode((const uint8_t *)bytes, len, &img, NULL, NULL) < 0) {
        fprintf(stderr, "bench detect: cannot read or decode %s (manifest line %d)\n", row->image, row->line);
        s->decode_failures++;
        g_free(bytes);
        return;
    }
    g_free(bytes);
    pw_plane p = pw_image_plane(img);
    const pw_candidate *c;
    size_t n = 0;
    double t0 = pw_now_ms();
    pw_detector_run(best, &p, &c, &n);
    double ms = pw_now_ms() - t0;
    g_array_append_val(st->native, ms);
    int rank = hit_rank(c, n, row->box, o->top, o->iou);
    s->hits += rank > 0;
    s->hits1 += rank == 1;
    if (o->misses && rank == 0)
        print_miss(row, c, n, o->top);
    if (st->haar)
        s->haar_hits += haar_hit(st->haar, &p, row->box, o->top, o->iou, &ms);
    if (!o->recall_only && timing_frames(st, o, &p, row->box) < 0)
        fprintf(stderr, "bench detect: resizing %s failed\n", row->image);
    pw_image_destroy(&img);
}

static int parse_opts(int *argc, char ***argv, bench_opts *o)
{
    GOptionEntry entries[] = {
        {"sets", 's', 0, G_OPTION_ARG_STRING, &o->sets, "Comma-separated sets (default eu,us,br,fr)", "LIST"},
        {"repeat", 'r', 0, G_OPTION_ARG_INT, &o->repeat, "Timed runs per frame and level (default 5)", "N"},
        {"top", 't', 0, G_OPTION_ARG_INT, &o->top, "Candidates that count for recall (default 10)", "K"},
        {"iou", 0, 0, G_OPTION_ARG_DOUBLE, &o->iou, "IoU above which a candidate hits (default 0.4)", "X"},
        {"cascade", 0, 0, G_OPTION_ARG_FILENAME, &o->cascade, "Haar cascade XML for the baseline", "FILE"},
        {"no-haar", 0, 0, G_OPTION_ARG_NONE, &o->no_haar, "Skip the Haar baseline", NULL},
        {"recall-only", 0, 0, G_OPTION_ARG_NONE, &o->recall_only, "Measure recall only, no speed", NULL},
        {"misses", 0, 0, G_OPTION_ARG_NONE, &o->misses, "Print every missed image with the top candidates' boxes",
         NULL},
        {"limit", 0, 0, G_OPTION_ARG_INT, &o->limit, "Use at most N images per set (0: all)", "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("MANIFEST - localiser recall and speed, with the Haar baseline");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    gboolean ok = g_option_context_parse(ctx, argc, argv, &error);
    if (!ok)
        fprintf(stderr, "bench detect: %s\n", error->message);
    g_clear_error(&error);
    g_option_context_free(ctx);
    if (!ok || *argc != 2 || o->repeat < 1 || o->top < 1) {
        if (ok)
            fprintf(stderr, "usage: platewatch bench detect [OPTION...] MANIFEST\n");
        return -1;
    }
    return 0;
}

static int make_detectors(bench_state *st, const bench_opts *o)
{
    pw_simd_level best = pw_simd_best();
    for (int l = PW_SIMD_SCALAR; l <= (int)best; l++) {
        pw_detect_config cfg;
        pw_detect_config_defaults(&cfg);
        cfg.simd = (pw_simd_level)l;
        /* The detector returns exactly the candidates that count for recall. */
        cfg.max_candidates = o->top < PW_DETECT_MAX_CANDIDATES ? o->top : PW_DETECT_MAX_CANDIDATES;
        pw_err err;
        if (pw_detector_new(&cfg, &st->det[l], &err) < 0) {
            fprintf(stderr, "bench detect: %s\n", err.msg);
            return -1;
        }
        st->t_with[l] = g_array_new(FALSE, FALSE, sizeof(double));
        st->t_without[l] = g_array_new(FALSE, FALSE, sizeof(double));
    }
    if (!o->no_haar) {
        pw_err err;
        if (pw_cv_cascade_new(o->cascade ? o->cascade : PW_HAAR_PLATE_CASCADE, &st->haar, &err) < 0) {
            fprintf(stderr, "bench detect: %s\n", err.msg);
            return -1;
        }
    }
    return 0;
}

static void print_report(bench_state *st, const bench_opts *o, pw_simd_level best)
{
    printf("\nRecall: a candidate among the top %d with IoU > %.2f (localiser at %s, native size)\n", o->top,
           o->iou, pw_simd_name(best));
    printf("%-8s %6s %10s %10s %10s\n", "set", "images", "recall", "top-1", "haar");
    for (guint i = 0; i < st->sets->len; i++) {
        set_stats *s = &g_array_index(st->sets, set_stats, i);
        double n = s->images ? s->images : 1;
        printf("%-8s %6d %9.1f%% %9.1f%% %9.1f%%\n", s->name, s->images, 100.0 * s->hits / n,
               100.0 * s->hits1 / n, st->haar ? 100.0 * s->haar_hits / n : 0.0);
    }
    if (o->recall_only)
        return;
    printf("\nSpeed: median ms per %dx%d frame, one thread (%u frames with plate, %u without)\n", FRAME_W,
           FRAME_H, st->t_with[PW_SIMD_SCALAR]->len, st->t_without[PW_SIMD_SCALAR]->len);
    printf("%-8s %12s %12s %14s\n", "level", "with plate", "without", "vs scalar");
    double scalar = median(st->t_with[PW_SIMD_SCALAR]);
    for (int l = PW_SIMD_SCALAR; l <= (int)best; l++) {
        double w = median(st->t_with[l]), wo = median(st->t_without[l]);
        printf("%-8s %12.3f %12.3f %13.2fx\n", pw_simd_name((pw_simd_level)l), w, wo, w > 0 ? scalar / w : 0);
    }
    double fast = median(st->t_with[best]);
    if (st->haar) {
        double hw = median(st->haar_with), hwo = median(st->haar_without);
        printf("%-8s %12.3f %12.3f\n", "haar", hw, hwo);
        printf("haar / %s: %.1fx with plate, %.1fx without\n", pw_simd_name(best), fast > 0 ? hw / fast : 0,
               median(st->t_without[best]) > 0 ? hwo / median(st->t_without[best]) : 0);
    }
    printf("native-size median (%s): %.3f ms over %u frames\n", pw_simd_name(best), median(st->native),
           st->native->len);
    printf("SIMD levels identical to scalar: %ld of %ld frame comparisons\n", st->compared - st->mismatches,
           st->compared);
}

static void free_state(bench_state *st)
{
    for (int l = 0; l <= N_LEVELS; l++) {
        pw_detector_destroy(&st->det[l]);
        if (st->t_with[l])
            g_array_free(st->t_with[l], TRUE);
        if (st->t_without[l])
            g_array_free(st->t_without[l], TRUE);
    }
    pw_cv_cascade_destroy(&st->haar);
    g_array_free(st->haar_with, TRUE);
    g_array_free(st->haar_without, TRUE);
    g_array_free(st->native, TRUE);
    g_array_free(st->sets, TRUE);
}

int pw_bench_detect_main(int argc, char **argv)
{
    bench_opts o = {NULL, NULL, 5, 10, 0.4, FALSE, FALSE, FALSE, 0};
    if (parse_opts(&argc, &argv, &o) < 0)
        return 2;
    pw_manifest *m = NULL;
    pw_err err;
    if (pw_manifest_load(argv[1], &m, &err) < 0) {
        fprintf(stderr, "bench detect: %s\n", err.msg);
        return 2;
    }
    pw_manifest_filter_sets(m, o.sets ? o.sets : "eu,us,br,fr");
    /* One thread for everything timed, the Haar baseline included, as the issue compares them. */
    pw_cv_set_threads(1);
    bench_state st;
    memset(&st, 0, sizeof st);
    st.haar_with = g_array_new(FALSE, FALSE, sizeof(double));
    st.haar_without = g_array_new(FALSE, FALSE, sizeof(double));
    st.native = g_array_new(FALSE, FALSE, sizeof(double));
    st.sets = g_array_new(FALSE, TRUE, sizeof(set_stats));
    int status = make_detectors(&st, &o) < 0 ? 2 : 0;
    pw_simd_level best = pw_simd_best();
    for (size_t i = 0; status == 0 && i < pw_manifest_count(m); i++) {
        const pw_manifest_row *row = pw_manifest_row_at(m, i);
        set_stats *s = set_for(&st, row->set);
        if (!row->has_box || (o.limit > 0 && s->images >= o.limit))
            continue;
        one_image(&st, &o, row, st.det[best]);
    }
    if (status == 0)
        print_report(&st, &o, best);
    for (guint i = 0; i < st.sets->len; i++)
        status = status ? status : g_array_index(st.sets, set_stats, i).decode_failures ? 1 : 0;
    free_state(&st);
    pw_manifest_destroy(&m);
    g_free(o.sets);
    g_free(o.cascade);
    return status;
}
