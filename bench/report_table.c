/*
 * report_table.c - the terminal table of `bench video`: one row per figure,
 * one column per configuration, and for every configuration after the
 * first its ratio against the first (measured in the same run).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "video.h"

typedef enum { PCT, NUM, MS, INT } kind;

/* A figure: a path into the result, or a percentage of two paths. */
typedef struct {
    const char *title;
    const char *path;
    const char *of;   /* denominator for PCT */
    kind kind;
} figure;

static const figure figures[] = {
    {"vehicles (passages)", "totals.passages", NULL, INT},
    {"  read exactly (final)", "totals.exact", "totals.passages", PCT},
    {"  within one edit", "totals.one_edit", "totals.passages", PCT},
    {"  missed", "totals.missed", NULL, INT},
    {"  false vehicles", "totals.false_vehicles", NULL, INT},
    {"frames with a plate", "totals.truth_frames", NULL, INT},
    {"  read exactly", "totals.frames_exact", "totals.truth_frames", PCT},
    {"  within one edit", "totals.frames_one_edit", "totals.truth_frames", PCT},
    {"reads exact / all reads", "totals.reads_exact", "totals.reads", PCT},
    {"detect p50 ms", "totals.detect.p50_ms", NULL, MS},
    {"detect p95 ms", "totals.detect.p95_ms", NULL, MS},
    {"detect p99 ms", "totals.detect.p99_ms", NULL, MS},
    {"OCR p50 ms", "totals.ocr.p50_ms", NULL, MS},
    {"OCR p95 ms", "totals.ocr.p95_ms", NULL, MS},
    {"OCR p99 ms", "totals.ocr.p99_ms", NULL, MS},
    {"capture->event p50 ms", "totals.capture_to_event.p50_ms", NULL, MS},
    {"capture->event p95 ms", "totals.capture_to_event.p95_ms", NULL, MS},
    {"capture->event p99 ms", "totals.capture_to_event.p99_ms", NULL, MS},
    {"capture->vehicle.new p50 ms", "capture_to_new.p50_ms", NULL, MS},
    {"capture->vehicle.new p99 ms", "capture_to_new.p99_ms", NULL, MS},
    {"frames processed", "totals.frames", NULL, INT},
    {"  not searched (no motion)", "totals.frames_still", NULL, INT},
    {"crops sent to OCR", "totals.candidates", NULL, INT},
    {"  candidates not read (settled, still)", "totals.candidates_skipped", NULL, INT},
    {"throughput fps", "throughput_fps", NULL, MS},
    {"CPU ms per frame", "cpu_ms_per_frame", NULL, MS},
    {"peak RSS MiB", "peak_rss_kb", NULL, MS},
    {"frames dropped", "totals.frames_dropped", NULL, INT},
    {"crops dropped (OCR queue full)", "totals.crops_dropped", NULL, INT},
};

static double value(JsonObject *cfg, const figure *f)
{
    double v = pw_vjson_num(cfg, f->path);
    if (f->kind == PCT) {
        double d = pw_vjson_num(cfg, f->of);
        return d > 0 ? 100.0 * v / d : 0;
    }
    return g_str_equal(f->path, "peak_rss_kb") ? v / 1024.0 : v;
}

static void cell(FILE *out, const figure *f, double v, double first, int with_ratio)
{
    char text[48];
    if (f->kind == PCT)
        g_snprintf(text, sizeof text, "%.1f%%", v);
    else if (f->kind == INT)
        g_snprintf(text, sizeof text, "%.0f", v);
    else
        g_snprintf(text, sizeof text, "%.2f", v);
    if (with_ratio && first > 0)
        fprintf(out, " %10s x%-5.2f", text, v / first);
    else if (with_ratio)
        fprintf(out, " %10s %-6s", text, "-");
    else
        fprintf(out, " %17s", text);
}

int pw_vreport_figure(size_t i, JsonObject *cfg, const char **title, char *text, size_t cap)
{
    if (i >= G_N_ELEMENTS(figures))
        return -1;
    const figure *f = &figures[i];
    double v = value(cfg, f);
    *title = f->title;
    g_snprintf(text, cap, f->kind == PCT ? "%.1f%%" : f->kind == INT ? "%.0f" : "%.2f", v);
    return 0;
}

void pw_vreport_table(JsonArray *configs, FILE *out)
{
    guint n = json_array_get_length(configs);
    fprintf(out, "%-32s", "");
    for (guint c = 0; c < n; c++)
        fprintf(out, " %17.17s", json_object_get_string_member(json_array_get_object_element(configs, c), "label"));
    fprintf(out, "\n%-32s", "");
    for (guint c = 0; c < n; c++)
        fprintf(out, " %17s", c == 0 ? "(baseline)" : "value  ratio");
    fprintf(out, "\n");
    for (size_t i = 0; i < G_N_ELEMENTS(figures); i++) {
        const figure *f = &figures[i];
        double first = value(json_array_get_object_element(configs, 0), f);
        fprintf(out, "%-32s", f->title);
        for (guint c = 0; c < n; c++)
            cell(out, f, value(json_array_get_object_element(configs, c), f), first, c > 0);
        fprintf(out, "\n");
    }
    for (guint c = 0; c < n; c++) {
        JsonObject *o = json_array_get_object_element(configs, c);
        fprintf(out, "%s: %s, lane %s, simd %s%s%s%s\n", json_object_get_string_member(o, "label"),
                json_object_get_string_member(o, "config"), json_object_get_string_member(o, "lane"),
                json_object_get_string_member(o, "simd"), *json_object_get_string_member(o, "variant") ? ", " : "",
                json_object_get_string_member(o, "variant"),
                json_object_get_boolean_member(o, "realtime") ? ", real time" : ", as fast as possible");
    }
    fprintf(out, "Stage percentiles are per-recording lane figures averaged by sample count; capture->vehicle.new "
                 "is exact over all recordings.\n");
}
