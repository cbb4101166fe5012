/*
 * video_score.c - scores one recording: vehicle-level (each passage against
 * the vehicle.final events), frame-level (each ground-truth frame against
 * the reads on that frame), accuracy by plate height, and character
 * confusions. docs/bench-video.md defines every figure.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "video.h"

/* Plate heights are grouped in bands of this many pixels for the accuracy-by-height chart. */
#define HEIGHT_BAND 8

typedef struct {
    int dist;
    guint fin, pas;
} pair;

static int cmp_pair(gconstpointer a, gconstpointer b)
{
    const pair *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist - y->dist;
    /* Equal distances: keep events in the order of the passages, as vehicles pass in order. */
    int dx = abs((int)x->fin - (int)x->pas), dy = abs((int)y->fin - (int)y->pas);
    return dx != dy ? dx - dy : (int)x->pas - (int)y->pas;
}

/*
 * Matches finals to passages one to one, closest texts first; a pair more
 * than one edit apart is no match. Returns, per passage, the final's index
 * or -1, and per final whether it was used.
 */
static void match_vehicles(GArray *passages, GArray *finals, int *by_passage, int *dist, gboolean *used)
{
    GArray *pairs = g_array_new(FALSE, FALSE, sizeof(pair));
    for (guint f = 0; f < finals->len; f++)
        for (guint p = 0; p < passages->len; p++) {
            pair pr = {pw_edit_distance(g_array_index(finals, pw_vfinal, f).text,
                                        g_array_index(passages, pw_vpassage, p).plate), f, p};
            if (pr.dist <= 1)
                g_array_append_val(pairs, pr);
        }
    g_array_sort(pairs, cmp_pair);
    for (guint p = 0; p < passages->len; p++)
        by_passage[p] = -1, dist[p] = -1;
    for (guint i = 0; i < pairs->len; i++) {
        pair *pr = &g_array_index(pairs, pair, i);
        if (by_passage[pr->pas] < 0 && !used[pr->fin]) {
            by_passage[pr->pas] = (int)pr->fin;
            dist[pr->pas] = pr->dist;
            used[pr->fin] = TRUE;
        }
    }
    g_array_free(pairs, TRUE);
}

static void score_vehicles(const pw_vrec *rec, GArray *finals, JsonObject *obj)
{
    guint np = rec->passages->len, nf = finals->len;
    int *by = g_new0(int, np + 1), *dist = g_new0(int, np + 1);
    gboolean *used = g_new0(gboolean, nf + 1);
    match_vehicles(rec->passages, finals, by, dist, used);
    int exact = 0, one = 0, missed = 0, falses = 0;
    JsonArray *vehicles = json_array_new();
    for (guint p = 0; p < np; p++) {
        const pw_vpassage *ps = &g_array_index(rec->passages, pw_vpassage, p);
        JsonObject *v = json_object_new();
        json_object_set_string_member(v, "truth", ps->plate);
        json_object_set_string_member(v, "read", by[p] >= 0 ? g_array_index(finals, pw_vfinal, by[p]).text : "");
        const char *status = by[p] < 0 ? "missed" : dist[p] == 0 ? "exact" : "one_edit";
        json_object_set_string_member(v, "status", status);
        json_array_add_object_element(vehicles, v);
        exact += by[p] >= 0 && dist[p] == 0;
        one += by[p] >= 0;
        missed += by[p] < 0;
    }
    JsonArray *false_v = json_array_new();
    for (guint f = 0; f < nf; f++)
        if (!used[f]) {
            falses++;
            json_array_add_string_element(false_v, g_array_index(finals, pw_vfinal, f).text);
        }
    json_object_set_int_member(obj, "passages", np);
    json_object_set_int_member(obj, "exact", exact);
    json_object_set_int_member(obj, "one_edit", one);
    json_object_set_int_member(obj, "missed", missed);
    json_object_set_int_member(obj, "finals", nf);
    json_object_set_int_member(obj, "false_vehicles", falses);
    json_object_set_array_member(obj, "vehicles", vehicles);
    json_object_set_array_member(obj, "false", false_v);
    g_free(by), g_free(dist), g_free(used);
}

/*
 * Frames per millisecond of the recording, from any read that has both a
 * frame number and a stream time: it turns timestamp-only ground truth into
 * frames. 0 when no read says.
 */
static double frames_per_ms(GArray *reads)
{
    for (guint i = 0; i < reads->len; i++) {
        const pw_vread *r = &g_array_index(reads, pw_vread, i);
        if (r->seq > 0 && r->pts_ns > 0)
            return (double)r->seq / ((double)r->pts_ns / 1e6);
    }
    return 0;
}

static void passage_frames(const pw_vpassage *p, double fpm, int *first, int *last)
{
    *first = p->first_frame, *last = p->last_frame;
    if (*first < 0 && fpm > 0) {
        *first = (int)(p->first_ms * fpm + 0.5);
        *last = (int)(p->last_ms * fpm + 0.5);
    }
}

/* Records the substitutions, deletions and insertions of the cheapest alignment of read against truth. */
static void add_confusions(const char *truth, const char *read, GHashTable *confusions)
{
    int n = (int)strlen(truth), m = (int)strlen(read);
    if (n > 23 || m > 23)
        return;
    int d[24][24];
    for (int i = 0; i <= n; i++)
        for (int j = 0; j <= m; j++)
            d[i][j] = i == 0 ? j
                      : j == 0 ? i
                               : MIN(MIN(d[i - 1][j] + 1, d[i][j - 1] + 1),
                                     d[i - 1][j - 1] + (truth[i - 1] != read[j - 1]));
    for (int i = n, j = m; i > 0 || j > 0;) {
        char key[4] = {0};
        if (i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + (truth[i - 1] != read[j - 1])) {
            if (truth[i - 1] != read[j - 1])
                key[0] = truth[i - 1], key[1] = '>', key[2] = read[j - 1];
            i--, j--;
        } else if (i > 0 && d[i][j] == d[i - 1][j] + 1) {
            key[0] = truth[i - 1], key[1] = '>', key[2] = '_';
            i--;
        } else {
            key[0] = '_', key[1] = '>', key[2] = read[j - 1];
            j--;
        }
        if (key[0]) {
            gpointer old = g_hash_table_lookup(confusions, key);
            g_hash_table_replace(confusions, g_strdup(key), GINT_TO_POINTER(GPOINTER_TO_INT(old) + 1));
        }
    }
}

static void add_height(JsonObject *heights, int h, int exact)
{
    if (!heights || h <= 0)
        return;
    char key[32];
    int band = h / HEIGHT_BAND * HEIGHT_BAND;
    g_snprintf(key, sizeof key, "%d", band);
    JsonArray *a = json_object_has_member(heights, key) ? json_object_get_array_member(heights, key) : NULL;
    if (!a) {
        a = json_array_new();
        json_array_add_int_element(a, 0);
        json_array_add_int_element(a, 0);
        json_object_set_array_member(heights, key, a);
    }
    json_node_set_int(json_array_get_element(a, 0), json_array_get_int_element(a, 0) + 1);
    json_node_set_int(json_array_get_element(a, 1), json_array_get_int_element(a, 1) + exact);
}

/* Best distance per ground-truth frame, and the reads' own tallies. */
static void score_frames(const pw_vrec *rec, GArray *reads, JsonObject *obj, JsonObject *heights,
                         GHashTable *confusions)
{
    double fpm = frames_per_ms(reads);
    guint np = rec->passages->len;
    int **best = g_new0(int *, np + 1);
    int *first = g_new0(int, np + 1), *last = g_new0(int, np + 1);
    for (guint p = 0; p < np; p++) {
        passage_frames(&g_array_index(rec->passages, pw_vpassage, p), fpm, &first[p], &last[p]);
        if (first[p] >= 0) {
            best[p] = g_new(int, last[p] - first[p] + 1);
            for (int f = 0; f <= last[p] - first[p]; f++)
                best[p][f] = 1000;
        }
    }
    int reads_exact = 0, reads_false = 0;
    for (guint i = 0; i < reads->len; i++) {
        const pw_vread *r = &g_array_index(reads, pw_vread, i);
        int in_passage = 0;
        for (guint p = 0; p < np; p++) {
            if (!best[p] || (int64_t)r->seq < first[p] || (int64_t)r->seq > last[p])
                continue;
            const char *plate = g_array_index(rec->passages, pw_vpassage, p).plate;
            int d = pw_edit_distance(r->text, plate);
            in_passage = 1;
            reads_exact += d == 0;
            best[p][r->seq - (uint64_t)first[p]] = MIN(best[p][r->seq - (uint64_t)first[p]], d);
            if (d > 0 && d * 2 <= (int)strlen(plate))
                add_confusions(plate, r->text, confusions);
        }
        reads_false += !in_passage;
    }
    int frames = 0, fexact = 0, fone = 0, unknown = 0;
    for (guint p = 0; p < np; p++) {
        if (!best[p]) {
            unknown++;
            continue;
        }
        for (int f = first[p]; f <= last[p]; f++) {
            int d = best[p][f - first[p]];
            frames++, fexact += d == 0, fone += d <= 1;
            add_height(heights, GPOINTER_TO_INT(g_hash_table_lookup(rec->heights, GINT_TO_POINTER(f))), d == 0);
        }
        g_free(best[p]);
    }
    json_object_set_int_member(obj, "truth_frames", frames);
    json_object_set_int_member(obj, "frames_exact", fexact);
    json_object_set_int_member(obj, "frames_one_edit", fone);
    json_object_set_int_member(obj, "passages_without_frames", unknown);
    json_object_set_int_member(obj, "reads", reads->len);
    json_object_set_int_member(obj, "reads_exact", reads_exact);
    json_object_set_int_member(obj, "reads_outside_passages", reads_false);
    g_free(best), g_free(first), g_free(last);
}

void pw_vscore_recording(const pw_vrec *rec, GArray *reads, GArray *finals, JsonObject *obj, JsonObject *heights,
                         GHashTable *confusions)
{
    score_vehicles(rec, finals, obj);
    score_frames(rec, reads, obj, heights, confusions);
}

static int cmp_conf(gconstpointer a, gconstpointer b)
{
    JsonObject *x = json_node_get_object(*(JsonNode *const *)a), *y = json_node_get_object(*(JsonNode *const *)b);
    gint64 cx = json_object_get_int_member(x, "count"), cy = json_object_get_int_member(y, "count");
    if (cx != cy)
        return cy > cx ? 1 : -1;
    return strcmp(json_object_get_string_member(x, "truth"), json_object_get_string_member(y, "truth"));
}

JsonArray *pw_vscore_confusions(GHashTable *confusions, guint limit)
{
    GPtrArray *nodes = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, confusions);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *key = k;
        JsonObject *o = json_object_new();
        char t[2] = {key[0], 0}, r[2] = {key[2], 0};
        json_object_set_string_member(o, "truth", t);
        json_object_set_string_member(o, "read", r);
        json_object_set_int_member(o, "count", GPOINTER_TO_INT(v));
        JsonNode *n = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(n, o);
        g_ptr_array_add(nodes, n);
    }
    g_ptr_array_sort(nodes, cmp_conf);
    JsonArray *out = json_array_new();
    for (guint i = 0; i < nodes->len; i++) {
        if (i < limit)
            json_array_add_element(out, nodes->pdata[i]);
        else
            json_node_unref(nodes->pdata[i]);
    }
    g_ptr_array_free(nodes, TRUE);
    return out;
}

double pw_vjson_num(JsonObject *o, const char *path)
{
    gchar **parts = g_strsplit(path, ".", -1);
    double v = 0;
    for (gchar **p = parts; o && *p; p++) {
        JsonNode *n = json_object_get_member(o, *p);
        if (!n)
            break;
        if (p[1]) {
            o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        } else if (JSON_NODE_HOLDS_VALUE(n)) {
            v = json_node_get_value_type(n) == G_TYPE_INT64 ? (double)json_node_get_int(n) : json_node_get_double(n);
        }
    }
    g_strfreev(parts);
    return v;
}
