/*
 * read.c - the fields of a plate event (docs/events.md) that the controller
 * decides on. The controller parses the JSON itself, rather than through
 * pw_event_from_json(), so that the core builds and is tested without the
 * publish library and can read the optional "alternatives" array, which the
 * pw_event struct does not carry.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"
#include "pw_json.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static const char *const kinds[] = {NULL, "vehicle.new", "vehicle.update", "vehicle.final",
                                    "heartbeat", "stats"};

static const char *str_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static int get_str(JsonObject *o, const char *name, char *dst, size_t size, pw_err *err)
{
    const char *s = str_member(o, name);
    if (!s)
        return pw_err_set(err, PW_EMSG, "event lacks the string member \"%s\"", name);
    if (strlen(s) >= size)
        return pw_err_set(err, PW_EMSG, "event member \"%s\" is longer than %zu bytes", name,
                          size - 1);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static bool is_number(JsonNode *n)
{
    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return false;
    GType t = json_node_get_value_type(n);
    return t == G_TYPE_DOUBLE || t == G_TYPE_INT64;
}

static int get_kind(JsonObject *o, pw_gate_read *r, pw_err *err)
{
    char kind[32];
    int rc = get_str(o, "kind", kind, sizeof kind, err);
    if (rc)
        return rc;
    for (int k = 1; k < (int)G_N_ELEMENTS(kinds); k++)
        if (strcmp(kind, kinds[k]) == 0)
            r->kind = k;
    return r->kind ? 0 : pw_err_set(err, PW_EMSG, "event kind \"%s\" is unknown", kind);
}

static void get_alternatives(JsonObject *o, pw_gate_read *r)
{
    JsonNode *n = json_object_get_member(o, "alternatives");
    if (!n || !JSON_NODE_HOLDS_ARRAY(n))
        return;
    JsonArray *a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a) && r->n_alts < PW_GATE_MAX_ALTS; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_OBJECT(e))
            continue;
        JsonObject *eo = json_node_get_object(e);
        const char *text = str_member(eo, "text");
        char norm[PW_DECL_PLATE_MAX + 1];
        /* An alternative equal to the consensus or unreadable adds nothing. */
        if (!text || pw_plate_normalise(text, norm, sizeof norm) < 0 ||
            strcmp(norm, r->plate) == 0)
            continue;
        JsonNode *c = json_object_get_member(eo, "confidence");
        memcpy(r->alt_plate[r->n_alts], norm, sizeof norm);
        r->alt_confidence[r->n_alts] = is_number(c) ? json_node_get_double(c) : 0.0;
        r->n_alts++;
    }
}

static int get_vehicle(JsonObject *o, pw_gate_read *r, pw_err *err)
{
    char plate[64], first[64];
    int rc;
    if ((rc = get_str(o, "event_id", r->event_id, sizeof r->event_id, err)) ||
        (rc = get_str(o, "stream_id", r->stream_id, sizeof r->stream_id, err)) ||
        (rc = get_str(o, "site", r->site, sizeof r->site, err)) ||
        (rc = get_str(o, "lane", r->lane, sizeof r->lane, err)) ||
        (rc = get_str(o, "camera", r->camera, sizeof r->camera, err)) ||
        (rc = get_str(o, "plate", plate, sizeof plate, err)) ||
        (rc = get_str(o, "country", r->country, sizeof r->country, err)) ||
        (rc = get_str(o, "first_seen", first, sizeof first, err)))
        return rc;
    if (!g_uuid_string_is_valid(r->event_id))
        return pw_err_set(err, PW_EMSG, "event_id \"%s\" is not a UUID", r->event_id);
    JsonNode *seq = json_object_get_member(o, "seq");
    JsonNode *conf = json_object_get_member(o, "confidence");
    if (!is_number(seq) || json_node_get_int(seq) < 1)
        return pw_err_set(err, PW_EMSG, "event member \"seq\" is not a positive integer");
    if (!is_number(conf) || !(json_node_get_double(conf) >= 0.0) ||
        json_node_get_double(conf) > 1.0)
        return pw_err_set(err, PW_EMSG, "event member \"confidence\" is not a number in 0..1");
    if (pw_parse_time(first, &r->first_seen_us))
        return pw_err_set(err, PW_EMSG, "event member \"first_seen\" (\"%s\") is not an RFC "
                          "3339 time", first);
    r->seq = (uint64_t)json_node_get_int(seq);
    r->confidence = json_node_get_double(conf);
    /* An unreadable consensus is still decided (HOLD, no declaration). */
    if (pw_plate_normalise(plate, r->plate, sizeof r->plate) < 0)
        r->plate[0] = '\0';
    get_alternatives(o, r);
    /* new and final of one vehicle share the camera and first_seen. */
    snprintf(r->vehicle, sizeof r->vehicle, "%s/%s/%" G_GINT64_FORMAT, r->stream_id,
             r->camera, r->first_seen_us);
    return 0;
}

int pw_gate_read_parse(const char *json, size_t len, pw_gate_read *out, pw_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json || len > (size_t)G_MAXSSIZE)
        return pw_err_set(err, PW_EMSG, "event JSON is missing or too large");
    pw_err deep;
    if (pw_json_check_depth(json, len, &deep) != 0)
        return pw_err_set(err, PW_EMSG, "event JSON refused: %s", deep.msg);
    JsonParser *p = json_parser_new();
    GError *gerr = NULL;
    int rc = 0;
    if (!json_parser_load_from_data(p, json, (gssize)len, &gerr)) {
        rc = pw_err_set(err, PW_EMSG, "event is not JSON: %s", gerr->message);
        g_error_free(gerr);
    } else if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        rc = pw_err_set(err, PW_EMSG, "event JSON is not an object");
    } else {
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        rc = get_kind(o, out, err);
        if (rc == 0 && out->kind >= PW_GATE_KIND_NEW && out->kind <= PW_GATE_KIND_FINAL)
            rc = get_vehicle(o, out, err);
    }
    g_object_unref(p);
    return rc;
}
