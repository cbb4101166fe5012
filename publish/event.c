/*
 * event.c - the event model's JSON form (docs/events.md) and topics.
 * Writing uses JsonBuilder; reading checks every field it keeps, because
 * events arrive from the network and a malformed one must be refused with
 * a sentence, never crash the subscriber.
 */
#define _POSIX_C_SOURCE 200809L
#include "publish_internal.h"
#include "pw_json.h"
#include "pw_settings.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {
    [PW_EVENT_VEHICLE_NEW] = "vehicle.new",
    [PW_EVENT_VEHICLE_UPDATE] = "vehicle.update",
    [PW_EVENT_VEHICLE_FINAL] = "vehicle.final",
    [PW_EVENT_HEARTBEAT] = "heartbeat",
    [PW_EVENT_STATS] = "stats",
};

const char *pw_event_kind_name(pw_event_kind kind)
{
    if ((int)kind < PW_EVENT_VEHICLE_NEW || (int)kind > PW_EVENT_STATS)
        return NULL;
    return kind_names[kind];
}

int pw_event_kind_parse(const char *name, pw_event_kind *out)
{
    for (int k = PW_EVENT_VEHICLE_NEW; k <= PW_EVENT_STATS; k++) {
        if (name && strcmp(name, kind_names[k]) == 0) {
            *out = (pw_event_kind)k;
            return 0;
        }
    }
    return PW_EMSG;
}

static bool is_vehicle(pw_event_kind k)
{
    return k == PW_EVENT_VEHICLE_NEW || k == PW_EVENT_VEHICLE_UPDATE ||
           k == PW_EVENT_VEHICLE_FINAL;
}

/* The rule the configuration checks ids by: one rule for what an id may be. */
bool pw_id_valid(const char *s)
{
    return s && pw_settings_check_id(s, NULL) == 0;
}

int64_t pw_wall_us(void)
{
    return g_get_real_time();
}

int pw_event_topic(const pw_event *ev, char *buf, size_t size)
{
    const char *kind = pw_event_kind_name(ev->kind);
    if (!kind)
        return -EINVAL;
    int n = snprintf(buf, size, "plate.%s.%s.%s", ev->site, ev->lane, kind);
    return (n < 0 || (size_t)n >= size) ? -ENOSPC : 0;
}

/* RFC 3339 UTC with microseconds, the form every time in an event takes. */
static char *format_time(int64_t us)
{
    int64_t secs = us / G_USEC_PER_SEC;
    int64_t frac = us % G_USEC_PER_SEC;
    if (frac < 0) {
        frac += G_USEC_PER_SEC;
        secs -= 1;
    }
    GDateTime *base = g_date_time_new_from_unix_utc(secs);
    if (!base)
        return g_strdup("1970-01-01T00:00:00.000000Z");
    GDateTime *dt = g_date_time_add(base, frac);
    char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S.%fZ");
    g_date_time_unref(dt);
    g_date_time_unref(base);
    return s;
}

static void add_time(JsonBuilder *b, const char *name, int64_t us)
{
    char *s = format_time(us);
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, s);
    g_free(s);
}

static void add_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value);
}

static void add_int(JsonBuilder *b, const char *name, int64_t value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

static void add_double(JsonBuilder *b, const char *name, double value)
{
    json_builder_set_member_name(b, name);
    /* Six decimals are more than any confidence or millisecond figure means. */
    json_builder_add_double_value(b, round(value * 1e6) / 1e6);
}

/* Confidences 0..1 of the consensus text's characters; left out when not known. */
static void add_char_conf(JsonBuilder *b, const pw_event *ev)
{
    if (ev->n_char_conf == 0)
        return;
    json_builder_set_member_name(b, "char_confidences");
    json_builder_begin_array(b);
    for (size_t i = 0; i < ev->n_char_conf && i < PW_PLATE_MAX; i++)
        json_builder_add_double_value(b, round(ev->char_conf[i] * 1e6) / 1e6);
    json_builder_end_array(b);
}

static void add_alternatives(JsonBuilder *b, const pw_event *ev)
{
    json_builder_set_member_name(b, "alternatives");
    json_builder_begin_array(b);
    for (size_t i = 0; i < ev->n_alts && i < PW_VEHICLE_MAX_ALTS; i++) {
        json_builder_begin_object(b);
        add_string(b, "text", ev->alts[i].text);
        add_double(b, "confidence", ev->alts[i].confidence);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* The members every kind shares. */
static void add_header(JsonBuilder *b, const pw_event *ev)
{
    add_int(b, "schema_version", PW_EVENT_SCHEMA_VERSION);
    add_string(b, "kind", pw_event_kind_name(ev->kind));
    add_string(b, "stream_id", ev->stream_id);
    add_string(b, "instance_id", ev->instance_id);
    add_string(b, "site", ev->site);
    add_string(b, "lane", ev->lane);
    add_time(b, "published_at", ev->published_us);
}

static void add_vehicle(JsonBuilder *b, const pw_event *ev)
{
    add_string(b, "event_id", ev->event_id);
    add_int(b, "seq", (int64_t)ev->seq);
    add_string(b, "camera", ev->camera);
    add_string(b, "plate", ev->plate);
    add_double(b, "confidence", ev->confidence);
    add_char_conf(b, ev);
    add_alternatives(b, ev);
    add_string(b, "country", ev->country);
    add_time(b, "first_seen", ev->first_seen_us);
    add_time(b, "last_seen", ev->last_seen_us);
    add_int(b, "frames", ev->frames);
    json_builder_set_member_name(b, "best_frame");
    json_builder_begin_object(b);
    add_time(b, "captured_at", ev->best_capture_us);
    json_builder_set_member_name(b, "corners");
    json_builder_begin_array(b);
    for (int i = 0; i < 4; i++) {
        json_builder_begin_array(b);
        json_builder_add_double_value(b, round(ev->corners[i][0] * 100.0) / 100.0);
        json_builder_add_double_value(b, round(ev->corners[i][1] * 100.0) / 100.0);
        json_builder_end_array(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    add_double(b, "latency_ms", ev->latency_ms);
    add_int(b, "jpeg_bytes", ev->jpeg_bytes);
}

static char *finish(JsonBuilder *b)
{
    json_builder_end_object(b);
    char *text = pw_json_builder_to_string(b, FALSE);
    g_object_unref(b);
    return text;
}

int pw_event_to_json(const pw_event *ev, char **json, pw_err *err)
{
    if (!ev || !json)
        return pw_err_set(err, -EINVAL, "pw_event_to_json: NULL argument");
    *json = NULL;
    if (!is_vehicle(ev->kind))
        return pw_err_set(err, -EINVAL,
                          "pw_event_to_json: kind %d is not a vehicle event; heartbeat "
                          "and stats are built by the publisher", (int)ev->kind);
    if (ev->n_char_conf && ev->n_char_conf != strlen(ev->plate))
        return pw_err_set(err, -EINVAL, "pw_event_to_json: %zu character confidences for the "
                          "%zu characters of \"%s\"", ev->n_char_conf, strlen(ev->plate),
                          ev->plate);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    add_header(b, ev);
    add_vehicle(b, ev);
    *json = finish(b);
    return 0;
}

char *pw_event_heartbeat_json(const pw_event *ev)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    add_header(b, ev);
    add_int(b, "last_seq", (int64_t)ev->last_seq);
    add_int(b, "first_seq", (int64_t)ev->first_seq);
    return finish(b);
}

static void add_health(JsonBuilder *b, const pw_lane_health *h)
{
    json_builder_set_member_name(b, "health");
    json_builder_begin_object(b);
    add_string(b, "state", h->state ? h->state : "stopped");
    if (h->last_frame_us > 0) {
        add_time(b, "last_frame_at", h->last_frame_us);
    } else {
        json_builder_set_member_name(b, "last_frame_at");
        json_builder_add_null_value(b);
    }
    add_int(b, "restarts", (int64_t)h->restarts);
    add_string(b, "last_error", h->last_error ? h->last_error : "");
    json_builder_end_object(b);
}

static void add_stats_counters(JsonBuilder *b, const pw_lane_stats *st,
                               const pw_publisher_counters *pc)
{
    add_int(b, "frames_in", (int64_t)st->frames_in);
    add_int(b, "frames_dropped", (int64_t)st->frames_dropped);
    add_int(b, "reads", (int64_t)st->reads);
    add_int(b, "events", (int64_t)st->events);
    add_int(b, "reconnects", (int64_t)st->reconnects);
    if (st->health)
        add_health(b, st->health);
    json_builder_set_member_name(b, "stages");
    json_builder_begin_object(b);
    for (size_t i = 0; i < st->n_stages; i++) {
        json_builder_set_member_name(b, st->stages[i].name);
        json_builder_begin_object(b);
        add_double(b, "p50_ms", st->stages[i].p50_ms);
        add_double(b, "p99_ms", st->stages[i].p99_ms);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "queues");
    json_builder_begin_object(b);
    for (size_t i = 0; i < st->n_queues; i++) {
        json_builder_set_member_name(b, st->queues[i].name);
        json_builder_begin_object(b);
        add_int(b, "depth", st->queues[i].depth);
        add_int(b, "capacity", st->queues[i].capacity);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "publisher");
    json_builder_begin_object(b);
    add_int(b, "published", (int64_t)pc->published);
    add_int(b, "send_failures", (int64_t)pc->send_failures);
    add_int(b, "replay_requests", (int64_t)pc->replay_requests);
    add_int(b, "replayed_events", (int64_t)pc->replayed_events);
    add_int(b, "bad_requests", (int64_t)pc->bad_requests);
    add_int(b, "auth_denied", (int64_t)pc->auth_denied);
    add_int(b, "handshake_failed", (int64_t)pc->handshake_failed);
    add_int(b, "last_seq", (int64_t)pc->last_seq);
    json_builder_end_object(b);
}

char *pw_event_stats_json(const pw_event *ev, const pw_lane_stats *st,
                          const pw_publisher_counters *pc)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    add_header(b, ev);
    add_string(b, "camera", ev->camera);
    json_builder_set_member_name(b, "counters");
    json_builder_begin_object(b);
    add_stats_counters(b, st, pc);
    json_builder_end_object(b);
    return finish(b);
}

/* ---- Reading ---- */

/* A member that must exist and hold a scalar of the given GType. */
static JsonNode *need(JsonObject *o, const char *name, GType type, pw_err *err)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n) {
        pw_err_set(err, PW_EMSG, "event lacks the required member \"%s\"", name);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE(n)) {
        pw_err_set(err, PW_EMSG, "event member \"%s\" is not a scalar", name);
        return NULL;
    }
    GType t = json_node_get_value_type(n);
    bool ok = t == type || (type == G_TYPE_DOUBLE && t == G_TYPE_INT64);
    if (!ok) {
        pw_err_set(err, PW_EMSG, "event member \"%s\" has the wrong type (%s, want %s)",
                   name, g_type_name(t), g_type_name(type));
        return NULL;
    }
    return n;
}

static int get_string(JsonObject *o, const char *name, char *dst, size_t size,
                      pw_err *err)
{
    JsonNode *n = need(o, name, G_TYPE_STRING, err);
    if (!n)
        return PW_EMSG;
    const char *s = json_node_get_string(n);
    if (strlen(s) >= size)
        return pw_err_set(err, PW_EMSG, "event member \"%s\" is longer than %zu bytes",
                          name, size - 1);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int get_id(JsonObject *o, const char *name, char *dst, size_t size, pw_err *err)
{
    int rc = get_string(o, name, dst, size, err);
    if (rc == 0 && !pw_id_valid(dst))
        return pw_err_set(err, PW_EMSG, "event member \"%s\" (\"%s\") is not an id "
                          "of letters, digits, '_' or '-'", name, dst);
    return rc;
}

static int get_uuid(JsonObject *o, const char *name, char *dst, pw_err *err)
{
    int rc = get_string(o, name, dst, PW_UUID_LEN + 1, err);
    if (rc == 0 && !g_uuid_string_is_valid(dst))
        return pw_err_set(err, PW_EMSG, "event member \"%s\" (\"%s\") is not a UUID",
                          name, dst);
    return rc;
}

static int get_u64(JsonObject *o, const char *name, uint64_t max, uint64_t *dst,
                   pw_err *err)
{
    JsonNode *n = need(o, name, G_TYPE_INT64, err);
    if (!n)
        return PW_EMSG;
    gint64 v = json_node_get_int(n);
    if (v < 0 || (uint64_t)v > max)
        return pw_err_set(err, PW_EMSG, "event member \"%s\" is out of range (%" G_GINT64_FORMAT
                          ")", name, v);
    *dst = (uint64_t)v;
    return 0;
}

static int get_double(JsonObject *o, const char *name, double lo, double hi, double *dst,
                      pw_err *err)
{
    JsonNode *n = need(o, name, G_TYPE_DOUBLE, err);
    if (!n)
        return PW_EMSG;
    double v = json_node_get_double(n);
    if (!(v >= lo && v <= hi))
        return pw_err_set(err, PW_EMSG, "event member \"%s\" is out of range (%g)", name, v);
    *dst = v;
    return 0;
}

static int parse_time(const char *name, const char *s, int64_t *dst, pw_err *err)
{
    GDateTime *dt = g_date_time_new_from_iso8601(s, NULL);
    if (!dt)
        return pw_err_set(err, PW_EMSG, "event member \"%s\" (\"%s\") is not an RFC 3339 "
                          "time with a zone", name, s);
    *dst = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
    g_date_time_unref(dt);
    return 0;
}

static int get_time(JsonObject *o, const char *name, int64_t *dst, pw_err *err)
{
    char buf[64];
    int rc = get_string(o, name, buf, sizeof buf, err);
    return rc ? rc : parse_time(name, buf, dst, err);
}

static int get_header(JsonObject *o, pw_event *ev, pw_err *err)
{
    uint64_t version = 0;
    char kind[32];
    int rc = get_u64(o, "schema_version", 1000, &version, err);
    if (rc)
        return rc;
    if (version != PW_EVENT_SCHEMA_VERSION)
        return pw_err_set(err, PW_EMSG, "event schema_version %" G_GUINT64_FORMAT
                          " is not supported (this library reads %d)", version,
                          PW_EVENT_SCHEMA_VERSION);
    ev->schema_version = (int)version;
    if ((rc = get_string(o, "kind", kind, sizeof kind, err)))
        return rc;
    if (pw_event_kind_parse(kind, &ev->kind))
        return pw_err_set(err, PW_EMSG, "event kind \"%s\" is unknown", kind);
    if ((rc = get_uuid(o, "stream_id", ev->stream_id, err)) ||
        (rc = get_uuid(o, "instance_id", ev->instance_id, err)) ||
        (rc = get_id(o, "site", ev->site, sizeof ev->site, err)) ||
        (rc = get_id(o, "lane", ev->lane, sizeof ev->lane, err)) ||
        (rc = get_time(o, "published_at", &ev->published_us, err)))
        return rc;
    return 0;
}

static int get_corners(JsonObject *o, pw_event *ev, pw_err *err)
{
    JsonNode *bf = json_object_get_member(o, "best_frame");
    if (!bf || !JSON_NODE_HOLDS_OBJECT(bf))
        return pw_err_set(err, PW_EMSG, "event lacks the object \"best_frame\"");
    JsonObject *b = json_node_get_object(bf);
    int rc = get_time(b, "captured_at", &ev->best_capture_us, err);
    if (rc)
        return rc;
    JsonNode *cn = json_object_get_member(b, "corners");
    if (!cn || !JSON_NODE_HOLDS_ARRAY(cn) || json_array_get_length(json_node_get_array(cn)) != 4)
        return pw_err_set(err, PW_EMSG, "best_frame.corners is not an array of 4 points");
    JsonArray *arr = json_node_get_array(cn);
    for (guint i = 0; i < 4; i++) {
        JsonNode *p = json_array_get_element(arr, i);
        if (!JSON_NODE_HOLDS_ARRAY(p) || json_array_get_length(json_node_get_array(p)) != 2)
            return pw_err_set(err, PW_EMSG, "best_frame.corners[%u] is not an [x, y] pair", i);
        for (guint k = 0; k < 2; k++) {
            JsonNode *v = json_array_get_element(json_node_get_array(p), k);
            GType t = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v) : G_TYPE_NONE;
            if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
                return pw_err_set(err, PW_EMSG, "best_frame.corners[%u][%u] is not a number",
                                  i, k);
            ev->corners[i][k] = (float)json_node_get_double(v);
        }
    }
    return 0;
}

/* A number in lo..hi, for the elements of arrays; what names the element in err. */
static int number_in(JsonNode *n, double lo, double hi, const char *what, double *dst,
                     pw_err *err)
{
    GType t = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_NONE;
    if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
        return pw_err_set(err, PW_EMSG, "event member %s is not a number", what);
    *dst = json_node_get_double(n);
    if (!(*dst >= lo && *dst <= hi))
        return pw_err_set(err, PW_EMSG, "event member %s is out of range (%g)", what, *dst);
    return 0;
}

/* An optional array member: NULL when absent, PW_EMSG when it is something else. */
static int optional_array(JsonObject *o, const char *name, JsonArray **out, pw_err *err)
{
    JsonNode *n = json_object_get_member(o, name);
    *out = NULL;
    if (!n)
        return 0;
    if (!JSON_NODE_HOLDS_ARRAY(n))
        return pw_err_set(err, PW_EMSG, "event member \"%s\" is not an array", name);
    *out = json_node_get_array(n);
    return 0;
}

/* "char_confidences": absent in events of older publishers; else one per plate character. */
static int get_char_conf(JsonObject *o, pw_event *ev, pw_err *err)
{
    JsonArray *a;
    int rc = optional_array(o, "char_confidences", &a, err);
    if (rc || !a)
        return rc;
    size_t n = json_array_get_length(a), len = strlen(ev->plate);
    if (n != len)
        return pw_err_set(err, PW_EMSG, "event member \"char_confidences\" has %zu entries "
                          "for a plate of %zu characters", n, len);
    for (guint i = 0; i < n; i++) {
        char what[48];
        double v;
        snprintf(what, sizeof what, "\"char_confidences\"[%u]", i);
        if ((rc = number_in(json_array_get_element(a, i), 0.0, 1.0, what, &v, err)))
            return rc;
        ev->char_conf[i] = (float)v;
    }
    ev->n_char_conf = n;
    return 0;
}

static int get_alternative(JsonNode *n, guint i, pw_reading *dst, pw_err *err)
{
    if (!JSON_NODE_HOLDS_OBJECT(n))
        return pw_err_set(err, PW_EMSG, "event member \"alternatives\"[%u] is not an object", i);
    JsonObject *eo = json_node_get_object(n);
    pw_err inner = {0};
    if (get_string(eo, "text", dst->text, sizeof dst->text, &inner))
        return pw_err_set(err, PW_EMSG, "event member \"alternatives\"[%u]: %s", i, inner.msg);
    char what[48];
    double conf;
    snprintf(what, sizeof what, "\"alternatives\"[%u].confidence", i);
    int rc = number_in(json_object_get_member(eo, "confidence"), 0.0, 1.0, what, &conf, err);
    dst->confidence = (float)conf;
    return rc;
}

/*
 * "alternatives": absent in events of older publishers. Readings beyond
 * PW_VEHICLE_MAX_ALTS are ignored rather than refused: they come last (best
 * first), and a later publisher may send more.
 */
static int get_alternatives(JsonObject *o, pw_event *ev, pw_err *err)
{
    JsonArray *a;
    int rc = optional_array(o, "alternatives", &a, err);
    if (rc || !a)
        return rc;
    guint n = MIN(json_array_get_length(a), PW_VEHICLE_MAX_ALTS);
    for (guint i = 0; i < n; i++)
        if ((rc = get_alternative(json_array_get_element(a, i), i, &ev->alts[i], err)))
            return rc;
    ev->n_alts = n;
    return 0;
}

static int get_vehicle(JsonObject *o, pw_event *ev, pw_err *err)
{
    uint64_t frames = 0, jpeg = 0;
    int rc;
    if ((rc = get_uuid(o, "event_id", ev->event_id, err)) ||
        (rc = get_u64(o, "seq", (uint64_t)INT64_MAX, &ev->seq, err)) ||
        (rc = get_id(o, "camera", ev->camera, sizeof ev->camera, err)) ||
        (rc = get_string(o, "plate", ev->plate, sizeof ev->plate, err)) ||
        (rc = get_double(o, "confidence", 0.0, 1.0, &ev->confidence, err)) ||
        (rc = get_char_conf(o, ev, err)) ||
        (rc = get_alternatives(o, ev, err)) ||
        (rc = get_string(o, "country", ev->country, sizeof ev->country, err)) ||
        (rc = get_time(o, "first_seen", &ev->first_seen_us, err)) ||
        (rc = get_time(o, "last_seen", &ev->last_seen_us, err)) ||
        (rc = get_u64(o, "frames", UINT32_MAX, &frames, err)) ||
        (rc = get_corners(o, ev, err)) ||
        (rc = get_double(o, "latency_ms", 0.0, PW_EVENT_MAX_LATENCY_MS, &ev->latency_ms, err)) ||
        (rc = get_u64(o, "jpeg_bytes", PW_JPEG_MAX, &jpeg, err)))
        return rc;
    if (ev->seq == 0)
        return pw_err_set(err, PW_EMSG, "vehicle event has seq 0; sequences start at 1");
    ev->frames = (uint32_t)frames;
    ev->jpeg_bytes = (uint32_t)jpeg;
    return 0;
}

static int get_stats(JsonObject *o, pw_event *ev, pw_err *err)
{
    int rc = get_id(o, "camera", ev->camera, sizeof ev->camera, err);
    if (rc)
        return rc;
    JsonNode *c = json_object_get_member(o, "counters");
    if (!c || !JSON_NODE_HOLDS_OBJECT(c))
        return pw_err_set(err, PW_EMSG, "stats event lacks the object \"counters\"");
    ev->counters_json = pw_json_to_string(c, FALSE);
    return 0;
}

static int get_body(JsonObject *o, pw_event *ev, pw_err *err)
{
    switch (ev->kind) {
    case PW_EVENT_HEARTBEAT: {
        int rc = get_u64(o, "last_seq", (uint64_t)INT64_MAX, &ev->last_seq, err);
        return rc ? rc : get_u64(o, "first_seq", (uint64_t)INT64_MAX, &ev->first_seq, err);
    }
    case PW_EVENT_STATS:
        return get_stats(o, ev, err);
    default:
        return get_vehicle(o, ev, err);
    }
}

int pw_event_from_json(const char *json, size_t len, pw_event *out, pw_err *err)
{
    if (!json || !out)
        return pw_err_set(err, -EINVAL, "pw_event_from_json: NULL argument");
    memset(out, 0, sizeof *out);
    if (len > (size_t)G_MAXSSIZE)
        return pw_err_set(err, PW_EMSG, "event JSON is too large");
    pw_err deep;
    if (pw_json_check_depth(json, len, &deep) != 0)
        return pw_err_set(err, PW_EMSG, "event JSON refused: %s", deep.msg);
    JsonParser *parser = json_parser_new();
    GError *gerr = NULL;
    int rc = 0;
    if (!json_parser_load_from_data(parser, json, (gssize)len, &gerr)) {
        rc = pw_err_set(err, PW_EMSG, "event is not JSON: %s", gerr->message);
        g_error_free(gerr);
    } else {
        JsonNode *root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root))
            rc = pw_err_set(err, PW_EMSG, "event JSON is not an object");
        else if ((rc = get_header(json_node_get_object(root), out, err)) == 0)
            rc = get_body(json_node_get_object(root), out, err);
    }
    g_object_unref(parser);
    if (rc)
        pw_event_clear(out);
    return rc;
}

void pw_event_clear(pw_event *ev)
{
    if (!ev)
        return;
    g_free(ev->counters_json);
    memset(ev, 0, sizeof *ev);
}
