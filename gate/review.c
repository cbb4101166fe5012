/*
 * review.c - an officer resolves a MANUAL (or HOLD) vehicle: RELEASE or HOLD
 * with a reason, optionally correcting the plate. The vehicle's read is
 * matched again through the controller's own pw_gate_decide(), so that an
 * officer's release obeys the same windows, lanes and used-declaration
 * rules as the gate's. Also the JPEG crops the console shows.
 */
#define _POSIX_C_SOURCE 200809L
#include "console.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "pw_json.h"

static const char review_sql[] =
    "CREATE TABLE IF NOT EXISTS reviews ("
    " vehicle TEXT PRIMARY KEY, event_id TEXT NOT NULL, officer TEXT NOT NULL,"
    " action TEXT NOT NULL, reason TEXT NOT NULL,"
    " read_plate TEXT NOT NULL, corrected_plate TEXT,"
    " decl_id INTEGER, reference TEXT, site TEXT NOT NULL, lane TEXT NOT NULL,"
    " decided_at INTEGER NOT NULL, json TEXT NOT NULL,"
    " published INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS reviews_unpublished ON reviews(decided_at)"
    " WHERE published = 0;"
    "CREATE TABLE IF NOT EXISTS crops (event_id TEXT PRIMARY KEY, jpeg BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS decisions_vehicle ON decisions(vehicle, decided_at);"
    "CREATE INDEX IF NOT EXISTS decisions_time ON decisions(decided_at);";

int pw_review_init(sqlite3 *db, pw_err *err)
{
    return pw_db_exec(db, review_sql, "creating the review tables", err);
}

int pw_crop_put(sqlite3 *db, const char *event_id, const void *jpeg, size_t len, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO crops (event_id, jpeg) VALUES (?, ?)",
                           -1, &s, NULL) != SQLITE_OK)
        return pw_db_fail(db, "storing a crop", err);
    sqlite3_bind_text(s, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(s, 2, jpeg, len, SQLITE_STATIC);
    int step = sqlite3_step(s);
    sqlite3_finalize(s);
    return step == SQLITE_DONE ? 0 : pw_db_fail(db, "storing a crop", err);
}

int pw_crop_get(sqlite3 *db, const char *event_id, GBytes **out, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT jpeg FROM crops WHERE event_id = ?", -1, &s, NULL) !=
        SQLITE_OK)
        return pw_db_fail(db, "reading a crop", err);
    sqlite3_bind_text(s, 1, event_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s), rc = 0;
    if (step == SQLITE_ROW) {
        *out = g_bytes_new(sqlite3_column_blob(s, 0), (gsize)sqlite3_column_bytes(s, 0));
        rc = 1;
    } else if (step != SQLITE_DONE) {
        rc = pw_db_fail(db, "reading a crop", err);
    }
    sqlite3_finalize(s);
    return rc;
}

void pw_review_result_clear(pw_review_result *r)
{
    if (!r)
        return;
    g_free(r->json);
    memset(r, 0, sizeof *r);
}

static const char *obj_str(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return "";
    return json_node_get_string(n);
}

static double obj_num(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : 0.0;
}

/*
 * The event the gate decided on, back from the stored decision JSON (which
 * pw_gate_decision_json() wrote from it): the fields the decision rules use,
 * so that pw_gate_read_from_event() derives the read as the gate did.
 */
static void event_from_decision(JsonObject *d, pw_event *ev)
{
    memset(ev, 0, sizeof *ev);
    JsonObject *rd = json_object_get_object_member(d, "read");
    if (pw_event_kind_parse(obj_str(d, "event_kind"), &ev->kind) < 0)
        ev->kind = PW_EVENT_VEHICLE_FINAL;
    g_strlcpy(ev->event_id, obj_str(d, "event_id"), sizeof ev->event_id);
    g_strlcpy(ev->stream_id, obj_str(d, "stream_id"), sizeof ev->stream_id);
    ev->seq = (uint64_t)obj_num(d, "seq");
    g_strlcpy(ev->site, obj_str(d, "site"), sizeof ev->site);
    g_strlcpy(ev->lane, obj_str(d, "lane"), sizeof ev->lane);
    g_strlcpy(ev->camera, obj_str(d, "camera"), sizeof ev->camera);
    g_strlcpy(ev->plate, obj_str(rd, "plate"), sizeof ev->plate);
    g_strlcpy(ev->country, obj_str(rd, "country"), sizeof ev->country);
    ev->confidence = obj_num(rd, "confidence");
    pw_parse_time(obj_str(rd, "first_seen"), &ev->first_seen_us);
    JsonArray *cc = rd && json_object_has_member(rd, "char_confidences")
                        ? json_object_get_array_member(rd, "char_confidences") : NULL;
    for (guint i = 0; cc && i < json_array_get_length(cc) && ev->n_char_conf < PW_PLATE_MAX; i++)
        ev->char_conf[ev->n_char_conf++] = (float)json_array_get_double_element(cc, i);
    JsonArray *alts = rd && json_object_has_member(rd, "alternatives")
                          ? json_object_get_array_member(rd, "alternatives") : NULL;
    for (guint i = 0; alts && i < json_array_get_length(alts) && ev->n_alts < PW_VEHICLE_MAX_ALTS;
         i++) {
        JsonObject *a = json_array_get_object_element(alts, i);
        g_strlcpy(ev->alts[ev->n_alts].text, obj_str(a, "text"), sizeof ev->alts[0].text);
        ev->alts[ev->n_alts++].confidence = (float)obj_num(a, "confidence");
    }
}

/* The stored decision of event_id as a parsed object (unref the parser). */
static int load_decision(sqlite3 *db, const char *event_id, JsonParser **p, pw_err *err)
{
    pw_gate_verdict v = 0;
    char *json = NULL;
    int found = pw_audit_find(db, event_id, &v, &json, err);
    if (found < 0)
        return found;
    if (found == 0)
        return pw_err_set(err, -ENOENT, "no decision for event %s", event_id);
    if (v == PW_GATE_RELEASE) {
        g_free(json);
        return pw_err_set(err, -EINVAL, "event %s was released by the gate; there is "
                          "nothing to review", event_id);
    }
    *p = json_parser_new();
    bool ok = json_parser_load_from_data(*p, json, -1, NULL) &&
              JSON_NODE_HOLDS_OBJECT(json_parser_get_root(*p));
    g_free(json);
    if (!ok) {
        g_clear_object(p);
        return pw_err_set(err, PW_ESTORE, "the stored decision of %s is not JSON", event_id);
    }
    return 0;
}

/* Index of the candidate a release by the officer uses, or a negative code. */
static int pick_candidate(const pw_gate_decision *d, const pw_review_request *rq, pw_err *err)
{
    for (guint i = 0; i < d->candidates->len; i++) {
        const pw_gate_candidate *c = &g_array_index(d->candidates, pw_gate_candidate, i);
        bool named = rq->reference && *rq->reference;
        if (named && strcmp(c->decl.reference, rq->reference) != 0)
            continue;
        if (!named && (int)i != d->chosen)
            continue;
        if (c->excluded)
            return pw_err_set(err, -EINVAL, "declaration %s cannot be used: %s",
                              c->decl.reference, c->excluded);
        if (c->decl.used_by[0])
            return pw_err_set(err, -EINVAL, "declaration %s was already used by %s",
                              c->decl.reference, c->decl.used_by);
        return (int)i;
    }
    if (rq->reference && *rq->reference)
        return pw_err_set(err, -EINVAL, "declaration %s is not a candidate for plate %s",
                          rq->reference, rq->plate && *rq->plate ? rq->plate : "as read");
    return pw_err_set(err, -EINVAL, "no single declaration matches; name one to release");
}

/* The officer's decision: the re-match JSON with the verdict, declaration and officer. */
static char *review_json(const pw_gate_read *r, const pw_gate_decision *d, int chosen,
                         const pw_gate_thresholds *th, const pw_review_request *rq,
                         const char *read_plate, int64_t now)
{
    char *base = pw_gate_decision_json(r, d, th, now);
    JsonParser *p = json_parser_new();
    json_parser_load_from_data(p, base, -1, NULL);
    g_free(base);
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    json_object_set_string_member(o, "decision", pw_gate_verdict_name(rq->action));
    json_object_set_string_member(o, "reason",
                                  rq->action == PW_GATE_RELEASE ? "officer_release"
                                                                : "officer_hold");
    JsonArray *cands = json_object_get_array_member(o, "candidates");
    if (chosen >= 0)
        json_object_set_member(o, "declaration",
                               json_node_copy(json_array_get_element(cands, (guint)chosen)));
    else
        json_object_set_null_member(o, "declaration");
    JsonObject *of = json_object_new();
    json_object_set_string_member(of, "id", rq->officer);
    char *at = pw_format_time(now);
    json_object_set_string_member(of, "at", at);
    g_free(at);
    json_object_set_string_member(of, "reason", rq->reason);
    json_object_set_string_member(of, "read_plate", read_plate);
    if (rq->plate && *rq->plate)
        json_object_set_string_member(of, "corrected_plate", r->plate);
    else
        json_object_set_null_member(of, "corrected_plate");
    json_object_set_object_member(o, "officer", of);
    char *out = pw_json_to_string(json_parser_get_root(p), FALSE);
    g_object_unref(p);
    return out;
}

/* 1 and the stored review when the vehicle was resolved, 0 when not. */
static int find_review(sqlite3 *db, const char *vehicle, const pw_review_request *rq,
                       pw_review_result *out, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT action, coalesce(corrected_plate, ''),"
                           " coalesce(reference, ''), officer, json FROM reviews"
                           " WHERE vehicle = ?", -1, &s, NULL) != SQLITE_OK)
        return pw_db_fail(db, "reviews", err);
    sqlite3_bind_text(s, 1, vehicle, -1, SQLITE_STATIC);
    int step = sqlite3_step(s), rc = 0;
    if (step == SQLITE_ROW) {
        char norm[PW_PLATE_MAX + 1] = "";
        if (rq->plate && *rq->plate)
            pw_plate_normalise(rq->plate, norm, sizeof norm);
        const char *ref = (const char *)sqlite3_column_text(s, 2);
        bool same = strcmp((const char *)sqlite3_column_text(s, 0),
                           pw_gate_verdict_name(rq->action)) == 0 &&
                    strcmp((const char *)sqlite3_column_text(s, 1), norm) == 0 &&
                    (!rq->reference || !*rq->reference || strcmp(ref, rq->reference) == 0);
        if (same) {
            out->json = g_strdup((const char *)sqlite3_column_text(s, 4));
            out->duplicate = true;
            rc = 1;
        } else {
            rc = pw_err_set(err, -EEXIST, "vehicle %s was already resolved by %s", vehicle,
                            (const char *)sqlite3_column_text(s, 3));
        }
    } else if (step != SQLITE_DONE) {
        rc = pw_db_fail(db, "reviews", err);
    }
    sqlite3_finalize(s);
    return rc;
}

static int insert_review(sqlite3 *db, const pw_gate_read *r, const char *read_plate,
                         const pw_review_request *rq, const pw_gate_candidate *c,
                         const char *json, int64_t now, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "INSERT INTO reviews (vehicle, event_id, officer, action,"
                           " reason, read_plate, corrected_plate, decl_id, reference, site,"
                           " lane, decided_at, json) VALUES"
                           " (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)", -1, &s, NULL) !=
        SQLITE_OK)
        return pw_db_fail(db, "reviews", err);
    sqlite3_bind_text(s, 1, r->vehicle, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->ev->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, rq->officer, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, pw_gate_verdict_name(rq->action), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, rq->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, read_plate, -1, SQLITE_STATIC);
    if (rq->plate && *rq->plate)
        sqlite3_bind_text(s, 7, r->plate, -1, SQLITE_STATIC);
    if (c) {
        sqlite3_bind_int64(s, 8, c->decl.id);
        sqlite3_bind_text(s, 9, c->decl.reference, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(s, 10, r->ev->site, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, r->ev->lane, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 12, now);
    sqlite3_bind_text(s, 13, json, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    sqlite3_finalize(s);
    return step == SQLITE_DONE ? 0 : pw_db_fail(db, "reviews", err);
}

static int check_request(const pw_review_request *rq, pw_err *err)
{
    if (rq->action != PW_GATE_RELEASE && rq->action != PW_GATE_HOLD)
        return pw_err_set(err, -EINVAL, "action must be RELEASE or HOLD");
    size_t n = rq->reason ? strlen(rq->reason) : 0;
    if (n == 0 || n > PW_REVIEW_REASON_MAX)
        return pw_err_set(err, -EINVAL, "a reason of 1..%d bytes is required",
                          PW_REVIEW_REASON_MAX);
    if (!rq->officer || !*rq->officer)
        return pw_err_set(err, -EINVAL, "no officer");
    char norm[PW_PLATE_MAX + 1];
    if (rq->plate && *rq->plate && pw_plate_normalise(rq->plate, norm, sizeof norm) < 0)
        return pw_err_set(err, -EINVAL, "\"%s\" is not a plate", rq->plate);
    return 0;
}

/* Inside the transaction: the stored decision, the re-match and the review row. */
static int resolve_locked(pw_declstore *st, const pw_gate_thresholds *th,
                          const pw_review_request *rq, pw_review_result *out, pw_err *err)
{
    sqlite3 *db = pw_declstore_db(st);
    JsonParser *p = NULL;
    int rc = load_decision(db, rq->event_id, &p, err);
    if (rc)
        return rc;
    pw_event ev;
    JsonObject *stored = json_node_get_object(json_parser_get_root(p));
    event_from_decision(stored, &ev);
    char vehicle[PW_DECL_VEHICLE_MAX + 1];
    g_strlcpy(vehicle, obj_str(stored, "vehicle"), sizeof vehicle);
    g_object_unref(p);
    /* The plate as the gate read it (normalised), kept beside the officer's correction. */
    char read_plate[PW_PLATE_MAX + 1];
    g_strlcpy(read_plate, ev.plate, sizeof read_plate);
    if (rq->plate && *rq->plate) {
        /* The officer has seen the plate: the correction is the only reading. */
        pw_plate_normalise(rq->plate, ev.plate, sizeof ev.plate);
        ev.confidence = 1.0;
        ev.n_char_conf = 0;
        ev.n_alts = 0;
    }
    pw_gate_read r;
    pw_gate_read_from_event(&ev, &r);
    /* The vehicle key as the gate stored it, not rebuilt from a time printed with less precision. */
    g_strlcpy(r.vehicle, vehicle, sizeof r.vehicle);
    g_strlcpy(out->site, ev.site, sizeof out->site);
    g_strlcpy(out->lane, ev.lane, sizeof out->lane);
    g_strlcpy(out->vehicle, r.vehicle, sizeof out->vehicle);
    if ((rc = find_review(db, r.vehicle, rq, out, err)))
        return rc < 0 ? rc : 0;
    pw_gate_decision d;
    if ((rc = pw_gate_decide(st, th, &r, &d, err)))
        return rc;
    int chosen = -1;
    if (rq->action == PW_GATE_RELEASE && (chosen = pick_candidate(&d, rq, err)) < 0) {
        pw_gate_decision_clear(&d);
        return chosen;
    }
    const pw_gate_candidate *c =
        chosen >= 0 ? &g_array_index(d.candidates, pw_gate_candidate, chosen) : NULL;
    int64_t now = g_get_real_time();
    out->json = review_json(&r, &d, chosen, th, rq, read_plate, now);
    rc = insert_review(db, &r, read_plate, rq, c, out->json, now, err);
    if (rc == 0 && c)
        rc = pw_declstore_mark_used(st, c->decl.id, r.vehicle, r.ev->first_seen_us, err);
    pw_gate_decision_clear(&d);
    return rc;
}

int pw_review_resolve(pw_declstore *st, const pw_gate_thresholds *th,
                      const pw_review_request *rq, pw_review_result *out, pw_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_request(rq, err);
    if (rc)
        return rc;
    sqlite3 *db = pw_declstore_db(st);
    if ((rc = pw_db_exec(db, "BEGIN IMMEDIATE", "resolving", err)))
        return rc;
    rc = resolve_locked(st, th, rq, out, err);
    if (rc == 0)
        rc = pw_db_exec(db, out->duplicate ? "ROLLBACK" : "COMMIT", "resolving", err);
    if (rc) {
        pw_db_exec(db, "ROLLBACK", "resolving", NULL);
        pw_review_result_clear(out);
    }
    return rc;
}

int pw_review_mark_published(sqlite3 *db, const char *vehicle, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "UPDATE reviews SET published = 1 WHERE vehicle = ?", -1, &s,
                           NULL) != SQLITE_OK)
        return pw_db_fail(db, "reviews", err);
    sqlite3_bind_text(s, 1, vehicle, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    sqlite3_finalize(s);
    return step == SQLITE_DONE ? 0 : pw_db_fail(db, "reviews", err);
}

int pw_review_unpublished(sqlite3 *db, pw_audit_row_cb cb, void *user, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT vehicle, action, site, lane, json FROM reviews"
                           " WHERE published = 0 ORDER BY decided_at", -1, &s, NULL) !=
        SQLITE_OK)
        return pw_db_fail(db, "reviews", err);
    /* Collected first: the callback marks rows published while we would be reading. */
    GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        for (int c = 0; c < 5; c++)
            g_ptr_array_add(rows, g_strdup((const char *)sqlite3_column_text(s, c)));
    int rc = step == SQLITE_DONE ? 0 : pw_db_fail(db, "reviews", err);
    sqlite3_finalize(s);
    for (guint i = 0; rc == 0 && i + 4 < rows->len; i += 5) {
        int v = strcmp(rows->pdata[i + 1], "RELEASE") == 0 ? PW_GATE_RELEASE : PW_GATE_HOLD;
        cb(rows->pdata[i], v, rows->pdata[i + 2], rows->pdata[i + 3], rows->pdata[i + 4],
           user);
    }
    g_ptr_array_unref(rows);
    return rc;
}

int pw_review_corrections(sqlite3 *db, pw_correction_cb cb, void *user, pw_err *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT r.event_id, coalesce(r.corrected_plate, r.read_plate),"
                           " r.corrected_plate IS NOT NULL, c.jpeg FROM reviews r"
                           " JOIN crops c ON c.event_id = r.event_id"
                           " WHERE coalesce(r.corrected_plate, r.read_plate) != ''"
                           " ORDER BY r.decided_at", -1, &s, NULL) != SQLITE_OK)
        return pw_db_fail(db, "reviews", err);
    int step, rc = 0;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW)
        rc = cb((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
                sqlite3_column_int(s, 2) != 0, sqlite3_column_blob(s, 3),
                (size_t)sqlite3_column_bytes(s, 3), user);
    if (rc == 0 && step != SQLITE_DONE)
        rc = pw_db_fail(db, "reviews", err);
    sqlite3_finalize(s);
    return rc;
}
