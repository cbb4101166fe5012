/*
 * decide.c - from a read and the declarations near it to RELEASE, HOLD or
 * MANUAL (docs/gate.md, "Decision rules"), and the decision's JSON.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pw_json.h"

const char *pw_gate_verdict_name(pw_gate_verdict v)
{
    switch (v) {
    case PW_GATE_RELEASE: return "RELEASE";
    case PW_GATE_HOLD: return "HOLD";
    case PW_GATE_MANUAL: return "MANUAL";
    default: return NULL;
    }
}

void pw_gate_read_from_event(const pw_event *ev, pw_gate_read *r)
{
    memset(r, 0, sizeof *r);
    r->ev = ev;
    /* An unreadable consensus is still decided (HOLD, no declaration). */
    if (pw_plate_normalise(ev->plate, r->plate, sizeof r->plate) < 0)
        r->plate[0] = '\0';
    for (size_t i = 0; i < ev->n_alts && r->n_alts < PW_VEHICLE_MAX_ALTS; i++) {
        char *norm = r->alt_plate[r->n_alts];
        /* An alternative equal to the consensus, or unreadable, adds nothing. */
        if (pw_plate_normalise(ev->alts[i].text, norm, sizeof r->alt_plate[0]) < 0 ||
            strcmp(norm, r->plate) == 0)
            continue;
        r->alt_confidence[r->n_alts++] = ev->alts[i].confidence;
    }
    /* new and final of one vehicle share the camera and first_seen. */
    snprintf(r->vehicle, sizeof r->vehicle, "%s/%s/%" G_GINT64_FORMAT, ev->stream_id,
             ev->camera, ev->first_seen_us);
}

typedef struct {
    const pw_gate_read *r;
    const pw_gate_thresholds *th;
    GArray *cands;
} collect_ctx;

/* Best distance of one plate over the consensus and the alternatives. */
static double plate_distance(const collect_ctx *c, const char *plate, const char **via)
{
    double best = pw_plate_distance(c->r->plate, plate, c->th->confusion_cost);
    *via = "read";
    for (int i = 0; i < c->r->n_alts; i++) {
        double d = pw_plate_distance(c->r->alt_plate[i], plate, c->th->confusion_cost) +
                   c->th->alternative_penalty;
        if (d < best) {
            best = d;
            *via = "alternative";
        }
    }
    return best;
}

static const char *exclusion(const pw_gate_read *gr, const pw_decl *d,
                             const pw_gate_thresholds *th)
{
    const pw_event *r = gr->ev;
    int64_t grace = th->window_grace_s * G_USEC_PER_SEC;
    if (d->status == PW_DECL_CANCELLED)
        return "cancelled";
    if ((d->site[0] && strcmp(d->site, r->site) != 0) ||
        (d->lane[0] && strcmp(d->lane, r->lane) != 0))
        return "other_lane";
    if (d->country[0] && r->country[0] && g_ascii_strcasecmp(d->country, r->country) != 0)
        return "country_mismatch";
    if (r->first_seen_us < d->window_start_us - grace ||
        r->first_seen_us > d->window_end_us + grace)
        return "outside_window";
    return NULL;
}

static int collect_one(const pw_decl *d, void *user)
{
    collect_ctx *c = user;
    pw_gate_candidate cand = {.decl = *d, .role = "vehicle"};
    cand.distance = plate_distance(c, d->vehicle_plate, &cand.via);
    if (d->trailer_plate[0]) {
        const char *via;
        double t = plate_distance(c, d->trailer_plate, &via);
        if (t < cand.distance) {
            cand.distance = t;
            cand.role = "trailer";
            cand.via = via;
        }
    }
    if (cand.distance > c->th->manual_distance)
        return 0;
    cand.excluded = exclusion(c->r, d, c->th);
    g_array_append_val(c->cands, cand);
    return 0;
}

/* Eligible candidates first, then by distance, then by reference for a stable order. */
static gint cand_cmp(gconstpointer pa, gconstpointer pb)
{
    const pw_gate_candidate *a = pa, *b = pb;
    if ((a->excluded == NULL) != (b->excluded == NULL))
        return a->excluded ? 1 : -1;
    if (a->distance != b->distance)
        return a->distance < b->distance ? -1 : 1;
    return strcmp(a->decl.reference, b->decl.reference);
}

/* Returns 0 so that each rule reads as one "return set(...)" line. */
static int set(pw_gate_decision *out, pw_gate_verdict v, const char *reason, int chosen)
{
    out->verdict = v;
    out->reason = reason;
    out->chosen = chosen;
    return 0;
}

/* Applies the rules to candidates already sorted by cand_cmp. */
static int apply_rules(const pw_gate_read *r, const pw_gate_thresholds *th,
                       pw_gate_decision *out)
{
    GArray *c = out->candidates;
    const pw_gate_candidate *best = c->len ? &g_array_index(c, pw_gate_candidate, 0) : NULL;
    if (!r->plate[0])
        return set(out, PW_GATE_HOLD, "unreadable_plate", -1);
    if (!best)
        return set(out, PW_GATE_HOLD, "no_declaration", -1);
    if (best->excluded)
        return set(out, PW_GATE_HOLD, best->excluded, -1);
    const pw_gate_candidate *next = c->len > 1 ? &g_array_index(c, pw_gate_candidate, 1) : NULL;
    if (next && next->excluded)
        next = NULL;
    if (best->distance > th->release_distance)
        return set(out, PW_GATE_MANUAL, "uncertain_match", 0);
    if (next && next->distance <= th->release_distance)
        return set(out, PW_GATE_HOLD, "conflicting_declarations", -1);
    if (next && next->distance - best->distance < th->ambiguity_margin)
        return set(out, PW_GATE_MANUAL, "ambiguous_match", 0);
    if (best->decl.used_by[0] && strcmp(best->decl.used_by, r->vehicle) != 0)
        return set(out, PW_GATE_MANUAL, "declaration_already_used", 0);
    if (r->ev->confidence < th->min_confidence)
        return set(out, PW_GATE_MANUAL, "low_confidence", 0);
    return set(out, PW_GATE_RELEASE, "match", 0);
}

int pw_gate_decide(pw_declstore *st, const pw_gate_thresholds *th, const pw_gate_read *r,
                   pw_gate_decision *out, pw_err *err)
{
    memset(out, 0, sizeof *out);
    out->candidates = g_array_new(FALSE, FALSE, sizeof(pw_gate_candidate));
    out->chosen = -1;
    collect_ctx c = {r, th, out->candidates};
    GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    int rc = 0;
    if (r->plate[0])
        rc = pw_declstore_candidates(st, r->plate, seen, collect_one, &c, err);
    for (int i = 0; rc == 0 && i < r->n_alts; i++)
        rc = pw_declstore_candidates(st, r->alt_plate[i], seen, collect_one, &c, err);
    g_hash_table_unref(seen);
    if (rc) {
        pw_gate_decision_clear(out);
        return rc;
    }
    g_array_sort(out->candidates, cand_cmp);
    apply_rules(r, th, out);
    return 0;
}

void pw_gate_decision_clear(pw_gate_decision *d)
{
    if (d && d->candidates)
        g_array_unref(d->candidates);
    if (d)
        memset(d, 0, sizeof *d);
}

/* ---- JSON ---- */

static void add_str(JsonBuilder *b, const char *name, const char *v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, v);
}

/* A string member, or null when there is none (rather than an empty string). */
static void add_str_or_null(JsonBuilder *b, const char *name, const char *v)
{
    json_builder_set_member_name(b, name);
    if (v)
        json_builder_add_string_value(b, v);
    else
        json_builder_add_null_value(b);
}

static void add_num(JsonBuilder *b, const char *name, double v)
{
    json_builder_set_member_name(b, name);
    /* Six decimals: distances are sums of tenths, confidences need no more. */
    json_builder_add_double_value(b, round(v * 1e6) / 1e6);
}

static void add_time(JsonBuilder *b, const char *name, int64_t us)
{
    char *s = pw_format_time(us);
    add_str(b, name, s);
    g_free(s);
}

static void add_candidate(JsonBuilder *b, const pw_gate_candidate *c)
{
    const pw_decl *d = &c->decl;
    json_builder_begin_object(b);
    add_str(b, "reference", d->reference);
    add_str(b, "vehicle_plate", d->vehicle_plate);
    add_str(b, "trailer_plate", d->trailer_plate);
    add_str(b, "country", d->country);
    add_str(b, "site", d->site);
    add_str(b, "lane", d->lane);
    add_time(b, "window_start", d->window_start_us);
    add_time(b, "window_end", d->window_end_us);
    add_str(b, "matched_plate", c->role);
    add_str(b, "via", c->via);
    add_num(b, "distance", c->distance);
    add_str_or_null(b, "excluded", c->excluded);
    add_str_or_null(b, "used_by", d->used_by[0] ? d->used_by : NULL);
    json_builder_end_object(b);
}

static void add_read(JsonBuilder *b, const pw_gate_read *r)
{
    json_builder_set_member_name(b, "read");
    json_builder_begin_object(b);
    add_str(b, "plate", r->plate);
    add_num(b, "confidence", r->ev->confidence);
    json_builder_set_member_name(b, "char_confidences");
    json_builder_begin_array(b);
    for (size_t i = 0; i < r->ev->n_char_conf; i++)
        json_builder_add_double_value(b, round(r->ev->char_conf[i] * 1e6) / 1e6);
    json_builder_end_array(b);
    add_str(b, "country", r->ev->country);
    add_time(b, "first_seen", r->ev->first_seen_us);
    json_builder_set_member_name(b, "alternatives");
    json_builder_begin_array(b);
    for (int i = 0; i < r->n_alts; i++) {
        json_builder_begin_object(b);
        add_str(b, "text", r->alt_plate[i]);
        add_num(b, "confidence", r->alt_confidence[i]);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static void add_thresholds(JsonBuilder *b, const pw_gate_thresholds *th)
{
    json_builder_set_member_name(b, "thresholds");
    json_builder_begin_object(b);
    add_num(b, "confusion_cost", th->confusion_cost);
    add_num(b, "release_distance", th->release_distance);
    add_num(b, "manual_distance", th->manual_distance);
    add_num(b, "ambiguity_margin", th->ambiguity_margin);
    add_num(b, "alternative_penalty", th->alternative_penalty);
    add_num(b, "min_confidence", th->min_confidence);
    json_builder_set_member_name(b, "window_grace_s");
    json_builder_add_int_value(b, th->window_grace_s);
    json_builder_end_object(b);
}

static void add_event(JsonBuilder *b, const pw_gate_read *r)
{
    const pw_event *ev = r->ev;
    add_str(b, "event_id", ev->event_id);
    add_str(b, "event_kind", pw_event_kind_name(ev->kind));
    add_str(b, "stream_id", ev->stream_id);
    json_builder_set_member_name(b, "seq");
    json_builder_add_int_value(b, (int64_t)ev->seq);
    add_str(b, "site", ev->site);
    add_str(b, "lane", ev->lane);
    add_str(b, "camera", ev->camera);
    add_str(b, "vehicle", r->vehicle);
}

char *pw_gate_decision_json(const pw_gate_read *r, const pw_gate_decision *d,
                            const pw_gate_thresholds *th, int64_t decided_us)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "schema_version");
    json_builder_add_int_value(b, 1);
    add_str(b, "decision", pw_gate_verdict_name(d->verdict));
    add_str(b, "reason", d->reason);
    add_event(b, r);
    add_time(b, "decided_at", decided_us);
    add_read(b, r);
    json_builder_set_member_name(b, "declaration");
    if (d->chosen >= 0)
        add_candidate(b, &g_array_index(d->candidates, pw_gate_candidate, d->chosen));
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "candidates");
    json_builder_begin_array(b);
    for (guint i = 0; i < d->candidates->len; i++)
        add_candidate(b, &g_array_index(d->candidates, pw_gate_candidate, i));
    json_builder_end_array(b);
    add_thresholds(b, th);
    json_builder_end_object(b);
    char *text = pw_json_builder_to_string(b, FALSE);
    g_object_unref(b);
    return text;
}
