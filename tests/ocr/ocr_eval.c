/*
 * ocr_eval.c - pw-ocr-eval: measures the OCR alone on a labelled manifest
 * (the dev set's manifest.csv). Rows with a box are cropped at the labelled
 * box plus a margin and scaled to the detector's crop height, as the
 * localiser would hand them over; crop-only rows are used whole. Prints, per
 * set, exact top-1 accuracy, accuracy within the alternatives, and the
 * median and mean OCR time per crop on this thread.
 *
 *   OMP_THREAD_LIMIT=1 pw-ocr-eval --manifest ../shared/data/plates/manifest.csv
 *       [--sets eu,us] [--country SK,CZ] [--crop-height 64] [--verbose]
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvshim.h"
#include "manifest.h"
#include "ocr.h"
#include "prep.h"
#include "pw_build_config.h"

typedef struct {
    char *manifest, *sets, *country, *formats_dir, *tessdata, *language, *dump;
    int crop_height, verbose;
} options;

typedef struct {
    char *name;
    int n, top1, in_alts, no_read;
    GArray *ms;
} set_stats;

/* The country list used for a set when --country is not given. */
static const char *default_countries(const char *set)
{
    if (strcmp(set, "eu") == 0)
        return "SK,CZ,PL,DE,GB";
    if (strcmp(set, "fr") == 0)
        return "FR";
    if (strcmp(set, "br") == 0)
        return "BR";
    return "US";
}

/* Crops the labelled box with a margin and scales it to crop_height rows. */
static int make_crop(const pw_image *grey, const pw_manifest_row *row, int crop_height, pw_image **out)
{
    pw_plane g = pw_image_plane(grey);
    pw_rect b = row->has_box ? row->box : (pw_rect){0, 0, g.width, g.height};
    if (row->has_box) {
        int mx = b.w / 12 + 1, my = b.h / 6 + 1;
        b.x -= mx, b.y -= my, b.w += 2 * mx, b.h += 2 * my;
    }
    if (b.x < 0) b.w += b.x, b.x = 0;
    if (b.y < 0) b.h += b.y, b.y = 0;
    if (b.x + b.w > g.width) b.w = g.width - b.x;
    if (b.y + b.h > g.height) b.h = g.height - b.y;
    if (b.w <= 0 || b.h <= 0)
        return PW_EEMPTYIMG;
    pw_plane src = g;
    src.data = pw_plane_at(&g, b.x, b.y);
    src.width = b.w;
    src.height = b.h;
    int w = (int)lround((double)b.w * crop_height / b.h);
    int rc = pw_image_new(w > 1 ? w : 1, crop_height, 1, out);
    if (rc < 0)
        return rc;
    pw_plane dst = pw_image_plane(*out);
    rc = pw_cv_resize(&src, &dst);
    if (rc < 0)
        pw_image_destroy(out);
    return rc;
}

static set_stats *stats_for(GPtrArray *all, const char *set)
{
    for (guint i = 0; i < all->len; i++) {
        set_stats *s = g_ptr_array_index(all, i);
        if (strcmp(s->name, set) == 0)
            return s;
    }
    set_stats *s = g_new0(set_stats, 1);
    s->name = g_strdup(set);
    s->ms = g_array_new(FALSE, FALSE, sizeof(double));
    g_ptr_array_add(all, s);
    return s;
}

static void stats_free(gpointer p)
{
    set_stats *s = p;
    g_free(s->name);
    g_array_unref(s->ms);
    g_free(s);
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int read_file(const char *path, pw_image **grey)
{
    char *buf = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &buf, &len, NULL))
        return -ENOENT;
    int rc = pw_cv_decode((const uint8_t *)buf, len, grey, NULL, NULL);
    g_free(buf);
    return rc;
}

/* Writes the crop and its prepared lines as PNG files named after the manifest line. */
static void dump_row(const char *dir, const pw_manifest_row *row, const pw_plane *crop)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%04d_%s_crop.png", dir, row->line, row->plate);
    pw_cv_write_file(crop, path, NULL);
    pw_image *norm = NULL;
    if (pw_prep_normalise(crop, &norm) < 0)
        return;
    pw_plane np = pw_image_plane(norm);
    for (int m = 0; m < 3; m++) {
        pw_image *line = NULL;
        pw_prep_info info;
        if (pw_prep_line(&np, (pw_bin_method)m, -1, NULL, &line, &info) == 0) {
            pw_plane lp = pw_image_plane(line);
            snprintf(path, sizeof path, "%s/%04d_%s_line%d.png", dir, row->line, row->plate, m);
            pw_cv_write_file(&lp, path, NULL);
        }
        pw_image_destroy(&line);
    }
    pw_image_destroy(&norm);
}

static void eval_row(pw_ocr *ocr, const pw_formats *f, const options *opt, const pw_manifest_row *row,
                     set_stats *st)
{
    pw_image *grey = NULL, *crop = NULL;
    if (read_file(row->image, &grey) < 0 || make_crop(grey, row, opt->crop_height, &crop) < 0) {
        fprintf(stderr, "line %d: cannot read or crop %s\n", row->line, row->image);
        pw_image_destroy(&grey);
        return;
    }
    char codes[32][PW_COUNTRY_MAX];
    size_t n_codes = 0;
    pw_err err;
    const char *list = opt->country ? opt->country : default_countries(row->set);
    if (pw_formats_parse_countries(f, list, codes, 32, &n_codes, &err) < 0)
        fprintf(stderr, "%s\n", err.msg);
    pw_plate_read r;
    pw_plane cp = pw_image_plane(crop);
    double t0 = pw_now_ms();
    int rc = pw_ocr_read(ocr, &cp, (const char(*)[PW_COUNTRY_MAX])codes, n_codes, &r);
    double ms = pw_now_ms() - t0;
    g_array_append_val(st->ms, ms);
    st->n++;
    int top1 = rc == 0 && strcmp(r.text, row->plate) == 0, alt = 0;
    for (size_t i = 0; rc == 0 && i < r.n_alts; i++)
        alt |= strcmp(r.alts[i].text, row->plate) == 0;
    st->top1 += top1;
    st->in_alts += alt;
    st->no_read += rc != 0;
    if (opt->verbose && !top1)
        printf("%-8s %-10s read %-10s %5.1f %-3s alts%s %s (%dx%d)\n", row->set, row->plate,
               rc == 0 ? r.text : pw_strerror(rc), rc == 0 ? r.confidence : 0.0, rc == 0 ? r.country : "",
               alt ? "+" : "-", row->image, cp.width, cp.height);
    if (opt->dump && !top1)
        dump_row(opt->dump, row, &cp);
    pw_image_destroy(&crop);
    pw_image_destroy(&grey);
}

static void report(GPtrArray *all)
{
    printf("%-9s %5s %7s %7s %7s %9s %9s\n", "set", "n", "top1%", "alts%", "none", "median_ms", "mean_ms");
    for (guint i = 0; i < all->len; i++) {
        set_stats *s = g_ptr_array_index(all, i);
        g_array_sort(s->ms, cmp_double);
        double sum = 0;
        for (guint k = 0; k < s->ms->len; k++)
            sum += g_array_index(s->ms, double, k);
        double median = s->ms->len ? g_array_index(s->ms, double, s->ms->len / 2) : 0;
        printf("%-9s %5d %7.1f %7.1f %7d %9.2f %9.2f\n", s->name, s->n, 100.0 * s->top1 / (s->n ? s->n : 1),
               100.0 * s->in_alts / (s->n ? s->n : 1), s->no_read, median, s->n ? sum / s->n : 0);
    }
}

static int run(const options *opt)
{
    pw_err err;
    pw_manifest *m = NULL;
    pw_formats *f = NULL;
    pw_ocr *ocr = NULL;
    int rc = pw_manifest_load(opt->manifest, &m, &err);
    if (rc == 0)
        rc = pw_formats_load_dir(opt->formats_dir, &f, &err);
    pw_ocr_config cfg;
    pw_ocr_config_defaults(&cfg);
    if (opt->tessdata)
        cfg.tessdata_dir = opt->tessdata;
    if (opt->language)
        cfg.language = opt->language;
    if (rc == 0)
        rc = pw_ocr_new(&cfg, f, &ocr, &err);
    if (rc < 0) {
        fprintf(stderr, "pw-ocr-eval: %s\n", err.msg);
    } else {
        pw_manifest_filter_sets(m, opt->sets);
        GPtrArray *all = g_ptr_array_new_with_free_func(stats_free);
        for (size_t i = 0; i < pw_manifest_count(m); i++) {
            const pw_manifest_row *row = pw_manifest_row_at(m, i);
            eval_row(ocr, f, opt, row, stats_for(all, row->set));
        }
        report(all);
        g_ptr_array_unref(all);
    }
    pw_ocr_destroy(&ocr);
    pw_formats_destroy(&f);
    pw_manifest_destroy(&m);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    options opt = {.crop_height = 64};
    GOptionEntry entries[] = {
        {"manifest", 'm', 0, G_OPTION_ARG_FILENAME, &opt.manifest, "manifest.csv of the labelled set", "FILE"},
        {"sets", 's', 0, G_OPTION_ARG_STRING, &opt.sets, "sets to measure (default all)", "LIST"},
        {"country", 'c', 0, G_OPTION_ARG_STRING, &opt.country, "country list for every set", "LIST"},
        {"formats", 'f', 0, G_OPTION_ARG_FILENAME, &opt.formats_dir, "plate-format folder", "DIR"},
        {"tessdata", 't', 0, G_OPTION_ARG_FILENAME, &opt.tessdata, "tessdata folder", "DIR"},
        {"language", 'l', 0, G_OPTION_ARG_STRING, &opt.language, "traineddata name", "NAME"},
        {"crop-height", 'H', 0, G_OPTION_ARG_INT, &opt.crop_height, "crop height in pixels (64)", "PX"},
        {"dump", 'd', 0, G_OPTION_ARG_FILENAME, &opt.dump, "write crops and prepared lines of misreads here", "DIR"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, "print every wrong reading", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- OCR accuracy and time on labelled plate crops");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    int ok = g_option_context_parse(ctx, &argc, &argv, &gerr);
    g_option_context_free(ctx);
    if (!ok || !opt.manifest || opt.crop_height < 8) {
        fprintf(stderr, "pw-ocr-eval: %s\n", gerr ? gerr->message : "--manifest FILE is required");
        g_clear_error(&gerr);
        return 2;
    }
    if (!g_getenv("OMP_THREAD_LIMIT"))
        fprintf(stderr, "pw-ocr-eval: OMP_THREAD_LIMIT is not set; Tesseract times will be inflated\n");
    if (!opt.formats_dir)
        opt.formats_dir = g_strdup(PW_MODELS_DIR "/formats");
    int rc = run(&opt);
    g_free(opt.manifest);
    g_free(opt.sets);
    g_free(opt.country);
    g_free(opt.formats_dir);
    g_free(opt.tessdata);
    g_free(opt.language);
    g_free(opt.dump);
    return rc;
}
