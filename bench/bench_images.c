/*
 * platewatch bench images MANIFEST - runs the read path over a labelled
 * manifest and prints accuracy and time per set.
 */
#define _POSIX_C_SOURCE 200809L
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "manifest.h"
#include "reader.h"

#define MAX_COUNTRIES 32

/* What the manifest's "EU" country means: the formats of the EU-side sets. */
#define DEFAULT_EU_COUNTRIES "SK,CZ,PL,DE,GB,AT,HU,NL,BE,FR,IT,ES,RO,BG,UA,TR"

typedef struct {
    gchar *sets;
    gchar *countries;  /* forces one list for every row */
    gchar *eu;         /* the list used for rows labelled EU */
    gchar *simd;
    gchar *folds;      /* only images of these folds (sha1 % 5) */
    gchar *tessdata, *language;
    gint preparations;
    gdouble stop_confidence;
    gint candidates;
    gint merge_contained;  /* -1 keeps the default */
    gint rank_candidates;  /* -1 keeps the default */
    gint jobs;
    gint top;
    gboolean verbose;
} bench_options;

/* Outcome of one manifest row. */
typedef struct {
    int error;
    int detected;      /* -1: crop row, no box to compare */
    int exact, one_edit, in_top;
    double ms;
    char best[PW_PLATE_MAX + 1];
} row_outcome;

typedef struct {
    const pw_manifest *manifest;
    const bench_options *opt;
    row_outcome *outcomes;
    gint next;          /* next row to take, shared by the workers */
    gint failed_setup;
} bench_job;

static void score_row(const pw_manifest_row *row, const pw_read_result *res, int top, row_outcome *o)
{
    char label[64];
    pw_plate_chars(row->plate, label, sizeof label);
    o->detected = row->has_box ? 0 : -1;
    int best_dist = 1000;
    for (size_t i = 0; i < res->n_plates; i++) {
        const pw_plate *p = &res->plates[i];
        char text[PW_PLATE_MAX + 1];
        pw_plate_chars(p->read.text, text, sizeof text);
        if (row->has_box && pw_rect_iou(p->box, row->box) > 0.4)
            o->detected = 1;
        int d = pw_edit_distance(text, label);
        if (d < best_dist) {
            best_dist = d;
            g_strlcpy(o->best, text, sizeof o->best);
        }
        for (size_t a = 0; a < p->read.n_alts && (int)a < top; a++) {
            pw_plate_chars(p->read.alts[a].text, text, sizeof text);
            o->in_top |= strcmp(text, label) == 0;
        }
    }
    o->exact = best_dist == 0;
    o->one_edit = best_dist <= 1;
    o->in_top |= o->exact;
}

static size_t row_countries(const pw_reader *reader, const bench_options *opt, const pw_manifest_row *row,
                            char (*codes)[PW_COUNTRY_MAX])
{
    const char *list = opt->countries ? opt->countries
                       : g_ascii_strcasecmp(row->country, "EU") == 0 ? opt->eu
                                                                      : row->country;
    size_t n = 0;
    if (pw_formats_parse_countries(pw_reader_formats(reader), list, codes, MAX_COUNTRIES, &n, NULL) < 0)
        n = 0; /* a country without formats is read against all formats */
    return n;
}

static void run_row(pw_reader *reader, bench_job *job, size_t i)
{
    const pw_manifest_row *row = pw_manifest_row_at(job->manifest, i);
    row_outcome *o = &job->outcomes[i];
    char codes[MAX_COUNTRIES][PW_COUNTRY_MAX];
    size_t n = row_countries(reader, job->opt, row, codes);
    pw_read_result res;
    pw_err err = {0};
    double t0 = pw_now_ms();
    int rc = pw_reader_read_file(reader, row->image, (const char (*)[PW_COUNTRY_MAX])codes, n, &res, &err);
    o->ms = pw_now_ms() - t0;
    if (rc < 0) {
        o->error = rc;
        fprintf(stderr, "bench images: %s: %s\n", row->image, err.msg[0] ? err.msg : pw_strerror(rc));
        return;
    }
    score_row(row, &res, job->opt->top, o);
    if (job->opt->verbose && !o->exact)
        fprintf(stderr, "miss %-8s %s: label %s, best %s, %zu plates, detected %d\n", row->set, row->image,
                row->plate, o->best[0] ? o->best : "-", res.n_plates, o->detected);
}

static gpointer worker(gpointer data)
{
    bench_job *job = data;
    pw_reader_config cfg;
    pw_reader_config_defaults(&cfg);
    cfg.ocr.top_n = job->opt->top;
    if (job->opt->simd)
        pw_simd_parse(job->opt->simd, &cfg.detect.simd);
    if (job->opt->tessdata)
        cfg.ocr.tessdata_dir = job->opt->tessdata;
    if (job->opt->language)
        cfg.ocr.language = job->opt->language;
    if (job->opt->preparations)
        cfg.ocr.preparations = job->opt->preparations;
    if (job->opt->candidates > 0)
        cfg.read.candidates = job->opt->candidates;
    if (job->opt->stop_confidence >= 0)
        cfg.read.stop_confidence = (float)job->opt->stop_confidence;
    if (job->opt->merge_contained >= 0)
        cfg.read.merge_contained = job->opt->merge_contained;
    if (job->opt->rank_candidates >= 0)
        cfg.read.rank_candidates = job->opt->rank_candidates;
    pw_reader *reader = NULL;
    pw_err err = {0};
    if (pw_reader_new(&cfg, &reader, &err) < 0) {
        fprintf(stderr, "bench images: %s\n", err.msg);
        g_atomic_int_set(&job->failed_setup, 1);
        return NULL;
    }
    size_t total = pw_manifest_count(job->manifest);
    for (gint i; (size_t)(i = g_atomic_int_add(&job->next, 1)) < total;)
        run_row(reader, job, (size_t)i);
    pw_reader_destroy(&reader);
    return NULL;
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(GArray *sorted, double q)
{
    if (sorted->len == 0)
        return 0.0;
    size_t k = (size_t)(q * (sorted->len - 1) + 0.5);
    return g_array_index(sorted, double, k);
}

static double pct(int num, int den)
{
    return den ? 100.0 * num / den : 0.0;
}

static void print_set(const char *set, const pw_manifest *m, const row_outcome *out)
{
    int n = 0, boxed = 0, det = 0, exact = 0, edit1 = 0, top = 0, errors = 0;
    GArray *ms = g_array_new(FALSE, FALSE, sizeof(double));
    for (size_t i = 0; i < pw_manifest_count(m); i++) {
        const pw_manifest_row *row = pw_manifest_row_at(m, i);
        if (set && strcmp(row->set, set) != 0)
            continue;
        n++;
        g_array_append_val(ms, out[i].ms);
        if (out[i].error) {
            errors++;
            continue;
        }
        boxed += out[i].detected >= 0;
        det += out[i].detected > 0;
        exact += out[i].exact;
        edit1 += out[i].one_edit;
        top += out[i].in_top;
    }
    g_array_sort(ms, cmp_double);
    char detected[16] = "n/a";
    if (boxed)
        g_snprintf(detected, sizeof detected, "%.1f%%", pct(det, boxed));
    printf("%-10s %6d %9s %6.1f%% %6.1f%% %6.1f%% %9.1f %8.1f %6d\n", set ? set : "all", n, detected,
           pct(exact, n), pct(edit1, n), pct(top, n), percentile(ms, 0.5), percentile(ms, 0.95), errors);
    g_array_free(ms, TRUE);
}

static void print_table(const pw_manifest *m, const row_outcome *out, int top)
{
    printf("%-10s %6s %9s %7s %7s %6s%-2d %9s %8s %6s\n", "set", "images", "detected", "exact", "1-edit", "top-",
           top, "median ms", "p95 ms", "errors");
    GPtrArray *sets = g_ptr_array_new();
    for (size_t i = 0; i < pw_manifest_count(m); i++) {
        const char *s = pw_manifest_row_at(m, i)->set;
        if (!g_ptr_array_find_with_equal_func(sets, s, g_str_equal, NULL))
            g_ptr_array_add(sets, (gpointer)s);
    }
    for (guint i = 0; i < sets->len; i++)
        print_set(g_ptr_array_index(sets, i), m, out);
    if (sets->len > 1)
        print_set(NULL, m, out);
    g_ptr_array_free(sets, TRUE);
}

static int parse_options(int *argc, char ***argv, bench_options *o)
{
    GOptionEntry entries[] = {
        {"sets", 's', 0, G_OPTION_ARG_STRING, &o->sets, "Only these sets, e.g. eu,fr", "SET[,SET...]"},
        {"country", 'c', 0, G_OPTION_ARG_STRING, &o->countries, "One country list for every row", "CC[,CC...]"},
        {"eu", 0, 0, G_OPTION_ARG_STRING, &o->eu, "Countries for rows labelled EU (default " DEFAULT_EU_COUNTRIES ")", "CC[,CC...]"},
        {"simd", 0, 0, G_OPTION_ARG_STRING, &o->simd, "Localiser level: auto, scalar, sse2, avx2", "LEVEL"},
        {"folds", 0, 0, G_OPTION_ARG_STRING, &o->folds, "Only images whose sha1 % 5 is listed (held-out folds)", "F[,F...]"},
        {"tessdata", 0, 0, G_OPTION_ARG_FILENAME, &o->tessdata, "Tesseract tessdata folder", "DIR"},
        {"lang", 0, 0, G_OPTION_ARG_STRING, &o->language, "Tesseract model (default: the reader's)", "NAME"},
        {"preparations", 0, 0, G_OPTION_ARG_INT, &o->preparations, "OCR binarisations tried at most (1-3)", "N"},
        {"candidates", 0, 0, G_OPTION_ARG_INT, &o->candidates, "Localiser candidates read per image", "N"},
        {"stop-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &o->stop_confidence,
         "A format match this confident ends an image's reading (0: read every candidate)", "C"},
        {"merge-contained", 0, 0, G_OPTION_ARG_INT, &o->merge_contained,
         "1 merges reads whose box lies inside another's, 0 keeps them", "0|1"},
        {"rank-candidates", 0, 0, G_OPTION_ARG_INT, &o->rank_candidates,
         "Localiser boxes whose character rows are counted; those without a plate-like row are not read (0: the localiser's order)", "N"},
        {"jobs", 'j', 0, G_OPTION_ARG_INT, &o->jobs, "Worker threads, one reader each (default 1)", "N"},
        {"top", 'n', 0, G_OPTION_ARG_INT, &o->top, "N of label-in-top-N (default 5)", "N"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose, "List every image not read exactly", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("MANIFEST - accuracy of the read path on labelled images");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    gboolean ok = g_option_context_parse(ctx, argc, argv, &gerr);
    g_option_context_free(ctx);
    if (!ok || *argc != 2) {
        fprintf(stderr, "platewatch bench images: %s\n", ok ? "give exactly one MANIFEST" : gerr->message);
        g_clear_error(&gerr);
        return -1;
    }
    o->jobs = CLAMP(o->jobs, 1, 64);
    o->top = o->top <= 0 ? 5 : MIN(o->top, PW_OCR_MAX_ALTS);
    if (!o->eu)
        o->eu = g_strdup(DEFAULT_EU_COUNTRIES);
    return 0;
}

static void free_options(bench_options *o)
{
    g_free(o->sets);
    g_free(o->countries);
    g_free(o->eu);
    g_free(o->simd);
    g_free(o->folds);
    g_free(o->tessdata);
    g_free(o->language);
}

static int run_bench(pw_manifest *m, const bench_options *o)
{
    bench_job job = {.manifest = m, .opt = o};
    job.outcomes = g_new0(row_outcome, pw_manifest_count(m));
    GThread **threads = g_new0(GThread *, o->jobs);
    for (int i = 0; i < o->jobs; i++)
        threads[i] = g_thread_new("bench-images", worker, &job);
    for (int i = 0; i < o->jobs; i++)
        g_thread_join(threads[i]);
    g_free(threads);
    int status = 2;
    if (!job.failed_setup) {
        print_table(m, job.outcomes, o->top);
        status = 0;
    }
    g_free(job.outcomes);
    return status;
}

int pw_bench_images_main(int argc, char **argv)
{
    bench_options o = {.stop_confidence = -1, .merge_contained = -1, .rank_candidates = -1};
    pw_manifest *m = NULL;
    pw_err err = {0};
    int status = 2;
    if (parse_options(&argc, &argv, &o) < 0)
        goto out;
    if (pw_manifest_load(argv[1], &m, &err) < 0) {
        fprintf(stderr, "platewatch bench images: %s\n", err.msg);
        goto out;
    }
    pw_manifest_filter_sets(m, o.sets);
    if (pw_manifest_filter_folds(m, o.folds, &err) < 0) {
        fprintf(stderr, "platewatch bench images: --folds: %s\n", err.msg);
        goto out;
    }
    if (pw_manifest_count(m) == 0) {
        fprintf(stderr, "platewatch bench images: %s: no rows%s%s\n", argv[1], o.sets ? " in sets " : "",
                o.sets ? o.sets : "");
        goto out;
    }
    status = run_bench(m, &o);
out:
    pw_manifest_destroy(&m);
    free_options(&o);
    return status;
}
