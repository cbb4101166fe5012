/*
 * bench_gate.c - pw-bench-gate: import and decision-latency benchmark of the
 * lane controller (docs/BENCHMARKS.md, section 6).
 *
 *   pw-bench-gate [--rows 1000000] [--events 20000] [--dir DIR] [--seed 1]
 *
 * Generates a CSV of synthetic declarations (GB/FR/DE/NL-like plates, half
 * with a trailer), imports it into a fresh store, then decides events read
 * from it (exact, with OCR confusions, with one other edit, and unknown
 * plates) through pw_gate_handle_json(), which is everything the controller
 * does after receiving an event: parse, candidate search, decision, audit
 * commit. Baselines from the same run: CSV splitting alone (for the import)
 * and a primary-key lookup of a declaration by reference (for decisions).
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int rows, events, seed;
    char *dir;
} bench_opts;

/*
 * CPU time of the calling thread in ms: on a shared machine the wall clock
 * also counts the time other processes held the CPU, so both are reported.
 */
static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *const patterns[] = {"LLDDLLL", "LLDDDLL", "LLLDDDD", "DDLLLD"};
static const char *const countries[] = {"GB", "FR", "DE", "NL"};

static void random_plate(GRand *r, int fmt, char *out)
{
    const char *p = patterns[fmt];
    size_t n = strlen(p);
    for (size_t i = 0; i < n; i++)
        out[i] = p[i] == 'L' ? (char)('A' + g_rand_int_range(r, 0, 26))
                             : (char)('0' + g_rand_int_range(r, 0, 10));
    out[n] = '\0';
}

#define T0_US (INT64_C(1740787200) * G_USEC_PER_SEC)   /* 2025-03-01T00:00:00Z */

/* Writes the CSV; plates[i] keeps row i's vehicle plate for the events. */
static char *write_csv(const bench_opts *o, GRand *r, char (*plates)[PW_PLATE_MAX + 1], int *fmts,
                       int64_t *starts)
{
    char *path = g_build_filename(o->dir, "declarations.csv", NULL);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        perror(path);
        exit(2);
    }
    fprintf(fp, "reference,vehicle_plate,trailer_plate,country,site,lane,window_start,"
                "window_end,status\n");
    for (int i = 0; i < o->rows; i++) {
        int fmt = g_rand_int_range(r, 0, 4);
        char trailer[16] = "";
        random_plate(r, fmt, plates[i]);
        fmts[i] = fmt;
        if (g_rand_boolean(r))
            random_plate(r, g_rand_int_range(r, 0, 4), trailer);
        int64_t start = T0_US + (int64_t)g_rand_int_range(r, 0, 20 * 3600) * G_USEC_PER_SEC;
        starts[i] = start;
        char *s = pw_format_time(start);
        char *e = pw_format_time(start + INT64_C(4 * 3600) * G_USEC_PER_SEC);
        fprintf(fp, "GB25%014d,%s,%s,%s,,,%s,%s,active\n", i, plates[i], trailer,
                countries[fmt], s, e);
        g_free(s);
        g_free(e);
    }
    fclose(fp);
    return path;
}

/* Baseline: reading and splitting the same file without storing anything. */
static double split_only_ms(const char *path)
{
    double t0 = pw_now_ms();
    FILE *fp = fopen(path, "r");
    char *line = NULL, *f[16];
    size_t cap = 0;
    long fields = 0;
    while (getline(&line, &cap, fp) >= 0)
        fields += pw_csv_split(line, f, 16);
    free(line);
    fclose(fp);
    if (fields == 0)
        fprintf(stderr, "empty CSV\n");
    return pw_now_ms() - t0;
}

static const char confusable[] = "OIBSZGDQ0185260";
static const char confused[] = "01852600OIBSZGD";

/* The read for event k: exact, confused, one other edit, or unknown. */
static void make_read(GRand *r, const char *declared, char *out, const char **kind)
{
    strcpy(out, declared);
    int what = g_rand_int_range(r, 0, 8);
    size_t n = strlen(out);
    if (what < 3) {
        *kind = "exact";
    } else if (what < 5) {
        *kind = "confusion";
        for (size_t i = 0; i < n; i++) {
            const char *c = strchr(confusable, out[i]);
            if (c) {
                out[i] = confused[c - confusable];
                break;
            }
        }
    } else if (what < 7) {
        *kind = "one_edit";
        size_t i = (size_t)g_rand_int_range(r, 0, (gint32)n);
        out[i] = out[i] == 'X' ? 'Y' : 'X';
    } else {
        *kind = "unknown";
        random_plate(r, 3, out);
        out[0] = 'Q';   /* a NL-like plate starting with a letter: never generated */
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    printf("%-28s n=%d median %.3f ms  p90 %.3f  p99 %.3f  max %.3f\n", what, n, ms[n / 2],
           ms[n * 9 / 10], ms[n * 99 / 100], ms[n - 1]);
}

static pw_gate *open_gate(const char *store)
{
    pw_gate_config cfg;
    pw_gate_config_defaults(&cfg);
    cfg.store_path = store;
    pw_gate *g = NULL;
    pw_err err = {0};
    if (pw_gate_new(&cfg, &g, &err)) {
        fprintf(stderr, "pw-bench-gate: %s\n", err.msg);
        exit(2);
    }
    return g;
}

/* A vehicle.new event as the publisher writes it (pw_event_to_json). */
static char *event_json(int k, const char *plate, const char *country, int64_t first_us)
{
    pw_event ev = {.kind = PW_EVENT_VEHICLE_NEW, .schema_version = PW_EVENT_SCHEMA_VERSION,
                   .seq = (uint64_t)k + 1, .confidence = 0.9, .first_seen_us = first_us,
                   .last_seen_us = first_us, .best_capture_us = first_us,
                   .published_us = first_us, .frames = 5};
    char *id = g_uuid_string_random();
    g_strlcpy(ev.event_id, id, sizeof ev.event_id);
    g_strlcpy(ev.stream_id, "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab", sizeof ev.stream_id);
    g_strlcpy(ev.instance_id, "0b1c2d3e-4a5b-4c6d-8e7f-0123456789ab", sizeof ev.instance_id);
    g_strlcpy(ev.site, "dover", sizeof ev.site);
    g_strlcpy(ev.lane, "l03", sizeof ev.lane);
    g_strlcpy(ev.camera, "cam1", sizeof ev.camera);
    g_strlcpy(ev.plate, plate, sizeof ev.plate);
    g_strlcpy(ev.country, country, sizeof ev.country);
    char *json = NULL;
    pw_err err = {0};
    if (pw_event_to_json(&ev, &json, &err)) {
        fprintf(stderr, "pw-bench-gate: %s\n", err.msg);
        exit(2);
    }
    g_free(id);
    return json;
}

static void bench_decisions(const bench_opts *o, const char *store, GRand *r,
                            char (*plates)[PW_PLATE_MAX + 1], const int *fmts, const int64_t *starts)
{
    pw_gate *g = open_gate(store);
    pw_declstore *st = NULL;
    pw_declstore_new(store, &st, NULL);
    double *ms = g_new(double, o->events), *base = g_new(double, o->events);
    double *cpu = g_new(double, o->events);
    int counts[4] = {0};
    for (int k = 0; k < o->events; k++) {
        int row = g_rand_int_range(r, 0, o->rows);
        char read[PW_PLATE_MAX + 1], ref[32];
        const char *kind;
        make_read(r, plates[row], read, &kind);
        /* Inside the declared window, as most arrivals are; in the form a publisher sends. */
        int64_t first = starts[row] + (int64_t)g_rand_int_range(r, 0, 4 * 3600) * G_USEC_PER_SEC;
        char *json = event_json(k, read, countries[fmts[row]], first);
        pw_gate_result res;
        pw_err err = {0};
        double c0 = thread_cpu_ms(), t0 = pw_now_ms();
        if (pw_gate_handle_json(g, json, strlen(json), &res, &err)) {
            fprintf(stderr, "pw-bench-gate: %s\n", err.msg);
            exit(1);
        }
        ms[k] = pw_now_ms() - t0;
        cpu[k] = thread_cpu_ms() - c0;
        counts[res.verdict]++;
        pw_gate_result_clear(&res);
        g_snprintf(ref, sizeof ref, "GB25%014d", row);
        pw_decl d;
        t0 = pw_now_ms();
        pw_declstore_get(st, ref, &d, NULL);
        base[k] = pw_now_ms() - t0;
        g_free(json);
    }
    printf("verdicts: RELEASE %d, HOLD %d, MANUAL %d\n", counts[PW_GATE_RELEASE],
           counts[PW_GATE_HOLD], counts[PW_GATE_MANUAL]);
    report("decision (handle_json)", ms, o->events);
    report("decision, thread CPU time", cpu, o->events);
    report("baseline (get by reference)", base, o->events);
    printf("ratio decision/baseline (median): %.1f\n", ms[o->events / 2] / base[o->events / 2]);
    g_free(ms);
    g_free(cpu);
    g_free(base);
    pw_declstore_destroy(&st);
    pw_gate_destroy(&g);
}

int main(int argc, char **argv)
{
    bench_opts o = {1000000, 20000, 1, NULL};
    GOptionEntry entries[] = {
        {"rows", 'n', 0, G_OPTION_ARG_INT, &o.rows, "declarations (1000000)", "N"},
        {"events", 'e', 0, G_OPTION_ARG_INT, &o.events, "events to decide (20000)", "N"},
        {"seed", 0, 0, G_OPTION_ARG_INT, &o.seed, "random seed (1)", "N"},
        {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &o.dir, "work directory (a new temp dir)", "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- lane controller benchmark");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr) || o.rows < 1 || o.events < 1) {
        fprintf(stderr, "pw-bench-gate: %s\n", gerr ? gerr->message : "bad --rows/--events");
        return 2;
    }
    g_option_context_free(ctx);
    if (!o.dir)
        o.dir = g_dir_make_tmp("pw-bench-gate-XXXXXX", NULL);
    else if (g_mkdir_with_parents(o.dir, 0755) != 0)
        fprintf(stderr, "pw-bench-gate: cannot create %s\n", o.dir);
    GRand *r = g_rand_new_with_seed((guint32)o.seed);
    char (*plates)[PW_PLATE_MAX + 1] = g_malloc((size_t)o.rows * sizeof *plates);
    int *fmts = g_new(int, o.rows);
    int64_t *starts = g_new(int64_t, o.rows);
    char *csv = write_csv(&o, r, plates, fmts, starts);
    char *store = g_build_filename(o.dir, "bench.db", NULL);
    g_unlink(store);
    double split = split_only_ms(csv);
    pw_declstore *st = NULL;
    pw_err err = {0};
    pw_import_report rep;
    if (pw_declstore_new(store, &st, &err)) {
        fprintf(stderr, "pw-bench-gate: %s\n", err.msg);
        return 2;
    }
    double t0 = pw_now_ms(), c0 = thread_cpu_ms();
    int rc = pw_declstore_import(st, csv, PW_IMPORT_CSV, NULL, NULL, &rep, &err);
    double imp = pw_now_ms() - t0, imp_cpu = thread_cpu_ms() - c0;
    pw_declstore_destroy(&st);
    if (rc) {
        fprintf(stderr, "pw-bench-gate: %s\n", err.msg);
        return 1;
    }
    printf("import: %d rows in %.2f s (%.0f rows/s; thread CPU %.2f s); baseline CSV split "
           "%.2f s; ratio %.1f\n", o.rows, imp / 1000.0, o.rows / (imp / 1000.0),
           imp_cpu / 1000.0, split / 1000.0, imp / split);
    bench_decisions(&o, store, r, plates, fmts, starts);
    printf("files kept in %s\n", o.dir);
    g_free(store);
    g_free(csv);
    g_free(plates);
    g_free(fmts);
    g_free(starts);
    g_free(o.dir);
    g_rand_free(r);
    return 0;
}
