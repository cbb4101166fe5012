/*
 * web_api.c - the data and actions behind the console's pages
 * (docs/console.md): the session, recent decisions per lane, the MANUAL
 * queue, search by plate and time, crops, officers' resolutions, the
 * accounts list (admin), and the live stream of decisions as server-sent
 * events.
 */
#define _POSIX_C_SOURCE 200809L
#include "web_internal.h"

#include <errno.h>
#include <string.h>

/* Open event streams at most: each holds a connection and a little memory. */
#define MAX_STREAMS 64
/* A comment line this often keeps proxies and browsers from closing a quiet stream. */
#define KEEPALIVE_S 15

/* ---- rows of decisions ---- */

/* Adds stored JSON text as a node (a JSON null when it is absent or unparsable). */
static void add_json_text(JsonBuilder *b, const char *json)
{
    JsonNode *n = json ? json_from_string(json, NULL) : NULL;
    if (n)
        json_builder_add_value(b, n);
    else
        json_builder_add_null_value(b);
}

/*
 * Runs a query whose columns are: decision JSON, has crop (0/1), review
 * JSON or NULL, plate distance (or NULL); and answers them as a JSON array.
 */
static void reply_rows(pw_web *w, SoupServerMessage *msg, sqlite3_stmt *s)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "rows");
    json_builder_begin_array(b);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "decision");
        add_json_text(b, (const char *)sqlite3_column_text(s, 0));
        json_builder_set_member_name(b, "crop");
        json_builder_add_boolean_value(b, sqlite3_column_int(s, 1) != 0);
        json_builder_set_member_name(b, "review");
        add_json_text(b, (const char *)sqlite3_column_text(s, 2));
        if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
            json_builder_set_member_name(b, "distance");
            json_builder_add_double_value(b, sqlite3_column_double(s, 3));
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    sqlite3_finalize(s);
    if (step != SQLITE_DONE) {
        pw_err err = {0};
        pw_db_fail(pw_declstore_db(w->store), "console query", &err);
        g_warning("console: %s", err.msg);
        pw_web_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store query failed");
    } else {
        pw_web_reply_json(msg, pw_json_builder_to_string(b, FALSE));
    }
    g_object_unref(b);
}

static sqlite3_stmt *prepare(pw_web *w, SoupServerMessage *msg, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(pw_declstore_db(w->store), sql, -1, &s, NULL) != SQLITE_OK) {
        g_warning("console: %s", sqlite3_errmsg(pw_declstore_db(w->store)));
        pw_web_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "store query failed");
        return NULL;
    }
    return s;
}

#define ROW_COLUMNS                                                                        \
    "d.json, EXISTS (SELECT 1 FROM crops c WHERE c.event_id = d.event_id), r.json"

static const char *query_get(GHashTable *query, const char *name)
{
    const char *v = query ? g_hash_table_lookup(query, name) : NULL;
    return v ? v : "";
}

/* A positive row limit from the query, at most PW_WEB_ROWS_MAX; -1 when malformed. */
static int row_limit(GHashTable *query)
{
    const char *v = query_get(query, "limit");
    if (!*v)
        return 50;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    return *end || n < 1 ? -1 : (int)MIN(n, PW_WEB_ROWS_MAX);
}

static bool get_only(SoupServerMessage *msg)
{
    if (strcmp(soup_server_message_get_method(msg), "GET") == 0)
        return true;
    pw_web_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "GET only");
    return false;
}

static void recent_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                           GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    pw_web *w = user;
    if (!get_only(msg) || !pw_web_require_session(w, msg))
        return;
    int limit = row_limit(query);
    if (limit < 0) {
        pw_web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "limit must be a positive integer");
        return;
    }
    sqlite3_stmt *s = prepare(w, msg, "SELECT " ROW_COLUMNS ", NULL FROM decisions d"
                              " LEFT JOIN reviews r ON r.vehicle = d.vehicle"
                              " WHERE (?1 = '' OR d.lane = ?1)"
                              " ORDER BY d.decided_at DESC LIMIT ?2");
    if (!s)
        return;
    sqlite3_bind_text(s, 1, query_get(query, "lane"), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 2, limit);
    reply_rows(w, msg, s);
}

/* Vehicles whose latest decision is MANUAL and that no officer has resolved. */
static void manual_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                           GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    (void)query;
    pw_web *w = user;
    if (!get_only(msg) || !pw_web_require_session(w, msg))
        return;
    sqlite3_stmt *s = prepare(w, msg, "SELECT " ROW_COLUMNS ", NULL FROM decisions d"
                              " LEFT JOIN reviews r ON r.vehicle = d.vehicle"
                              " WHERE d.verdict = 'MANUAL' AND r.vehicle IS NULL"
                              " AND d.decided_at = (SELECT max(x.decided_at) FROM decisions x"
                              "  WHERE x.vehicle = d.vehicle)"
                              " ORDER BY d.decided_at LIMIT ?1");
    if (!s)
        return;
    sqlite3_bind_int(s, 1, PW_WEB_ROWS_MAX);
    reply_rows(w, msg, s);
}

/* ---- search ---- */

/* SQL pw_distance(a, b): the controller's plate distance, so search matches as it does. */
static void sql_distance(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const pw_web *w = sqlite3_user_data(ctx);
    const char *a = (const char *)sqlite3_value_text(argv[0]);
    const char *b = (const char *)sqlite3_value_text(argv[1]);
    if (!a || !b) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_double(ctx, pw_plate_distance(a, b, w->gc.th.confusion_cost));
}

/* 0 and *us for an empty value (fallback) or an RFC 3339 time; -1 when malformed. */
static int query_time(GHashTable *query, const char *name, int64_t fallback, int64_t *us)
{
    const char *v = query_get(query, name);
    *us = fallback;
    return *v && pw_parse_time(v, us) ? -1 : 0;
}

static int add_decl(const pw_decl *d, void *user)
{
    JsonBuilder *b = user;
    char *from = pw_format_time(d->window_start_us), *until = pw_format_time(d->window_end_us);
    json_builder_begin_object(b);
    const char *fields[][2] = {{"reference", d->reference}, {"vehicle_plate", d->vehicle_plate},
                               {"trailer_plate", d->trailer_plate}, {"country", d->country},
                               {"site", d->site}, {"lane", d->lane}, {"window_start", from},
                               {"window_end", until},
                               {"status", d->status == PW_DECL_CANCELLED ? "cancelled"
                                                                         : "active"},
                               {"used_by", d->used_by}};
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        json_builder_set_member_name(b, fields[i][0]);
        json_builder_add_string_value(b, fields[i][1]);
    }
    json_builder_end_object(b);
    g_free(from);
    g_free(until);
    return 0;
}

/* The declarations near a plate, through the store's confusion-folded index. */
static void decls_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    pw_web *w = user;
    if (!get_only(msg) || !pw_web_require_session(w, msg))
        return;
    char norm[PW_PLATE_MAX + 1];
    if (pw_plate_normalise(query_get(query, "plate"), norm, sizeof norm) < 0) {
        pw_web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "plate is not a plate");
        return;
    }
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "declarations");
    json_builder_begin_array(b);
    pw_err err = {0};
    int rc = pw_declstore_list(w->store, norm, add_decl, b, &err);
    json_builder_end_array(b);
    json_builder_end_object(b);
    if (rc)
        pw_web_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, err.msg);
    else
        pw_web_reply_json(msg, pw_json_builder_to_string(b, FALSE));
    g_object_unref(b);
}

/*
 * Past passages by plate (within manual_distance of the read or of an
 * officer's correction, confusions folded as the controller folds them)
 * and by time (from/until, RFC 3339; default the last 7 days). The time
 * index bounds the scan; the distance is computed per row in the range.
 */
static void search_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                           GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    pw_web *w = user;
    if (!get_only(msg) || !pw_web_require_session(w, msg))
        return;
    int64_t now = g_get_real_time(), from, until;
    int limit = row_limit(query);
    char norm[PW_PLATE_MAX + 1] = "";
    const char *plate = query_get(query, "plate");
    if (query_time(query, "from", now - INT64_C(7 * 24 * 3600) * G_USEC_PER_SEC, &from) ||
        query_time(query, "until", now + G_USEC_PER_SEC, &until)) {
        pw_web_reply_error(msg, SOUP_STATUS_BAD_REQUEST,
                           "from and until must be RFC 3339 times with a zone");
        return;
    }
    if (*plate && pw_plate_normalise(plate, norm, sizeof norm) < 0) {
        pw_web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "plate is not a plate");
        return;
    }
    if (limit < 0) {
        pw_web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "limit must be a positive integer");
        return;
    }
    sqlite3_stmt *s = prepare(w, msg, "SELECT * FROM (SELECT " ROW_COLUMNS ","
                              " CASE WHEN ?1 = '' THEN NULL ELSE min(pw_distance(d.plate, ?1),"
                              "  coalesce(pw_distance(r.corrected_plate, ?1), 1e9)) END AS dist"
                              " FROM decisions d LEFT JOIN reviews r ON r.vehicle = d.vehicle"
                              " WHERE d.decided_at BETWEEN ?2 AND ?3)"
                              " WHERE dist IS NULL OR dist <= ?4"
                              " ORDER BY coalesce(dist, 0), 1 DESC LIMIT ?5");
    if (!s)
        return;
    sqlite3_bind_text(s, 1, norm, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, from);
    sqlite3_bind_int64(s, 3, until);
    sqlite3_bind_double(s, 4, w->gc.th.manual_distance);
    sqlite3_bind_int(s, 5, limit);
    reply_rows(w, msg, s);
}

/* ---- crops, session, accounts ---- */

static void crop_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                         GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    pw_web *w = user;
    if (!get_only(msg) || !pw_web_require_session(w, msg))
        return;
    const char *id = query_get(query, "event");
    if (!g_uuid_string_is_valid(id)) {
        pw_web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "event must be an event id");
        return;
    }
    GBytes *jpeg = NULL;
    pw_err err = {0};
    int found = pw_crop_get(pw_declstore_db(w->store), id, &jpeg, &err);
    if (found == 1) {
        gsize n = 0;
        const void *data = g_bytes_get_data(jpeg, &n);
        pw_web_reply(msg, SOUP_STATUS_OK, "image/jpeg", data, n);
        g_bytes_unref(jpeg);
    } else {
        pw_web_reply_error(msg, found == 0 ? SOUP_STATUS_NOT_FOUND
                                           : SOUP_STATUS_INTERNAL_SERVER_ERROR,
                           found == 0 ? "no crop for this event" : err.msg);
    }
}

static void session_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                            GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    (void)query;
    pw_web *w = user;
    pw_web_session *s;
    if (!get_only(msg) || !(s = pw_web_require_session(w, msg)))
        return;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "user");
    json_builder_add_string_value(b, s->user);
    json_builder_set_member_name(b, "role");
    json_builder_add_string_value(b, pw_role_name(s->role));
    json_builder_set_member_name(b, "csrf");
    json_builder_add_string_value(b, s->csrf);
    json_builder_end_object(b);
    pw_web_reply_json(msg, pw_json_builder_to_string(b, FALSE));
    g_object_unref(b);
}

static int add_account(const char *name, pw_role role, bool disabled, int64_t created_us,
                       void *user)
{
    JsonBuilder *b = user;
    char *created = pw_format_time(created_us);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, name);
    json_builder_set_member_name(b, "role");
    json_builder_add_string_value(b, pw_role_name(role));
    json_builder_set_member_name(b, "disabled");
    json_builder_add_boolean_value(b, disabled);
    json_builder_set_member_name(b, "created");
    json_builder_add_string_value(b, created);
    json_builder_end_object(b);
    g_free(created);
    return 0;
}

static void accounts_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                             GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    (void)query;
    pw_web *w = user;
    pw_web_session *s;
    if (!get_only(msg) || !(s = pw_web_require_session(w, msg)))
        return;
    if (s->role != PW_ROLE_ADMIN) {
        pw_web_reply_error(msg, SOUP_STATUS_FORBIDDEN, "only an admin may list accounts");
        return;
    }
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "accounts");
    json_builder_begin_array(b);
    pw_err err = {0};
    int rc = pw_accounts_list(pw_declstore_db(w->store), add_account, b, &err);
    json_builder_end_array(b);
    json_builder_end_object(b);
    if (rc)
        pw_web_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, err.msg);
    else
        pw_web_reply_json(msg, pw_json_builder_to_string(b, FALSE));
    g_object_unref(b);
}

/* ---- resolutions ---- */

static unsigned status_of(int rc)
{
    switch (rc) {
    case -ENOENT: return SOUP_STATUS_NOT_FOUND;
    case -EEXIST: return SOUP_STATUS_CONFLICT;
    case -EINVAL: return SOUP_STATUS_UNPROCESSABLE_ENTITY;
    default: return SOUP_STATUS_INTERNAL_SERVER_ERROR;
    }
}

static void resolve_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                            GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    (void)query;
    pw_web *w = user;
    pw_web_session *s = NULL;
    GHashTable *form = pw_web_require_form(w, msg, &s);
    if (!form)
        return;
    const char *action = g_hash_table_lookup(form, "action");
    const char *event = g_hash_table_lookup(form, "event");
    pw_review_request rq = {
        .event_id = event,
        .officer = s->user,
        .action = action && strcmp(action, "RELEASE") == 0 ? PW_GATE_RELEASE
                : action && strcmp(action, "HOLD") == 0    ? PW_GATE_HOLD : 0,
        .reason = g_hash_table_lookup(form, "reason"),
        .plate = g_hash_table_lookup(form, "plate"),
        .reference = g_hash_table_lookup(form, "reference"),
    };
    pw_review_result res;
    pw_err err = {0};
    int rc = !event || !g_uuid_string_is_valid(event)
                 ? pw_err_set(&err, -EINVAL, "event must be an event id")
                 : pw_review_resolve(w->store, &w->gc.th, &rq, &res, &err);
    if (rc) {
        g_message("console: \"%s\" could not resolve %s: %s", s->user, event ? event : "?",
                  err.msg);
        pw_web_reply_error(msg, status_of(rc), err.msg);
        g_hash_table_unref(form);
        return;
    }
    if (!res.duplicate) {
        g_message("console: \"%s\" resolved vehicle %s: %s", s->user, res.vehicle,
                  pw_gate_verdict_name(rq.action));
        /* The gate publishes it and its on_decision tells the live views; without a
         * gate (a console on its own) the views are told here. */
        if (w->gate)
            pw_gate_post(w->gate, res.site, res.lane, res.vehicle, res.json);
        else
            pw_web_api_broadcast(w, res.json);
    }
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "duplicate");
    json_builder_add_boolean_value(b, res.duplicate);
    json_builder_set_member_name(b, "decision");
    add_json_text(b, res.json);
    json_builder_end_object(b);
    pw_web_reply_json(msg, pw_json_builder_to_string(b, FALSE));
    g_object_unref(b);
    pw_review_result_clear(&res);
    g_hash_table_unref(form);
}

/* ---- server-sent events ---- */

static void stream_send(SoupServerMessage *msg, const char *text)
{
    SoupMessageBody *body = soup_server_message_get_response_body(msg);
    soup_message_body_append(body, SOUP_MEMORY_COPY, text, strlen(text));
    soup_server_message_unpause(msg);
}

static void stream_finished(SoupServerMessage *msg, gpointer user)
{
    pw_web *w = user;
    g_ptr_array_remove(w->streams, msg);
}

static void events_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                           GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    (void)query;
    pw_web *w = user;
    if (!get_only(msg) || !pw_web_require_session(w, msg))
        return;
    if (w->streams->len >= MAX_STREAMS) {
        pw_web_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too many open streams");
        return;
    }
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_message_headers_set_content_type(h, "text/event-stream", NULL);
    soup_message_headers_replace(h, "Cache-Control", "no-store");
    soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
    g_signal_connect(msg, "finished", G_CALLBACK(stream_finished), w);
    g_ptr_array_add(w->streams, msg);
    stream_send(msg, ": platewatch decisions\n\n");
}

void pw_web_api_broadcast(pw_web *w, const char *json)
{
    /* One data line: the decision JSON has no line breaks, but a stored one could. */
    char *flat = g_strdup(json);
    g_strdelimit(flat, "\r\n", ' ');
    char *event = g_strdup_printf("event: decision\ndata: %s\n\n", flat);
    for (guint i = 0; i < w->streams->len; i++)
        stream_send(w->streams->pdata[i], event);
    g_free(event);
    g_free(flat);
}

static gboolean keepalive(gpointer user)
{
    pw_web *w = user;
    for (guint i = 0; i < w->streams->len; i++)
        stream_send(w->streams->pdata[i], ": keepalive\n\n");
    return G_SOURCE_CONTINUE;
}

void pw_web_api_close_streams(pw_web *w)
{
    while (w->streams->len) {
        SoupServerMessage *msg = g_ptr_array_steal_index(w->streams, w->streams->len - 1);
        g_signal_handlers_disconnect_by_data(msg, w);
        soup_message_body_complete(soup_server_message_get_response_body(msg));
        soup_server_message_unpause(msg);
    }
}

typedef struct {
    const char *path;
    SoupServerCallback cb;
} route;

static const route routes[] = {
    {"/api/session", session_handler}, {"/api/recent", recent_handler},
    {"/api/manual", manual_handler},   {"/api/search", search_handler},
    {"/api/declarations", decls_handler}, {"/api/crop", crop_handler},
    {"/api/resolve", resolve_handler}, {"/api/events", events_handler},
    {"/api/accounts", accounts_handler},
};

/* Exact paths only: libsoup would also hand "/api/recent/x" to "/api/recent". */
static void api_dispatch(SoupServer *server, SoupServerMessage *msg, const char *path,
                         GHashTable *query, gpointer user)
{
    for (size_t i = 0; i < G_N_ELEMENTS(routes); i++)
        if (strcmp(path, routes[i].path) == 0) {
            routes[i].cb(server, msg, path, query, user);
            return;
        }
    pw_web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such page");
}

void pw_web_api_register(pw_web *w)
{
    sqlite3_create_function_v2(pw_declstore_db(w->store), "pw_distance", 2,
                               SQLITE_UTF8 | SQLITE_DETERMINISTIC, w, sql_distance, NULL, NULL,
                               NULL);
    soup_server_add_handler(w->server, "/api", api_dispatch, w, NULL);
    GSource *t = g_timeout_source_new_seconds(KEEPALIVE_S);
    g_source_set_callback(t, keepalive, w, NULL);
    g_source_attach(t, w->ctx);
    g_source_unref(t);
}
