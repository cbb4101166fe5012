/*
 * pw-synth - writes rendered street scenes with one plate each, and their
 * ground truth as a manifest in the dev set's format, for the quick start,
 * demos and benchmarks on data the project makes itself.
 *
 *   pw-synth scenes --out DIR [--count N] [--seed S] [--width W --height H]
 *   pw-synth drive --out CLIP.webm|CLIP.avi [--plates "AB-123-CD:FR,..."] [--truth FILE]
 *   pw-synth photos --manifest manifest.csv --out DIR [--sets eu,fr] [--per-clip N] [--format webm|avi]
 *
 * `drive` writes a drive-by recording (synth/drive.h), its ground truth
 * (docs/ground-truth.md) next to it, or to --truth, and the per-frame plate
 * boxes (CLIP.boxes.csv). `photos` does the same from photographs with
 * labelled plate boxes: each labelled image becomes one vehicle passage,
 * N of them a clip.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "synth.h"

/* Printed layouts by country: L letter, N digit, other characters as they are. */
static const struct {
    const char *country;
    const char *layout;
} layouts[] = {
    {"FR", "LL-NNN-LL"}, {"DE", "L LL NNNN"}, {"NL", "NN-LLL-N"}, {"PL", "LL NNNNN"},
    {"GB", "LLNN LLL"},  {"US", "NLLLNNN"},   {"BR", "LLL NNNN"}, {"CZ", "NLN NNNN"},
};

/* Letters that no country format confuses with digits, so the label is unambiguous. */
static const char letters[] = "ACEFHJKLMNPRTUVWXY";

static guint32 next_rand(guint64 *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (guint32)(*s >> 16);
}

static void fill_layout(const char *layout, guint64 *s, char *printed, char *label)
{
    size_t n = 0;
    for (const char *c = layout; *c; c++) {
        char ch = *c;
        if (ch == 'L')
            ch = letters[next_rand(s) % (sizeof letters - 1)];
        else if (ch == 'N')
            ch = (char)('1' + next_rand(s) % 9);
        *printed++ = ch;
        if (g_ascii_isalnum(ch) && (*c == 'L' || *c == 'N'))
            label[n++] = ch;
    }
    *printed = '\0';
    label[n] = '\0';
}

static void corners_box(const float c[4][2], pw_rect *box)
{
    float x0 = c[0][0], x1 = c[0][0], y0 = c[0][1], y1 = c[0][1];
    for (int i = 1; i < 4; i++) {
        x0 = fminf(x0, c[i][0]), x1 = fmaxf(x1, c[i][0]);
        y0 = fminf(y0, c[i][1]), y1 = fmaxf(y1, c[i][1]);
    }
    *box = (pw_rect){(int)floorf(x0), (int)floorf(y0), (int)ceilf(x1 - x0), (int)ceilf(y1 - y0)};
}

/* Parses the options of a sub-command; shared (may be NULL) adds a second set of entries. */
static int parse(int *argc, char ***argv, GOptionEntry *entries, GOptionEntry *shared, const char *summary)
{
    GOptionContext *ctx = g_option_context_new(summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (shared)
        g_option_context_add_main_entries(ctx, shared, NULL);
    GError *gerr = NULL;
    gboolean ok = g_option_context_parse(ctx, argc, argv, &gerr);
    g_option_context_free(ctx);
    if (!ok) {
        fprintf(stderr, "pw-synth: %s\n", gerr->message);
        g_error_free(gerr);
        return -1;
    }
    return 0;
}

/* The drive-by options that `drive` and `photos` share, writing into spec and seed. */
#define DRIVE_SPEC_ENTRIES(spec, seed)                                                                      \
    {"width", 'W', 0, G_OPTION_ARG_INT, &(spec).width, "Frame width (default 1280)", "W"},                   \
    {"height", 'H', 0, G_OPTION_ARG_INT, &(spec).height, "Frame height (default 720)", "H"},                 \
    {"frames", 0, 0, G_OPTION_ARG_INT, &(spec).frames_per_passage, "Frames per vehicle (default 40)", "N"},  \
    {"gap", 0, 0, G_OPTION_ARG_INT, &(spec).gap_frames, "Empty frames between vehicles (default 30)", "N"},  \
    {"far", 0, 0, G_OPTION_ARG_INT, &(spec).char_height_far, "Character height when far (default 18)", "PX"}, \
    {"near", 0, 0, G_OPTION_ARG_INT, &(spec).char_height_near, "Character height when near (default 34)",    \
     "PX"},                                                                                                 \
    {"seed", 's', 0, G_OPTION_ARG_INT, &(seed), "Random seed (default 1)", "S"},                           \
    {NULL, 0, 0, 0, NULL, NULL, NULL}

static int write_scene(const char *dir, int index, int width, int height, guint64 *s, FILE *manifest)
{
    size_t k = next_rand(s) % G_N_ELEMENTS(layouts);
    char printed[32], label[32];
    fill_layout(layouts[k].layout, s, printed, label);
    pw_scene_spec spec = {.width = width, .height = height, .seed = next_rand(s), .clutter = 40,
                          .blur_sigma = 0.6, .noise_sigma = 3.0, .vehicle = 1};
    pw_scene_plate plate;
    pw_plate_style_defaults(&plate.style, printed, 18 + (int)(next_rand(s) % 22));
    plate.cx = width * (0.3f + (next_rand(s) % 40) / 100.0f);
    plate.cy = height * (0.45f + (next_rand(s) % 30) / 100.0f);
    plate.tilt_deg = (float)((int)(next_rand(s) % 13) - 6);
    pw_image *img = NULL;
    float corners[1][4][2];
    int rc = pw_synth_scene(&spec, &plate, 1, &img, corners);
    if (rc < 0)
        return rc;
    char name[64];
    g_snprintf(name, sizeof name, "scene-%03d.jpg", index);
    gchar *path = g_build_filename(dir, name, NULL);
    pw_plane p = pw_image_plane(img);
    pw_err err = {0};
    rc = pw_cv_write_file(&p, path, &err);
    if (rc < 0)
        fprintf(stderr, "pw-synth: %s\n", err.msg);
    pw_rect box;
    corners_box(corners[0], &box);
    if (rc == 0)
        fprintf(manifest, "%s,%s,%d,%d,%d,%d,%s,synth\n", name, label, box.x, box.y, box.w, box.h,
                layouts[k].country);
    g_free(path);
    pw_image_destroy(&img);
    return rc;
}

static int scenes_main(int argc, char **argv)
{
    gchar *out = NULL;
    gint count = 6, seed = 1, width = 1280, height = 720;
    GOptionEntry entries[] = {
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Output folder (created)", "DIR"},
        {"count", 'n', 0, G_OPTION_ARG_INT, &count, "Number of scenes (default 6)", "N"},
        {"seed", 's', 0, G_OPTION_ARG_INT, &seed, "Random seed (default 1)", "S"},
        {"width", 'W', 0, G_OPTION_ARG_INT, &width, "Scene width (default 1280)", "W"},
        {"height", 'H', 0, G_OPTION_ARG_INT, &height, "Scene height (default 720)", "H"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    if (parse(&argc, &argv, entries, NULL, "- write rendered plate scenes and manifest.csv") < 0 || !out || count <= 0) {
        fprintf(stderr, "usage: pw-synth scenes --out DIR [--count N] [--seed S]\n");
        g_free(out);
        return 2;
    }
    int status = 0;
    gchar *manifest_path = g_build_filename(out, "manifest.csv", NULL);
    FILE *manifest = NULL;
    if (g_mkdir_with_parents(out, 0755) < 0 || !(manifest = fopen(manifest_path, "w"))) {
        fprintf(stderr, "pw-synth: %s: %s\n", manifest_path, g_strerror(errno));
        status = 1;
    } else {
        fprintf(manifest, "image,plate_text,x,y,w,h,country,set\n");
        guint64 s = (guint64)seed * 0x9E3779B97F4A7C15ull + 1;
        for (int i = 0; i < count && status == 0; i++)
            status = write_scene(out, i, width, height, &s, manifest) < 0;
        if (fclose(manifest) != 0)
            status = 1;
        printf("%s\n", manifest_path);
    }
    g_free(manifest_path);
    g_free(out);
    return status;
}

/* Parses "AB-123-CD:FR,WX 48213:PL" into passages; the strings point into the split array. */
static size_t parse_passages(gchar **items, pw_passage *out, size_t max)
{
    size_t n = 0;
    for (gchar **it = items; *it && n < max; it++) {
        gchar *colon = strrchr(*it, ':');
        if (colon)
            *colon = '\0';
        out[n].printed = *it;
        out[n].country = colon ? colon + 1 : "";
        out[n].dark_on_light = 1;
        out[n].photo = NULL;
        n++;
    }
    return n;
}

static int write_truth(const char *path, const char *clip, const pw_passage_truth *t, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "pw-synth: %s: %s\n", path, g_strerror(errno));
        return -1;
    }
    gchar *base = g_path_get_basename(clip);
    fprintf(f, "recording,plate_text,country,first_frame,last_frame,first_ms,last_ms\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s,%s,%s,%d,%d,%lld,%lld\n", base, t[i].plate, t[i].country, t[i].first_frame,
                t[i].last_frame, (long long)t[i].first_ms, (long long)t[i].last_ms);
    g_free(base);
    return fclose(f) == 0 ? 0 : -1;
}

/* Per-frame plate boxes (docs/ground-truth.md), written while the clip is rendered. */
typedef struct {
    FILE *f;
    const char *recording;
    const pw_passage_truth *truth;
} boxes_file;

static void write_box(int frame, size_t passage, pw_rect box, void *user)
{
    boxes_file *b = user;
    fprintf(b->f, "%s,%d,%s,%d,%d,%d,%d\n", b->recording, frame, b->truth[passage].plate, box.x, box.y, box.w,
            box.h);
}

/* Writes the clip, CLIP.truth.csv (or truth_path) and CLIP.boxes.csv; prints the paths. */
static int write_clip(const pw_drive_spec *spec, const pw_passage *passages, size_t n, const char *out,
                      const char *truth_path)
{
    pw_passage_truth *truth = g_new0(pw_passage_truth, n);
    gchar *tp = truth_path ? g_strdup(truth_path) : g_strconcat(out, ".truth.csv", NULL);
    gchar *bp = g_strconcat(out, ".boxes.csv", NULL);
    gchar *base = g_path_get_basename(out);
    boxes_file b = {fopen(bp, "w"), base, truth};
    int status = 1;
    pw_err err = {0};
    if (!b.f) {
        fprintf(stderr, "pw-synth: %s: %s\n", bp, g_strerror(errno));
    } else {
        fprintf(b.f, "recording,frame,plate_text,x,y,w,h\n");
        if (pw_drive_write_boxes(spec, passages, n, out, truth, write_box, &b, &err) < 0)
            fprintf(stderr, "pw-synth: %s\n", err.msg);
        else if (write_truth(tp, out, truth, n) == 0)
            status = 0;
        if (fclose(b.f) != 0)
            status = 1;
    }
    if (status == 0)
        printf("%s\n%s\n", out, tp);
    g_free(tp), g_free(bp), g_free(base), g_free(truth);
    return status;
}

static int drive_main(int argc, char **argv)
{
    gchar *out = NULL, *plates = NULL, *truth_path = NULL;
    pw_drive_spec spec;
    pw_drive_spec_defaults(&spec);
    gint seed = 1;
    GOptionEntry entries[] = {
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Clip to write: .webm (VP8) or .avi (MJPEG)", "FILE"},
        {"plates", 'p', 0, G_OPTION_ARG_STRING, &plates, "Plates as printed, with countries", "TEXT:CC,..."},
        {"truth", 't', 0, G_OPTION_ARG_FILENAME, &truth_path, "Ground truth file (default FILE.truth.csv)", "FILE"},
        {"fps", 0, 0, G_OPTION_ARG_INT, &spec.fps, "Frames per second (default 25)", "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionEntry shared[] = {DRIVE_SPEC_ENTRIES(spec, seed)};
    int status = 2;
    if (parse(&argc, &argv, entries, shared, "- write a drive-by recording and its ground truth") < 0 || !out) {
        fprintf(stderr, "usage: pw-synth drive --out CLIP.webm|CLIP.avi [--plates TEXT:CC,...]\n");
        goto done;
    }
    spec.seed = (unsigned)seed;
    spec.format = g_str_has_suffix(out, ".avi") ? PW_CLIP_MJPEG_AVI : PW_CLIP_WEBM;
    gchar **items = g_strsplit(plates ? plates : "AB-123-CD:FR,WX 48213:PL,7FKM294:US", ",", -1);
    pw_passage passages[64];
    size_t n = parse_passages(items, passages, G_N_ELEMENTS(passages));
    status = write_clip(&spec, passages, n, out, truth_path);
    g_strfreev(items);
done:
    g_free(out), g_free(plates), g_free(truth_path);
    return status;
}

/* One labelled photograph of an image manifest (image,plate_text,x,y,w,h,country,set). */
typedef struct {
    gchar *image, *plate, *country, *set;
    int has_box;
    pw_rect box;
} photo_row;

static void photo_row_free(gpointer p)
{
    photo_row *r = p;
    g_free(r->image), g_free(r->plate), g_free(r->country), g_free(r->set);
    g_free(r);
}

static int in_sets(const char *set, gchar **sets)
{
    return !sets || !sets[0] || g_strv_contains((const gchar *const *)sets, set);
}

/* Parses one manifest row; an empty box means the image is the plate crop itself. */
static photo_row *parse_photo_row(const char *path, int line, const char *text, const char *dir)
{
    gchar **f = g_strsplit(text, ",", -1);
    photo_row *r = NULL;
    int v[4] = {0}, boxed = g_strv_length(f) == 8 && f[2][0];
    for (int i = 0; boxed && i < 4; i++) {
        char *end = NULL;
        v[i] = (int)strtol(f[2 + i], &end, 10);
        boxed = *end == '\0' && v[i] >= 0;
    }
    if (g_strv_length(f) != 8 || !f[0][0] || !f[1][0] || (f[2][0] && !boxed) || (boxed && (v[2] < 2 || v[3] < 2))) {
        fprintf(stderr, "pw-synth photos: %s:%d: expected image,plate_text,x,y,w,h,country,set with a box of at "
                        "least 2x2 pixels or an empty box\n", path, line);
    } else {
        r = g_new0(photo_row, 1);
        r->image = g_path_is_absolute(f[0]) ? g_strdup(f[0]) : g_build_filename(dir, f[0], NULL);
        r->plate = g_strdup(f[1]), r->country = g_strdup(f[6]), r->set = g_strdup(f[7]);
        r->has_box = boxed;
        r->box = (pw_rect){v[0], v[1], v[2], v[3]};
    }
    g_strfreev(f);
    return r;
}

static GPtrArray *load_photos(const char *path, const char *sets_arg)
{
    gchar *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        fprintf(stderr, "pw-synth photos: %s: cannot be read\n", path);
        return NULL;
    }
    gchar **lines = g_strsplit(text, "\n", -1), **sets = sets_arg ? g_strsplit(sets_arg, ",", -1) : NULL;
    gchar *dir = g_path_get_dirname(path);
    GPtrArray *rows = g_ptr_array_new_with_free_func(photo_row_free);
    for (int i = 1; lines[0] && lines[i] && rows; i++) {
        g_strchomp(lines[i]);
        if (!lines[i][0])
            continue;
        photo_row *r = parse_photo_row(path, i + 1, lines[i], dir);
        if (!r) {
            g_ptr_array_free(rows, TRUE);
            rows = NULL;
        } else if (in_sets(r->set, sets)) {
            g_ptr_array_add(rows, r);
        } else {
            photo_row_free(r);
        }
    }
    g_strfreev(lines), g_strfreev(sets);
    g_free(text), g_free(dir);
    return rows;
}

/* Decodes a photograph to grey; a crop without a box is its own plate box. */
static int load_photo(photo_row *r, pw_image **grey)
{
    gchar *bytes = NULL;
    gsize len = 0;
    pw_err err = {0};
    if (!g_file_get_contents(r->image, &bytes, &len, NULL)) {
        fprintf(stderr, "pw-synth photos: %s: cannot be read\n", r->image);
        return -ENOENT;
    }
    int rc = pw_cv_decode((const uint8_t *)bytes, len, grey, NULL, &err);
    g_free(bytes);
    if (rc < 0) {
        fprintf(stderr, "pw-synth photos: %s: %s\n", r->image, err.msg[0] ? err.msg : pw_strerror(rc));
        return rc;
    }
    pw_plane p = pw_image_plane(*grey);
    if (!r->has_box)
        r->box = (pw_rect){0, 0, p.width, p.height};
    r->box.w = MIN(r->box.w, p.width - r->box.x);
    r->box.h = MIN(r->box.h, p.height - r->box.y);
    if (r->box.w < 2 || r->box.h < 2) {
        fprintf(stderr, "pw-synth photos: %s: the labelled box lies outside the image\n", r->image);
        pw_image_destroy(grey);
        return -EINVAL;
    }
    return 0;
}

/* Writes clip number k from rows[first..first+n): one passage per photograph. */
static int write_photo_clip(const pw_drive_spec *spec, GPtrArray *rows, guint first, guint n, const char *out_dir,
                            const char *ext, int k)
{
    pw_passage *passages = g_new0(pw_passage, n);
    pw_image **images = g_new0(pw_image *, n);
    pw_plane *planes = g_new0(pw_plane, n);
    guint used = 0;
    for (guint i = 0; i < n; i++) {
        photo_row *r = rows->pdata[first + i];
        if (load_photo(r, &images[used]) < 0)
            continue; /* a photograph that cannot be used is reported and left out */
        planes[used] = pw_image_plane(images[used]);
        passages[used] = (pw_passage){.printed = r->plate, .country = r->country, .dark_on_light = 1,
                                      .photo = &planes[used], .box = r->box};
        used++;
    }
    int status = 0;
    if (used > 0) {
        photo_row *r0 = rows->pdata[first];
        gchar *name = g_strdup_printf("photos-%s-%03d.%s", r0->set, k, ext);
        gchar *path = g_build_filename(out_dir, name, NULL);
        status = write_clip(spec, passages, used, path, NULL);
        g_free(name), g_free(path);
    }
    for (guint i = 0; i < used; i++)
        pw_image_destroy(&images[i]);
    g_free(passages), g_free(images), g_free(planes);
    return status;
}

static int photos_main(int argc, char **argv)
{
    gchar *manifest = NULL, *out = NULL, *sets = NULL, *format = NULL;
    gint per_clip = 5, seed = 1;
    pw_drive_spec spec;
    pw_drive_spec_defaults(&spec);
    GOptionEntry entries[] = {
        {"manifest", 'm', 0, G_OPTION_ARG_FILENAME, &manifest, "Image manifest with labelled plate boxes", "FILE"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Output folder (created)", "DIR"},
        {"sets", 0, 0, G_OPTION_ARG_STRING, &sets, "Sets to use (default: all)", "a,b"},
        {"per-clip", 'n', 0, G_OPTION_ARG_INT, &per_clip, "Vehicles per clip (default 5)", "N"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "webm (VP8, default) or avi (MJPEG)", "FMT"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionEntry shared[] = {DRIVE_SPEC_ENTRIES(spec, seed)};
    int status = 2;
    GPtrArray *rows = NULL;
    if (parse(&argc, &argv, entries, shared, "- drive-by clips from labelled photographs") < 0 || !manifest || !out ||
        per_clip < 1 || (format && strcmp(format, "webm") && strcmp(format, "avi"))) {
        fprintf(stderr, "usage: pw-synth photos --manifest FILE --out DIR [--sets a,b] [--per-clip N] "
                        "[--format webm|avi]\n");
        goto done;
    }
    spec.seed = (unsigned)seed;
    spec.format = format && !strcmp(format, "avi") ? PW_CLIP_MJPEG_AVI : PW_CLIP_WEBM;
    status = 1;
    if (!(rows = load_photos(manifest, sets)))
        goto done;
    if (g_mkdir_with_parents(out, 0755) < 0) {
        fprintf(stderr, "pw-synth photos: %s: %s\n", out, g_strerror(errno));
        goto done;
    }
    status = 0;
    /* Clips never mix sets, so that a report per set stays possible. */
    for (guint i = 0, k = 0; i < rows->len && status == 0; k++) {
        guint n = 0;
        const char *set = ((photo_row *)rows->pdata[i])->set;
        while (i + n < rows->len && n < (guint)per_clip && !strcmp(((photo_row *)rows->pdata[i + n])->set, set))
            n++;
        status = write_photo_clip(&spec, rows, i, n, out, spec.format == PW_CLIP_MJPEG_AVI ? "avi" : "webm", (int)k);
        i += n;
    }
done:
    if (rows)
        g_ptr_array_free(rows, TRUE);
    g_free(manifest), g_free(out), g_free(sets), g_free(format);
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "scenes") == 0)
        return scenes_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "drive") == 0)
        return drive_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "photos") == 0)
        return photos_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: pw-synth scenes|drive|photos --out ... (see pw-synth scenes --help)\n");
    return 2;
}
