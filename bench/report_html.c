/*
 * report_html.c - one self-contained HTML page for `bench video`: the
 * summary table, per-recording tables, and inline SVG charts (latency
 * histogram, stage percentiles, accuracy by plate height, most frequent
 * character confusions). No script, style sheet or font is fetched, so
 * the page reads the same offline.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "video.h"

#define HIST_BINS 20
#define CHART_W 720
#define CHART_H 240

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

static const char *colour(guint i)
{
    return palette[i % G_N_ELEMENTS(palette)];
}

static void esc(GString *s, const char *text)
{
    gchar *e = g_markup_escape_text(text ? text : "", -1);
    g_string_append(s, e);
    g_free(e);
}

static void legend(GString *s, JsonArray *cfgs)
{
    g_string_append(s, "<p class=legend>");
    for (guint c = 0; c < json_array_get_length(cfgs); c++) {
        g_string_append_printf(s, "<span style=\"color:%s\">&#9632;</span> ", colour(c));
        esc(s, json_object_get_string_member(json_array_get_object_element(cfgs, c), "label"));
        g_string_append(s, " &nbsp; ");
    }
    g_string_append(s, "</p>\n");
}

/* A grouped bar chart: one group per category, one bar per configuration; values[c * n + i]. */
static void bar_chart(GString *s, const char *unit, char **cats, guint n, const double *values, guint nc,
                      double ymax)
{
    int left = 50, bottom = 40, w = CHART_W - left - 10, h = CHART_H - bottom - 10;
    if (ymax <= 0)
        ymax = 1;
    g_string_append_printf(s, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" "
                              "font-size=\"10\">\n", CHART_W, CHART_H);
    for (int t = 0; t <= 4; t++) {
        double y = 10 + h - h * t / 4.0;
        g_string_append_printf(s, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                                  "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g%s</text>\n",
                               left, left + w, y, y, left - 4, y + 3, ymax * t / 4.0, unit);
    }
    double gw = n ? (double)w / n : w, bw = gw * 0.8 / MAX(nc, 1u);
    for (guint i = 0; i < n; i++) {
        for (guint c = 0; c < nc; c++) {
            double v = values[c * n + i], bh = h * MIN(v, ymax) / ymax;
            g_string_append_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                                      "<title>%s: %.3g%s</title></rect>\n",
                                   left + gw * i + gw * 0.1 + bw * c, 10 + h - bh, MAX(bw - 1, 1.0), bh, colour(c),
                                   cats[i], v, unit);
        }
        g_string_append_printf(s, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", left + gw * (i + 0.5),
                               CHART_H - bottom + 14);
        esc(s, cats[i]);
        g_string_append(s, "</text>\n");
    }
    g_string_append(s, "</svg>\n");
}

/* Histogram of capture-to-vehicle.new latency, on bins shared by every configuration. */
static void latency_histogram(GString *s, JsonArray *cfgs)
{
    guint nc = json_array_get_length(cfgs);
    double max = 0;
    for (guint c = 0; c < nc; c++) {
        JsonObject *o = json_array_get_object_element(cfgs, c);
        JsonObject *l = json_object_has_member(o, "capture_to_new") ? json_object_get_object_member(o, "capture_to_new") : NULL;
        JsonArray *v = l ? json_object_get_array_member(l, "values_ms") : NULL;
        for (guint i = 0; v && i < json_array_get_length(v); i++)
            max = MAX(max, json_array_get_double_element(v, i));
    }
    g_string_append(s, "<h2>Latency: frame captured to vehicle.new</h2>\n");
    if (max <= 0) {
        g_string_append(s, "<p>No vehicle.new event.</p>\n");
        return;
    }
    double bin = max / HIST_BINS * 1.0001;
    double *counts = g_new0(double, nc * HIST_BINS);
    double top = 0;
    for (guint c = 0; c < nc; c++) {
        JsonObject *l = json_object_get_object_member(json_array_get_object_element(cfgs, c), "capture_to_new");
        JsonArray *v = l ? json_object_get_array_member(l, "values_ms") : NULL;
        for (guint i = 0; v && i < json_array_get_length(v); i++) {
            int b = MIN(HIST_BINS - 1, (int)(json_array_get_double_element(v, i) / bin));
            double k = ++counts[c * HIST_BINS + b];
            top = MAX(top, k);
        }
    }
    char *cats[HIST_BINS];
    for (int b = 0; b < HIST_BINS; b++)
        cats[b] = g_strdup_printf("%.0f", bin * (b + 0.5));
    bar_chart(s, "", cats, HIST_BINS, counts, nc, top);
    g_string_append(s, "<p class=note>Events per latency bin (bin centre in ms). Offline runs read as fast as "
                       "possible, so frames wait in the capture queue: use <code>--realtime</code> for "
                       "camera-like latency.</p>\n");
    for (int b = 0; b < HIST_BINS; b++)
        g_free(cats[b]);
    g_free(counts);
}

static void stage_chart(GString *s, JsonArray *cfgs)
{
    static const char *const paths[] = {"totals.detect.p50_ms", "totals.detect.p95_ms", "totals.detect.p99_ms",
                                        "totals.ocr.p50_ms", "totals.ocr.p95_ms", "totals.ocr.p99_ms"};
    char *cats[] = {"detect p50", "detect p95", "detect p99", "OCR p50", "OCR p95", "OCR p99"};
    guint nc = json_array_get_length(cfgs), n = G_N_ELEMENTS(paths);
    double *v = g_new0(double, nc * n), top = 0;
    for (guint c = 0; c < nc; c++)
        for (guint i = 0; i < n; i++)
        {
            v[c * n + i] = pw_vjson_num(json_array_get_object_element(cfgs, c), paths[i]);
            top = MAX(top, v[c * n + i]);
        }
    g_string_append(s, "<h2>Stage latency (ms)</h2>\n");
    bar_chart(s, "", cats, n, v, nc, top);
    g_free(v);
}

static int cmp_int_str(gconstpointer a, gconstpointer b)
{
    return atoi(*(char *const *)a) - atoi(*(char *const *)b);
}

/* Exact frame reads per plate-height band; bands come from every configuration's results. */
static void height_chart(GString *s, JsonArray *cfgs)
{
    guint nc = json_array_get_length(cfgs);
    GPtrArray *bands = g_ptr_array_new_with_free_func(g_free);
    for (guint c = 0; c < nc; c++) {
        JsonObject *o = json_array_get_object_element(cfgs, c);
        JsonObject *h = json_object_has_member(o, "by_height") ? json_object_get_object_member(o, "by_height") : NULL;
        GList *keys = h ? json_object_get_members(h) : NULL;
        for (GList *k = keys; k; k = k->next)
            if (!g_ptr_array_find_with_equal_func(bands, k->data, g_str_equal, NULL))
                g_ptr_array_add(bands, g_strdup(k->data));
        g_list_free(keys);
    }
    g_string_append(s, "<h2>Frame-level exact reads by plate height (pixels)</h2>\n");
    if (bands->len == 0) {
        g_string_append(s, "<p>No per-frame plate boxes in the ground truth (CLIP.boxes.csv or a manifest).</p>\n");
        g_ptr_array_free(bands, TRUE);
        return;
    }
    g_ptr_array_sort(bands, cmp_int_str);
    guint n = bands->len;
    double *v = g_new0(double, nc * n);
    char **cats = g_new0(char *, n);
    for (guint i = 0; i < n; i++) {
        int lo = atoi(bands->pdata[i]);
        gint64 frames = 0;
        for (guint c = 0; c < nc; c++) {
            JsonObject *h = json_object_get_object_member(json_array_get_object_element(cfgs, c), "by_height");
            JsonArray *a = h && json_object_has_member(h, bands->pdata[i]) ? json_object_get_array_member(h, bands->pdata[i]) : NULL;
            if (a && json_array_get_int_element(a, 0) > 0) {
                frames = json_array_get_int_element(a, 0);
                v[c * n + i] = 100.0 * json_array_get_int_element(a, 1) / frames;
            }
        }
        cats[i] = g_strdup_printf("%d-%d (%" G_GINT64_FORMAT ")", lo, lo + 7, frames);
    }
    bar_chart(s, "%", cats, n, v, nc, 100);
    g_string_append(s, "<p class=note>Plate box height band in pixels (frames in the band); the bar is the share "
                       "of those frames with an exact read.</p>\n");
    for (guint i = 0; i < n; i++)
        g_free(cats[i]);
    g_free(cats), g_free(v);
    g_ptr_array_free(bands, TRUE);
}

static void confusion_list(GString *s, JsonArray *cfgs)
{
    g_string_append(s, "<h2>Most frequent character confusions (frame reads)</h2>\n<div class=row>\n");
    for (guint c = 0; c < json_array_get_length(cfgs); c++) {
        JsonObject *o = json_array_get_object_element(cfgs, c);
        JsonArray *a = json_object_has_member(o, "confusions") ? json_object_get_array_member(o, "confusions") : NULL;
        guint n = a ? MIN(json_array_get_length(a), 12u) : 0;
        double top = n ? (double)json_object_get_int_member(json_array_get_object_element(a, 0), "count") : 1;
        g_string_append(s, "<div><h3>");
        esc(s, json_object_get_string_member(o, "label"));
        g_string_append_printf(s, "</h3>\n<svg width=\"340\" height=\"%u\" xmlns=\"http://www.w3.org/2000/svg\" "
                                  "font-size=\"11\">\n", 18 * MAX(n, 1u) + 4);
        for (guint i = 0; i < n; i++) {
            JsonObject *e = json_array_get_object_element(a, i);
            gint64 k = json_object_get_int_member(e, "count");
            g_string_append_printf(s, "<text x=\"0\" y=\"%u\" font-family=\"monospace\">%s &#8594; %s</text>"
                                      "<rect x=\"60\" y=\"%u\" width=\"%.1f\" height=\"13\" fill=\"%s\"/>"
                                      "<text x=\"%.1f\" y=\"%u\">%" G_GINT64_FORMAT "</text>\n",
                                   18 * i + 14, json_object_get_string_member(e, "truth"),
                                   json_object_get_string_member(e, "read"), 18 * i + 3, 240.0 * k / top, colour(c),
                                   66 + 240.0 * k / top, 18 * i + 14, k);
        }
        if (n == 0)
            g_string_append(s, "<text x=\"0\" y=\"14\">none</text>\n");
        g_string_append(s, "</svg></div>\n");
    }
    g_string_append(s, "</div>\n<p class=note>truth &#8594; read; _ is a missing or extra character. From reads "
                       "within half their length of the plate, aligned by edit distance.</p>\n");
}

static void summary_table(GString *s, JsonArray *cfgs)
{
    guint nc = json_array_get_length(cfgs);
    g_string_append(s, "<table>\n<tr><th></th>");
    for (guint c = 0; c < nc; c++) {
        g_string_append_printf(s, "<th style=\"color:%s\">", colour(c));
        esc(s, json_object_get_string_member(json_array_get_object_element(cfgs, c), "label"));
        g_string_append(s, c ? "</th><th>ratio</th>" : "</th>");
    }
    g_string_append(s, "</tr>\n");
    const char *title = NULL;
    char text[48], first[48];
    for (size_t i = 0; pw_vreport_figure(i, json_array_get_object_element(cfgs, 0), &title, first, sizeof first) == 0;
         i++) {
        g_string_append(s, "<tr><td>");
        esc(s, title);
        g_string_append(s, "</td>");
        for (guint c = 0; c < nc; c++) {
            pw_vreport_figure(i, json_array_get_object_element(cfgs, c), &title, text, sizeof text);
            g_string_append_printf(s, "<td>%s</td>", text);
            double a = g_ascii_strtod(first, NULL), b = g_ascii_strtod(text, NULL);
            if (c)
                g_string_append_printf(s, a > 0 ? "<td>&#215;%.2f</td>" : "<td>-</td>", a > 0 ? b / a : 0);
        }
        g_string_append(s, "</tr>\n");
    }
    g_string_append(s, "</table>\n");
}

static void recordings_table(GString *s, JsonObject *cfg, guint c)
{
    g_string_append_printf(s, "<h3 style=\"color:%s\">", colour(c));
    esc(s, json_object_get_string_member(cfg, "label"));
    g_string_append(s, "</h3>\n<table>\n<tr><th>recording</th><th>passages</th><th>exact</th><th>one edit</th>"
                       "<th>missed</th><th>false</th><th>frames exact</th><th>fps</th><th>finals (read / truth)</th>"
                       "</tr>\n");
    JsonArray *recs = json_object_has_member(cfg, "recordings") ? json_object_get_array_member(cfg, "recordings") : NULL;
    for (guint i = 0; recs && i < json_array_get_length(recs); i++) {
        JsonObject *r = json_array_get_object_element(recs, i);
        g_string_append(s, "<tr><td>");
        esc(s, json_object_get_string_member(r, "recording"));
        if (json_object_has_member(r, "error")) {
            g_string_append(s, "</td><td colspan=8>error: ");
            esc(s, json_object_get_string_member(r, "error"));
            g_string_append(s, "</td></tr>\n");
            continue;
        }
        double tf = pw_vjson_num(r, "truth_frames"), wall = pw_vjson_num(r, "wall_ms");
        g_string_append_printf(s, "</td><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.0f</td>"
                                  "<td>%.1f%%</td><td>%.1f</td><td class=small>",
                               pw_vjson_num(r, "passages"), pw_vjson_num(r, "exact"), pw_vjson_num(r, "one_edit"),
                               pw_vjson_num(r, "missed"), pw_vjson_num(r, "false_vehicles"),
                               tf > 0 ? 100 * pw_vjson_num(r, "frames_exact") / tf : 0,
                               wall > 0 ? pw_vjson_num(r, "frames") * 1000 / wall : 0);
        JsonArray *v = json_object_get_array_member(r, "vehicles");
        for (guint k = 0; v && k < json_array_get_length(v) && k < 40; k++) {
            JsonObject *e = json_array_get_object_element(v, k);
            const char *read = json_object_get_string_member(e, "read");
            esc(s, *read ? read : "-");
            g_string_append(s, "/");
            esc(s, json_object_get_string_member(e, "truth"));
            g_string_append(s, " ");
        }
        g_string_append(s, "</td></tr>\n");
    }
    g_string_append(s, "</table>\n");
}

static const char style[] =
    "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}"
    ".note{color:#555;font-size:90%}.row{display:flex;flex-wrap:wrap;gap:2em}.small{font-size:80%;text-align:left}"
    "code{background:#f4f4f4}</style>\n";

int pw_vreport_html(JsonObject *report, const char *path, pw_err *err)
{
    JsonArray *cfgs = json_object_get_array_member(report, "configurations");
    GString *s = g_string_new("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                              "<title>platewatch bench video</title>\n");
    g_string_append(s, style);
    g_string_append(s, "</head><body>\n<h1>platewatch bench video</h1>\n<p><code>");
    esc(s, json_object_get_string_member(report, "command"));
    JsonArray *recs = json_object_get_array_member(report, "recordings");
    g_string_append_printf(s, "</code></p>\n<p>%u recording(s), %s.</p>\n", json_array_get_length(recs),
                           json_object_get_boolean_member(report, "realtime") ? "played in real time"
                                                                               : "read as fast as possible");
    legend(s, cfgs);
    summary_table(s, cfgs);
    latency_histogram(s, cfgs);
    stage_chart(s, cfgs);
    height_chart(s, cfgs);
    confusion_list(s, cfgs);
    g_string_append(s, "<h2>Recordings</h2>\n");
    for (guint c = 0; c < json_array_get_length(cfgs); c++)
        recordings_table(s, json_array_get_object_element(cfgs, c), c);
    g_string_append(s, "</body></html>\n");
    GError *gerr = NULL;
    int rc = 0;
    if (!g_file_set_contents(path, s->str, (gssize)s->len, &gerr)) {
        rc = pw_err_set(err, -EIO, "%s: %s", path, gerr->message);
        g_error_free(gerr);
    }
    g_string_free(s, TRUE);
    return rc;
}
