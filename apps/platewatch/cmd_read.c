/*
 * platewatch read - prints the plates found in each image, as text or as one
 * JSON object per image per line (fields in docs/read-json.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "pw_json.h"
#include "reader.h"

#define MAX_COUNTRIES 32

typedef struct {
    gboolean json;
    gchar *countries;
    gint top;
    gchar *formats_dir;
    gchar *tessdata_dir;
    gchar *language;
    gchar *simd;
    gdouble min_confidence;
} read_options;

static void add_corners(JsonBuilder *b, const float corners[4][2])
{
    json_builder_set_member_name(b, "corners");
    json_builder_begin_array(b);
    for (int i = 0; i < 4; i++) {
        json_builder_begin_array(b);
        /* A hundredth of a pixel, as in events: a float's other digits mean nothing. */
        json_builder_add_double_value(b, round(corners[i][0] * 100.0) / 100.0);
        json_builder_add_double_value(b, round(corners[i][1] * 100.0) / 100.0);
        json_builder_end_array(b);
    }
    json_builder_end_array(b);
}

static void add_box(JsonBuilder *b, pw_rect r)
{
    json_builder_set_member_name(b, "box");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "x");
    json_builder_add_int_value(b, r.x);
    json_builder_set_member_name(b, "y");
    json_builder_add_int_value(b, r.y);
    json_builder_set_member_name(b, "w");
    json_builder_add_int_value(b, r.w);
    json_builder_set_member_name(b, "h");
    json_builder_add_int_value(b, r.h);
    json_builder_end_object(b);
}

/* Rounds to one decimal so the output stays readable and stable. */
static double round1(double v)
{
    return (double)(long long)(v * 10.0 + (v < 0 ? -0.5 : 0.5)) / 10.0;
}

static void add_plate(JsonBuilder *b, const pw_plate *p, int top)
{
    const pw_plate_read *rd = &p->read;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, rd->text);
    json_builder_set_member_name(b, "confidence");
    json_builder_add_double_value(b, round1(rd->confidence));
    json_builder_set_member_name(b, "country");
    if (rd->country[0])
        json_builder_add_string_value(b, rd->country);
    else
        json_builder_add_null_value(b);
    add_corners(b, p->corners);
    add_box(b, p->box);
    json_builder_set_member_name(b, "detector_score");
    json_builder_add_double_value(b, round1(p->detector_score));
    json_builder_set_member_name(b, "char_confidences");
    json_builder_begin_array(b);
    for (size_t i = 0; i < strlen(rd->text); i++)
        json_builder_add_double_value(b, round1(rd->char_conf[i]));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "alternatives");
    json_builder_begin_array(b);
    for (size_t i = 0; i < rd->n_alts && (int)i < top; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "text");
        json_builder_add_string_value(b, rd->alts[i].text);
        json_builder_set_member_name(b, "confidence");
        json_builder_add_double_value(b, round1(rd->alts[i].confidence));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static void add_timings(JsonBuilder *b, const pw_read_result *res)
{
    json_builder_set_member_name(b, "ms");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "decode");
    json_builder_add_double_value(b, round1(res->decode_ms));
    json_builder_set_member_name(b, "detect");
    json_builder_add_double_value(b, round1(res->detect_ms));
    json_builder_set_member_name(b, "ocr");
    json_builder_add_double_value(b, round1(res->ocr_ms));
    json_builder_end_object(b);
}

static void print_json(JsonBuilder *b)
{
    gchar *text = pw_json_builder_to_string(b, FALSE);
    printf("%s\n", text);
    fflush(stdout);
    g_free(text);
}

static void print_result_json(const char *path, const pw_read_result *res, int top)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "image");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, res->width);
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, res->height);
    add_timings(b, res);
    json_builder_set_member_name(b, "plates");
    json_builder_begin_array(b);
    for (size_t i = 0; i < res->n_plates; i++)
        add_plate(b, &res->plates[i], top);
    json_builder_end_array(b);
    json_builder_end_object(b);
    print_json(b);
    g_object_unref(b);
}

static void print_error_json(const char *path, int code, const char *reason)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "image");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, reason);
    json_builder_set_member_name(b, "error_code");
    json_builder_add_int_value(b, code);
    json_builder_end_object(b);
    print_json(b);
    g_object_unref(b);
}

static void print_result_text(const char *path, const pw_read_result *res, int top)
{
    printf("%s: %zu plate%s (%dx%d; decode %.1f ms, detect %.1f ms, ocr %.1f ms)\n", path, res->n_plates,
           res->n_plates == 1 ? "" : "s", res->width, res->height, res->decode_ms, res->detect_ms, res->ocr_ms);
    for (size_t i = 0; i < res->n_plates; i++) {
        const pw_plate *p = &res->plates[i];
        printf("  %-10s confidence %5.1f  country %-4s box %d,%d %dx%d  corners", p->read.text,
               p->read.confidence, p->read.country[0] ? p->read.country : "-", p->box.x, p->box.y, p->box.w,
               p->box.h);
        for (int c = 0; c < 4; c++)
            printf(" (%.0f,%.0f)", p->corners[c][0], p->corners[c][1]);
        printf("\n    alternatives:");
        for (size_t a = 0; a < p->read.n_alts && (int)a < top; a++)
            printf(" %s %.1f%s", p->read.alts[a].text, p->read.alts[a].confidence,
                   a + 1 < p->read.n_alts && (int)a + 1 < top ? "," : "");
        printf("\n");
    }
    fflush(stdout);
}

static int parse_options(int *argc, char ***argv, read_options *o)
{
    GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &o->json, "One JSON object per image per line", NULL},
        {"country", 'c', 0, G_OPTION_ARG_STRING, &o->countries, "Plate formats to match, e.g. FR,DE", "CC[,CC...]"},
        {"top", 'n', 0, G_OPTION_ARG_INT, &o->top, "Alternative readings to show per plate (default 5)", "N"},
        {"formats", 0, 0, G_OPTION_ARG_FILENAME, &o->formats_dir, "Folder of plate-format files", "DIR"},
        {"tessdata", 0, 0, G_OPTION_ARG_FILENAME, &o->tessdata_dir, "Tesseract tessdata folder", "DIR"},
        {"lang", 0, 0, G_OPTION_ARG_STRING, &o->language, "Tesseract model, or models joined by + (default " PW_OCR_DEFAULT_LANGUAGE ")", "NAME"},
        {"simd", 0, 0, G_OPTION_ARG_STRING, &o->simd, "Localiser level: auto, scalar, sse2, avx2", "LEVEL"},
        {"min-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &o->min_confidence, "Lowest confidence reported (default 40)", "C"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("IMAGE... - read the licence plates in images");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    gboolean ok = g_option_context_parse(ctx, argc, argv, &gerr);
    g_option_context_free(ctx);
    if (!ok) {
        fprintf(stderr, "platewatch read: %s\n", gerr->message);
        g_error_free(gerr);
        return -1;
    }
    if (*argc < 2) {
        fprintf(stderr, "platewatch read: no image given (see --help)\n");
        return -1;
    }
    if (o->top <= 0)
        o->top = 5;
    return 0;
}

static int make_reader(const read_options *o, pw_reader **reader)
{
    pw_reader_config cfg;
    pw_reader_config_defaults(&cfg);
    pw_err err = {0};
    if (o->formats_dir)
        cfg.formats_dir = o->formats_dir;
    if (o->tessdata_dir)
        cfg.ocr.tessdata_dir = o->tessdata_dir;
    if (o->language)
        cfg.ocr.language = o->language;
    cfg.ocr.top_n = o->top > PW_OCR_MAX_ALTS ? PW_OCR_MAX_ALTS : o->top;
    if (o->min_confidence > 0)
        cfg.read.min_confidence = (float)o->min_confidence;
    if (o->simd && pw_simd_parse(o->simd, &cfg.detect.simd) < 0) {
        fprintf(stderr, "platewatch read: --simd: unknown level '%s' (auto, scalar, sse2, avx2)\n", o->simd);
        return -1;
    }
    int rc = pw_reader_new(&cfg, reader, &err);
    if (rc < 0) {
        fprintf(stderr, "platewatch read: %s\n", err.msg[0] ? err.msg : pw_strerror(rc));
        return -1;
    }
    return 0;
}

static int read_one(pw_reader *reader, const char *path, const read_options *o,
                    const char (*codes)[PW_COUNTRY_MAX], size_t n_codes)
{
    pw_read_result res;
    pw_err err = {0};
    int rc = pw_reader_read_file(reader, path, codes, n_codes, &res, &err);
    if (rc < 0) {
        const char *reason = err.msg[0] ? err.msg : pw_strerror(rc);
        fprintf(stderr, "platewatch read: %s: %s\n", path, reason);
        if (o->json)
            print_error_json(path, rc, reason);
        return rc;
    }
    if (o->json)
        print_result_json(path, &res, o->top);
    else
        print_result_text(path, &res, o->top);
    return 0;
}

int pw_cmd_read(int argc, char **argv)
{
    read_options o = {0};
    int status = 2;
    pw_reader *reader = NULL;
    char codes[MAX_COUNTRIES][PW_COUNTRY_MAX];
    size_t n_codes = 0;
    if (parse_options(&argc, &argv, &o) < 0 || make_reader(&o, &reader) < 0)
        goto out;
    if (o.countries) {
        pw_err err = {0};
        if (pw_formats_parse_countries(pw_reader_formats(reader), o.countries, codes, MAX_COUNTRIES, &n_codes,
                                       &err) < 0) {
            fprintf(stderr, "platewatch read: --country: %s\n", err.msg);
            goto out;
        }
    }
    status = 0;
    for (int i = 1; i < argc; i++)
        if (read_one(reader, argv[i], &o, (const char (*)[PW_COUNTRY_MAX])codes, n_codes) < 0)
            status = 1;
out:
    pw_reader_destroy(&reader);
    g_free(o.countries);
    g_free(o.formats_dir);
    g_free(o.tessdata_dir);
    g_free(o.language);
    g_free(o.simd);
    return status;
}
