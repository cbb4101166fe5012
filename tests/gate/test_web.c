/*
 * test_web.c - the console's HTTP handlers over a real loopback socket:
 * logins, session cookies and their expiry, the login rate limit, CSRF,
 * roles, bad requests (oversized and chunked bodies, malformed forms,
 * wrong methods, unknown paths), resolving a MANUAL vehicle (audited with
 * the officer, idempotent, published on the gate's PUB), crops, search,
 * the live event stream, /metrics and /healthz, TLS.
 *
 * The client is libsoup's own session, synchronous, in the test's thread;
 * the server runs in its thread as in platewatch-gate. Cookies are carried
 * by hand so that the test sees exactly what the server set.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_test_util.h"
#include "console.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define OFFICER_PW "correct horse battery"
#define ADMIN_PW "staple admin 1234"
static const char fake_jpeg[] = "\xff\xd8\xff\xe0 not really a picture \xff\xd9";

typedef struct {
    char *dir, *store;
    pw_gate *gate;
    pw_web *web;
    SoupSession *http;
    char base[64];
    char *manual_id, *hold_id;   /* a MANUAL decision (with a crop) and a HOLD one */
} rig;

typedef struct {
    unsigned status;
    char *body;
    char *cookie;      /* "pw_session=..." from Set-Cookie, or NULL */
    char *set_cookie;  /* the whole Set-Cookie header */
    char *location;
    char *type;
} resp;

static void resp_clear(resp *r)
{
    g_free(r->body);
    g_free(r->cookie);
    g_free(r->set_cookie);
    g_free(r->location);
    g_free(r->type);
    memset(r, 0, sizeof *r);
}

static resp request_raw(rig *r, const char *method, const char *path, const char *cookie,
                        const char *type, const char *body, gssize len, bool chunked)
{
    char *uri = g_strconcat(r->base, path, NULL);
    SoupMessage *m = soup_message_new(method, uri);
    g_free(uri);
    cr_assert_not_null(m);
    soup_message_add_flags(m, SOUP_MESSAGE_NO_REDIRECT);
    SoupMessageHeaders *h = soup_message_get_request_headers(m);
    if (cookie)
        soup_message_headers_replace(h, "Cookie", cookie);
    if (body) {
        GBytes *b = g_bytes_new(body, len < 0 ? strlen(body) : (gsize)len);
        soup_message_set_request_body_from_bytes(m, type, b);
        g_bytes_unref(b);
        if (chunked)
            soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
    }
    GError *gerr = NULL;
    GBytes *out = soup_session_send_and_read(r->http, m, NULL, &gerr);
    cr_assert_not_null(out, "%s %s: %s", method, path, gerr ? gerr->message : "?");
    resp res = {0};
    res.status = soup_message_get_status(m);
    gsize n = 0;
    const char *data = g_bytes_get_data(out, &n);
    res.body = g_strndup(data ? data : "", n);
    SoupMessageHeaders *rh = soup_message_get_response_headers(m);
    const char *sc = soup_message_headers_get_one(rh, "Set-Cookie");
    if (sc) {
        res.set_cookie = g_strdup(sc);
        res.cookie = g_strndup(sc, strcspn(sc, ";"));
    }
    const char *loc = soup_message_headers_get_one(rh, "Location");
    res.location = loc ? g_strdup(loc) : NULL;
    const char *t = soup_message_headers_get_content_type(rh, NULL);
    res.type = t ? g_strdup(t) : NULL;
    g_bytes_unref(out);
    g_object_unref(m);
    return res;
}

static resp get(rig *r, const char *path, const char *cookie)
{
    return request_raw(r, "GET", path, cookie, NULL, NULL, 0, false);
}

static resp post(rig *r, const char *path, const char *cookie, const char *form)
{
    return request_raw(r, "POST", path, cookie, "application/x-www-form-urlencoded", form,
                       -1, false);
}

static char *login(rig *r, const char *user, const char *password)
{
    char *form = soup_form_encode("user", user, "password", password, NULL);
    resp res = post(r, "/login", NULL, form);
    g_free(form);
    cr_assert_eq(res.status, 303, "login of %s: %u %s", user, res.status, res.body);
    char *cookie = g_strdup(res.cookie);
    resp_clear(&res);
    return cookie;
}

/* The member "csrf" of /api/session. */
static char *csrf_of(rig *r, const char *cookie)
{
    resp res = get(r, "/api/session", cookie);
    cr_assert_eq(res.status, 200);
    JsonNode *n = json_from_string(res.body, NULL);
    char *token = g_strdup(json_object_get_string_member(json_node_get_object(n), "csrf"));
    json_node_unref(n);
    resp_clear(&res);
    return token;
}

static char *decide(pw_gate *g, const char *plate, double confidence, bool crop)
{
    char *id = g_uuid_string_random();
    char *json = gt_event_json(&(gt_event){.plate = plate, .confidence = confidence,
                                           .event_id = id, .kind = "vehicle.final",
                                           .first_seen_us = GT_NOW_US + g_random_int()});
    pw_event ev;
    pw_err err = {0};
    cr_assert_eq(pw_event_from_json(json, strlen(json), &ev, &err), 0, "%s", err.msg);
    pw_gate_result res;
    cr_assert_eq(pw_gate_handle_event(g, &ev, crop ? fake_jpeg : NULL, crop ? sizeof fake_jpeg - 1 : 0,
                                      &res, &err), 0, "%s", err.msg);
    cr_assert_neq(res.verdict, 0);
    pw_event_clear(&ev);
    g_free(json);
    pw_gate_result_clear(&res);
    return id;
}

static void start_web(rig *r, const pw_web_config *wc)
{
    pw_gate_config gc;
    pw_gate_config_defaults(&gc);
    gc.store_path = r->store;
    pw_err err = {0};
    cr_assert_eq(pw_web_new(wc, &gc, r->gate, &r->web, &err), 0, "%s", err.msg);
    g_snprintf(r->base, sizeof r->base, "%s://127.0.0.1:%d", wc->certificate ? "https" : "http",
               pw_web_port(r->web));
}

static void rig_init_with(rig *r, const pw_web_config *wc, const char *decision_endpoint)
{
    memset(r, 0, sizeof *r);
    r->dir = gt_tmpdir();
    r->store = g_build_filename(r->dir, "gate.db", NULL);
    pw_gate_config gc;
    pw_gate_config_defaults(&gc);
    gc.store_path = r->store;
    gc.decision_endpoint = decision_endpoint;
    pw_err err = {0};
    cr_assert_eq(pw_gate_new(&gc, &r->gate, &err), 0, "%s", err.msg);
    pw_declstore *st = NULL;
    cr_assert_eq(pw_declstore_new(r->store, &st, NULL), 0);
    gt_add(st, "MRN-AB12", "AB12CDE", NULL, "GB", NULL);
    gt_add(st, "MRN-XY34", "XY34ZZZ", NULL, "GB", NULL);
    sqlite3 *db = pw_declstore_db(st);
    cr_assert_eq(pw_accounts_init(db, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_accounts_add(db, "alice", OFFICER_PW, PW_ROLE_OFFICER, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(pw_accounts_add(db, "bob", ADMIN_PW, PW_ROLE_ADMIN, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_accounts_add(db, "carol", OFFICER_PW, PW_ROLE_OFFICER, &err), 0);
    cr_assert_eq(pw_accounts_set_disabled(db, "carol", true, &err), 0);
    pw_declstore_destroy(&st);
    /* Below min_confidence a matching read is MANUAL; an undeclared plate HOLDs. */
    r->manual_id = decide(r->gate, "AB12CDE", 0.4, true);
    r->hold_id = decide(r->gate, "QQ99QQQ", 0.9, false);
    r->http = soup_session_new_with_options("timeout", 20, NULL);
    start_web(r, wc);
}

static void rig_init(rig *r)
{
    rig_init_with(r, &(pw_web_config){.listen = "127.0.0.1:0"}, NULL);
}

static void rig_fini(rig *r)
{
    pw_web_destroy(&r->web);
    pw_gate_destroy(&r->gate);
    g_clear_object(&r->http);
    g_free(r->manual_id);
    g_free(r->hold_id);
    g_free(r->store);
    gt_rmdir(r->dir);
}

/* ---- logins and sessions ---- */

Test(web, login_sets_a_strict_http_only_secure_cookie)
{
    rig r;
    rig_init(&r);
    char *form = soup_form_encode("user", "alice", "password", OFFICER_PW, NULL);
    resp res = post(&r, "/login", NULL, form);
    cr_assert_eq(res.status, 303);
    cr_assert_str_eq(res.location, "/");
    cr_assert_not_null(res.set_cookie);
    cr_assert(strstr(res.set_cookie, "HttpOnly") && strstr(res.set_cookie, "Secure") &&
                  strstr(res.set_cookie, "SameSite=Strict"), "%s", res.set_cookie);
    resp s = get(&r, "/api/session", res.cookie);
    cr_assert_eq(s.status, 200);
    cr_assert(strstr(s.body, "\"user\":\"alice\"") && strstr(s.body, "\"role\":\"officer\""),
              "%s", s.body);
    resp page = get(&r, "/", res.cookie);
    cr_assert_eq(page.status, 200);
    cr_assert(strstr(page.body, "MANUAL queue"));
    resp_clear(&page);
    resp_clear(&s);
    resp_clear(&res);
    g_free(form);
    rig_fini(&r);
}

Test(web, wrong_password_unknown_and_disabled_accounts_are_refused)
{
    rig r;
    rig_init(&r);
    const char *forms[][2] = {{"alice", "not the password"}, {"mallory", OFFICER_PW},
                              {"carol", OFFICER_PW}};
    for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
        char *form = soup_form_encode("user", forms[i][0], "password", forms[i][1], NULL);
        resp res = post(&r, "/login", NULL, form);
        cr_assert_eq(res.status, 401, "%s: %u", forms[i][0], res.status);
        cr_assert_null(res.cookie);
        resp_clear(&res);
        g_free(form);
    }
    rig_fini(&r);
}

Test(web, failed_logins_are_rate_limited)
{
    rig r;
    rig_init_with(&r, &(pw_web_config){.listen = "127.0.0.1:0", .login_attempts = 3}, NULL);
    char *bad = soup_form_encode("user", "alice", "password", "wrong wrong wrong", NULL);
    for (int i = 0; i < 3; i++) {
        resp res = post(&r, "/login", NULL, bad);
        cr_assert_eq(res.status, 401);
        resp_clear(&res);
    }
    /* The right password no longer helps within the window. */
    char *good = soup_form_encode("user", "alice", "password", OFFICER_PW, NULL);
    resp res = post(&r, "/login", NULL, good);
    cr_assert_eq(res.status, 429, "%u %s", res.status, res.body);
    resp_clear(&res);
    resp m = get(&r, "/metrics", NULL);
    cr_assert(strstr(m.body, "platewatch_gate_login_failures_total 3"), "%s", m.body);
    resp_clear(&m);
    g_free(bad);
    g_free(good);
    rig_fini(&r);
}

Test(web, no_wrong_or_expired_session_is_refused)
{
    rig r;
    rig_init_with(&r, &(pw_web_config){.listen = "127.0.0.1:0", .session_timeout_s = 1}, NULL);
    resp res = get(&r, "/api/recent", NULL);
    cr_assert_eq(res.status, 401);
    resp_clear(&res);
    res = get(&r, "/", NULL);
    cr_assert_eq(res.status, 303);
    cr_assert_str_eq(res.location, "/login");
    resp_clear(&res);
    res = get(&r, "/api/recent", "pw_session=0123456789abcdef");
    cr_assert_eq(res.status, 401);
    resp_clear(&res);
    char *cookie = login(&r, "alice", OFFICER_PW);
    res = get(&r, "/api/recent", cookie);
    cr_assert_eq(res.status, 200);
    resp_clear(&res);
    g_usleep(1500 * 1000);   /* past the 1 s idle timeout */
    /* An idle session is dropped even before its cookie comes back. */
    res = get(&r, "/metrics", NULL);
    cr_assert(strstr(res.body, "platewatch_gate_console_sessions 0"), "%s", res.body);
    resp_clear(&res);
    res = get(&r, "/api/recent", cookie);
    cr_assert_eq(res.status, 401, "an expired session still works: %u", res.status);
    resp_clear(&res);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, logout_ends_the_session)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *csrf = csrf_of(&r, cookie);
    char *form = soup_form_encode("csrf", csrf, NULL);
    resp res = post(&r, "/logout", cookie, form);
    cr_assert_eq(res.status, 303);
    resp_clear(&res);
    res = get(&r, "/api/session", cookie);
    cr_assert_eq(res.status, 401);
    resp_clear(&res);
    g_free(form);
    g_free(csrf);
    g_free(cookie);
    rig_fini(&r);
}

/* ---- CSRF and bad requests ---- */

Test(web, actions_need_the_sessions_csrf_token)
{
    rig r;
    rig_init(&r);
    char *alice = login(&r, "alice", OFFICER_PW), *bob = login(&r, "bob", ADMIN_PW);
    char *bob_csrf = csrf_of(&r, bob);
    const char *tokens[] = {NULL, "", "0000", bob_csrf};
    for (size_t i = 0; i < G_N_ELEMENTS(tokens); i++) {
        char *form = tokens[i]
            ? soup_form_encode("event", r.manual_id, "action", "HOLD", "reason", "x", "csrf",
                               tokens[i], NULL)
            : soup_form_encode("event", r.manual_id, "action", "HOLD", "reason", "x", NULL);
        resp res = post(&r, "/api/resolve", alice, form);
        cr_assert_eq(res.status, 403, "token %zu: %u %s", i, res.status, res.body);
        resp_clear(&res);
        g_free(form);
    }
    resp res = get(&r, "/api/manual", alice);
    cr_assert(strstr(res.body, r.manual_id), "a refused action changed the queue");
    resp_clear(&res);
    g_free(bob_csrf);
    g_free(alice);
    g_free(bob);
    rig_fini(&r);
}

Test(web, bad_requests_get_clear_statuses)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *big = g_strnfill(64 * 1024, 'a');
    resp res = request_raw(&r, "POST", "/api/resolve", cookie,
                           "application/x-www-form-urlencoded", big, -1, false);
    cr_assert_eq(res.status, 413);
    resp_clear(&res);
    res = request_raw(&r, "POST", "/login", NULL, "application/x-www-form-urlencoded", big, -1,
                      false);
    cr_assert_eq(res.status, 413);
    resp_clear(&res);
    res = request_raw(&r, "POST", "/api/resolve", cookie, "application/x-www-form-urlencoded",
                      "a=b", -1, true);
    cr_assert_eq(res.status, 411);
    resp_clear(&res);
    /* A NUL in the body, and fields that decode to invalid UTF-8. */
    res = request_raw(&r, "POST", "/login", NULL, "application/x-www-form-urlencoded",
                      "user=alice\0&password=x", 22, false);
    cr_assert_eq(res.status, 400, "%u", res.status);
    resp_clear(&res);
    res = post(&r, "/login", NULL, "user=%ff%fe&password=x");
    cr_assert_eq(res.status, 400);
    resp_clear(&res);
    res = request_raw(&r, "POST", "/login", NULL, "application/json", "{}", -1, false);
    cr_assert_eq(res.status, 415);
    resp_clear(&res);
    res = post(&r, "/login", NULL, "password=x");
    cr_assert_eq(res.status, 400);
    resp_clear(&res);
    const char *missing[] = {"/nothing", "/api/recent/x", "/api", "/static/none.js"};
    for (size_t i = 0; i < G_N_ELEMENTS(missing); i++) {
        res = get(&r, missing[i], cookie);
        cr_assert_eq(res.status, 404, "%s: %u", missing[i], res.status);
        resp_clear(&res);
    }
    res = get(&r, "/api/resolve", cookie);
    cr_assert_eq(res.status, 405);
    resp_clear(&res);
    res = get(&r, "/api/recent?limit=many", cookie);
    cr_assert_eq(res.status, 400);
    resp_clear(&res);
    res = get(&r, "/api/search?from=yesterday", cookie);
    cr_assert_eq(res.status, 400);
    resp_clear(&res);
    res = get(&r, "/api/crop?event=..%2Fetc", cookie);
    cr_assert_eq(res.status, 400);
    resp_clear(&res);
    g_free(big);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, only_an_admin_lists_accounts)
{
    rig r;
    rig_init(&r);
    char *alice = login(&r, "alice", OFFICER_PW), *bob = login(&r, "bob", ADMIN_PW);
    resp res = get(&r, "/api/accounts", alice);
    cr_assert_eq(res.status, 403);
    resp_clear(&res);
    res = get(&r, "/api/accounts", bob);
    cr_assert_eq(res.status, 200);
    cr_assert(strstr(res.body, "\"alice\"") && strstr(res.body, "\"carol\""), "%s", res.body);
    cr_assert_null(strstr(res.body, "hash"), "hashes must not leave the store");
    resp_clear(&res);
    g_free(alice);
    g_free(bob);
    rig_fini(&r);
}

/* ---- the MANUAL queue and resolutions ---- */

/* Receives the rest of a multipart message; true when its last frame is in buf (NUL ended). */
static bool zmq_recv_more(void *sub, char *buf, size_t size)
{
    int more = 0;
    size_t len = sizeof more;
    bool got = false;
    zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &len);
    while (more) {
        int n = zmq_recv(sub, buf, size - 1, 0);
        if (n < 0)
            return false;
        buf[MIN((size_t)n, size - 1)] = '\0';
        got = true;
        zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &len);
    }
    return got;
}

static resp resolve(rig *r, const char *cookie, const char *csrf, const char *event,
                    const char *action, const char *reason, const char *plate)
{
    char *form = soup_form_encode("csrf", csrf, "event", event, "action", action, "reason",
                                  reason, "plate", plate ? plate : "", NULL);
    resp res = post(r, "/api/resolve", cookie, form);
    g_free(form);
    return res;
}

static int count_rows(const char *store, const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(store, &db), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

Test(web, an_officer_release_is_audited_once_and_leaves_the_queue)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *csrf = csrf_of(&r, cookie);
    resp q = get(&r, "/api/manual", cookie);
    cr_assert(strstr(q.body, r.manual_id) && strstr(q.body, "MRN-AB12"), "%s", q.body);
    cr_assert_null(strstr(q.body, r.hold_id), "a HOLD is not in the MANUAL queue");
    resp_clear(&q);
    resp res = resolve(&r, cookie, csrf, r.manual_id, "RELEASE", "papers checked", NULL);
    cr_assert_eq(res.status, 200, "%u %s", res.status, res.body);
    cr_assert(strstr(res.body, "\"duplicate\":false") &&
                  strstr(res.body, "\"decision\":\"RELEASE\"") &&
                  strstr(res.body, "\"id\":\"alice\"") && strstr(res.body, "MRN-AB12"),
              "%s", res.body);
    resp_clear(&res);
    /* The same action again (a double click) returns the stored one. */
    res = resolve(&r, cookie, csrf, r.manual_id, "RELEASE", "papers checked", NULL);
    cr_assert_eq(res.status, 200);
    cr_assert(strstr(res.body, "\"duplicate\":true"), "%s", res.body);
    resp_clear(&res);
    /* A different resolution of a resolved vehicle is a conflict. */
    res = resolve(&r, cookie, csrf, r.manual_id, "HOLD", "changed my mind", NULL);
    cr_assert_eq(res.status, 409, "%u %s", res.status, res.body);
    resp_clear(&res);
    q = get(&r, "/api/manual", cookie);
    cr_assert_null(strstr(q.body, r.manual_id), "%s", q.body);
    resp_clear(&q);
    char *sql = g_strdup_printf("SELECT count(*) FROM reviews WHERE event_id = '%s' AND"
                                " officer = 'alice' AND action = 'RELEASE' AND"
                                " reference = 'MRN-AB12' AND decided_at > 0", r.manual_id);
    cr_assert_eq(count_rows(r.store, sql), 1);
    g_free(sql);
    cr_assert_eq(count_rows(r.store, "SELECT count(*) FROM declarations WHERE"
                                     " reference = 'MRN-AB12' AND used_by IS NOT NULL"
                                     " AND used_by != ''"), 1);
    g_free(csrf);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, a_corrected_plate_is_matched_again)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *csrf = csrf_of(&r, cookie);
    /* The HOLD was read QQ99QQQ; the officer sees XY34ZZZ, which is declared. */
    resp res = resolve(&r, cookie, csrf, r.hold_id, "RELEASE", "misread", "xy34 zzz");
    cr_assert_eq(res.status, 200, "%u %s", res.status, res.body);
    cr_assert(strstr(res.body, "\"corrected_plate\":\"XY34ZZZ\"") &&
                  strstr(res.body, "\"read_plate\":\"QQ99QQQ\"") &&
                  strstr(res.body, "MRN-XY34"), "%s", res.body);
    resp_clear(&res);
    /* Search finds the passage under the corrected plate too. */
    res = get(&r, "/api/search?plate=XY34ZZ2", cookie);
    cr_assert(strstr(res.body, r.hold_id), "%s", res.body);
    resp_clear(&res);
    g_free(csrf);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, resolutions_that_cannot_apply_are_refused)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *csrf = csrf_of(&r, cookie);
    char *unknown = g_uuid_string_random();
    struct {
        const char *event, *action, *reason, *plate;
        unsigned status;
    } cases[] = {
        {r.manual_id, "HOLD", "", NULL, 422},              /* no reason */
        {r.manual_id, "OPEN", "x", NULL, 422},             /* no such action */
        {r.manual_id, "HOLD", "x", "!!", 422},             /* not a plate */
        {r.hold_id, "RELEASE", "x", NULL, 422},            /* nothing matches QQ99QQQ */
        {unknown, "HOLD", "x", NULL, 404},
        {"not-an-id", "HOLD", "x", NULL, 422},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        resp res = resolve(&r, cookie, csrf, cases[i].event, cases[i].action, cases[i].reason,
                           cases[i].plate);
        cr_assert_eq(res.status, cases[i].status, "case %zu: %u %s", i, res.status, res.body);
        cr_assert(strstr(res.body, "\"error\""));
        resp_clear(&res);
    }
    cr_assert_eq(count_rows(r.store, "SELECT count(*) FROM reviews"), 0);
    g_free(unknown);
    g_free(csrf);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, an_officer_decision_is_published_like_the_gates)
{
    rig r;
    void *zctx = zmq_ctx_new();
    rig_init_with(&r, &(pw_web_config){.listen = "127.0.0.1:0"}, "tcp://127.0.0.1:*");
    void *sub = zmq_socket(zctx, ZMQ_SUB);
    int linger = 0, timeout = 200;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "gate.", 5);
    cr_assert_eq(zmq_connect(sub, pw_gate_endpoint(r.gate)), 0);
    /* A heartbeat received means the SUB has joined (ZeroMQ drops before that). */
    bool joined = false;
    for (int i = 0; i < 100 && !joined; i++) {
        pw_gate_run(r.gate, 50, NULL);
        char topic[64];
        int n = zmq_recv(sub, topic, sizeof topic - 1, ZMQ_DONTWAIT);
        joined = n > 0;
        if (joined)
            zmq_recv_more(sub, topic, sizeof topic);
    }
    cr_assert(joined, "no heartbeat from the gate");
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *csrf = csrf_of(&r, cookie);
    resp res = resolve(&r, cookie, csrf, r.manual_id, "HOLD", "seal broken", NULL);
    cr_assert_eq(res.status, 200, "%s", res.body);
    resp_clear(&res);
    /* The deciding thread publishes it and the SUB, joined, receives it. */
    bool got = false;
    char buf[16384];
    for (int i = 0; i < 100 && !got; i++) {
        pw_gate_run(r.gate, 50, NULL);
        int n = zmq_recv(sub, buf, sizeof buf - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        if (!zmq_recv_more(sub, buf, sizeof buf))
            continue;
        got = strstr(buf, "\"officer_hold\"") && strstr(buf, "seal broken");
    }
    cr_assert(got, "the officer's decision was not published");
    /* The review was published once, so the slow joiner may have missed it: the
     * published flag is what proves the deciding thread sent it. */
    cr_assert_eq(count_rows(r.store, "SELECT count(*) FROM reviews WHERE published = 1"), 1);
    pw_gate_metrics m;
    pw_gate_get_metrics(r.gate, &m);
    cr_assert_eq(m.officer[PW_GATE_HOLD], 1);
    zmq_close(sub);
    zmq_ctx_term(zctx);
    g_free(csrf);
    g_free(cookie);
    rig_fini(&r);
}

/* ---- crops, search, live stream, metrics ---- */

Test(web, crops_are_served_as_stored)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *path = g_strdup_printf("/api/crop?event=%s", r.manual_id);
    resp res = get(&r, path, cookie);
    cr_assert_eq(res.status, 200);
    cr_assert_str_eq(res.type, "image/jpeg");
    cr_assert_eq(strlen(res.body), sizeof fake_jpeg - 1);
    cr_assert_eq(memcmp(res.body, fake_jpeg, sizeof fake_jpeg - 1), 0);
    resp_clear(&res);
    g_free(path);
    path = g_strdup_printf("/api/crop?event=%s", r.hold_id);
    res = get(&r, path, cookie);
    cr_assert_eq(res.status, 404);
    resp_clear(&res);
    res = get(&r, path, NULL);
    cr_assert_eq(res.status, 401);
    resp_clear(&res);
    g_free(path);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, search_folds_confusions_and_bounds_time)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    /* A812CDE is AB12CDE with a B/8 confusion. */
    resp res = get(&r, "/api/search?plate=A812CDE", cookie);
    cr_assert_eq(res.status, 200);
    cr_assert(strstr(res.body, r.manual_id), "%s", res.body);
    cr_assert_null(strstr(res.body, r.hold_id));
    resp_clear(&res);
    res = get(&r, "/api/search?plate=AB12CDE&until=2000-01-01T00:00:00Z", cookie);
    cr_assert_null(strstr(res.body, r.manual_id), "%s", res.body);
    resp_clear(&res);
    res = get(&r, "/api/search", cookie);
    cr_assert(strstr(res.body, r.manual_id) && strstr(res.body, r.hold_id));
    resp_clear(&res);
    res = get(&r, "/api/declarations?plate=A812CDE", cookie);
    cr_assert(strstr(res.body, "MRN-AB12") && !strstr(res.body, "MRN-XY34"), "%s", res.body);
    resp_clear(&res);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, the_live_stream_carries_decisions)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *uri = g_strconcat(r.base, "/api/events", NULL);
    SoupMessage *m = soup_message_new("GET", uri);
    soup_message_headers_replace(soup_message_get_request_headers(m), "Cookie", cookie);
    GInputStream *in = soup_session_send(r.http, m, NULL, NULL);
    cr_assert_not_null(in);
    cr_assert_eq(soup_message_get_status(m), 200);
    cr_assert_str_eq(soup_message_headers_get_content_type(soup_message_get_response_headers(m),
                                                           NULL), "text/event-stream");
    pw_web_notify(r.web, "{\"decision\":\"HOLD\",\"marker\":\"x42\"}");
    GString *got = g_string_new(NULL);
    char buf[512];
    while (!strstr(got->str, "x42")) {
        gssize n = g_input_stream_read(in, buf, sizeof buf, NULL, NULL);
        cr_assert_gt(n, 0, "the stream ended before the decision");
        g_string_append_len(got, buf, n);
    }
    cr_assert(strstr(got->str, "event: decision\ndata: {\"decision\":\"HOLD\""), "%s",
              got->str);
    g_string_free(got, TRUE);
    g_object_unref(in);
    g_object_unref(m);
    g_free(uri);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, metrics_and_health)
{
    rig r;
    rig_init_with(&r, &(pw_web_config){.listen = "127.0.0.1:0",
                                       .metrics_listen = "127.0.0.1:0"}, NULL);
    resp res = get(&r, "/metrics", NULL);
    cr_assert_eq(res.status, 200);
    const char *want[] = {"platewatch_gate_decisions_total{decision=\"MANUAL\"} 1",
                          "platewatch_gate_decisions_total{decision=\"HOLD\"} 1",
                          "platewatch_gate_decision_latency_seconds_count 2",
                          "platewatch_gate_decision_latency_seconds_bucket{le=\"+Inf\"} 2",
                          "platewatch_gate_declarations 2",
                          "platewatch_gate_manual_queue 1",
                          "# TYPE platewatch_gate_decision_latency_seconds histogram"};
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        cr_assert(strstr(res.body, want[i]), "no \"%s\" in\n%s", want[i], res.body);
    cr_assert(strstr(res.type, "text/plain"));
    resp_clear(&res);
    /* The plain metrics listener serves the same, and nothing of the console. */
    g_snprintf(r.base, sizeof r.base, "http://127.0.0.1:%d", pw_web_metrics_port(r.web));
    res = get(&r, "/healthz", NULL);
    cr_assert_eq(res.status, 200);
    cr_assert_str_eq(res.body, "ok\n");
    resp_clear(&res);
    res = get(&r, "/metrics", NULL);
    cr_assert(strstr(res.body, "platewatch_gate_store_size_bytes "));
    resp_clear(&res);
    res = get(&r, "/login", NULL);
    cr_assert_eq(res.status, 404);
    resp_clear(&res);
    rig_fini(&r);
}

/* ---- configuration and TLS ---- */

Test(web, plain_http_is_refused_off_loopback)
{
    pw_err err = {0};
    cr_assert_eq(pw_web_config_check(&(pw_web_config){.listen = "0.0.0.0:8443"}, &err),
                 PW_ECONFIG);
    cr_assert(strstr(err.msg, "loopback"), "%s", err.msg);
    cr_assert_eq(pw_web_config_check(&(pw_web_config){.listen = "127.0.0.1:8443"}, &err), 0);
    cr_assert_eq(pw_web_config_check(&(pw_web_config){.listen = "[::1]:8443"}, &err), 0);
    cr_assert_eq(pw_web_config_check(&(pw_web_config){.listen = "localhost"}, &err),
                 PW_ECONFIG);
    cr_assert_eq(pw_web_config_check(&(pw_web_config){.listen = "example.org:443",
                                                      .certificate = "c", .key = "k"}, &err),
                 PW_ECONFIG);
    cr_assert(strstr(err.msg, "not an IP address"), "%s", err.msg);
    cr_assert_eq(pw_web_config_check(&(pw_web_config){.listen = "0.0.0.0:8443",
                                                      .certificate = "c"}, &err), PW_ECONFIG);
}

static gboolean accept_any(SoupMessage *m, GTlsCertificate *c, GTlsCertificateFlags f,
                           gpointer user)
{
    (void)m;
    (void)c;
    (void)f;
    (void)user;
    return TRUE;
}

Test(web, tls_with_the_configured_certificate)
{
    char *dir = gt_tmpdir();
    char *cert = g_build_filename(dir, "console.crt", NULL);
    char *key = g_build_filename(dir, "console.key", NULL);
    char *cmd = g_strdup_printf("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
                                "/CN=127.0.0.1 -keyout '%s' -out '%s' 2>/dev/null", key, cert);
    int status = system(cmd);
    g_free(cmd);
    if (status != 0) {
        gt_rmdir(dir);
        cr_skip_test("openssl cannot make a test certificate here");
    }
    rig r;
    rig_init_with(&r, &(pw_web_config){.listen = "0.0.0.0:0", .certificate = cert,
                                       .key = key}, NULL);
    char *uri = g_strconcat(r.base, "/login", NULL);
    SoupMessage *m = soup_message_new("GET", uri);
    g_free(uri);
    g_signal_connect(m, "accept-certificate", G_CALLBACK(accept_any), NULL);
    GBytes *out = soup_session_send_and_read(r.http, m, NULL, NULL);
    cr_assert_not_null(out);
    cr_assert_eq(soup_message_get_status(m), 200);
    cr_assert_not_null(soup_message_get_tls_peer_certificate(m));
    g_bytes_unref(out);
    g_object_unref(m);
    /* Plain HTTP on the TLS port gets no page. */
    char plain[64];
    g_snprintf(plain, sizeof plain, "http://127.0.0.1:%d/login", pw_web_port(r.web));
    m = soup_message_new("GET", plain);
    GError *gerr = NULL;
    out = soup_session_send_and_read(r.http, m, NULL, &gerr);
    cr_assert(!out || soup_message_get_status(m) != 200, "plain HTTP got a page over TLS");
    if (out)
        g_bytes_unref(out);
    g_clear_error(&gerr);
    g_object_unref(m);
    rig_fini(&r);
    g_free(cert);
    g_free(key);
    gt_rmdir(dir);
}

Test(web, a_bad_certificate_is_named)
{
    char *dir = gt_tmpdir();
    char *cert = g_build_filename(dir, "none.crt", NULL);
    pw_gate_config gc;
    pw_gate_config_defaults(&gc);
    gc.store_path = g_build_filename(dir, "g.db", NULL);
    pw_web *w = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_web_new(&(pw_web_config){.listen = "127.0.0.1:0", .certificate = cert,
                                              .key = cert}, &gc, NULL, &w, &err), PW_ECONFIG);
    cr_assert_null(w);
    cr_assert(strstr(err.msg, "none.crt"), "%s", err.msg);
    g_free((char *)gc.store_path);
    g_free(cert);
    gt_rmdir(dir);
}

/* ---- corrections for training ---- */

typedef struct {
    int n;
    char plate[32];
    bool corrected;
    size_t len;
} exported;

static int collect(const char *event_id, const char *plate, bool corrected, const void *jpeg,
                   size_t len, void *user)
{
    (void)event_id;
    exported *x = user;
    x->n++;
    g_strlcpy(x->plate, plate, sizeof x->plate);
    x->corrected = corrected;
    x->len = len;
    cr_assert_eq(memcmp(jpeg, fake_jpeg, len), 0);
    return 0;
}

Test(web, checked_reads_with_crops_are_exported)
{
    rig r;
    rig_init(&r);
    char *cookie = login(&r, "alice", OFFICER_PW);
    char *csrf = csrf_of(&r, cookie);
    pw_declstore *st = NULL;
    cr_assert_eq(pw_declstore_new(r.store, &st, NULL), 0);
    exported x = {0};
    cr_assert_eq(pw_review_corrections(pw_declstore_db(st), collect, &x, NULL), 0);
    cr_assert_eq(x.n, 0, "nothing is exported before an officer has looked");
    resp res = resolve(&r, cookie, csrf, r.manual_id, "HOLD", "plate differs", "AB12CDF");
    cr_assert_eq(res.status, 200, "%s", res.body);
    resp_clear(&res);
    /* Confirmed but without a crop: nothing to learn from. */
    res = resolve(&r, cookie, csrf, r.hold_id, "HOLD", "not declared", NULL);
    cr_assert_eq(res.status, 200, "%s", res.body);
    resp_clear(&res);
    cr_assert_eq(pw_review_corrections(pw_declstore_db(st), collect, &x, NULL), 0);
    cr_assert_eq(x.n, 1);
    cr_assert_str_eq(x.plate, "AB12CDF");
    cr_assert(x.corrected);
    cr_assert_eq(x.len, sizeof fake_jpeg - 1);
    pw_declstore_destroy(&st);
    g_free(csrf);
    g_free(cookie);
    rig_fini(&r);
}

Test(web, console_keys_load_from_the_configuration)
{
    char *dir = gt_tmpdir();
    char *path = g_build_filename(dir, "gate.conf", NULL);
    cr_assert(g_file_set_contents(path, "[gate]\nstore=/tmp/x.db\n[console]\nlisten=127.0.0.1:8443\n"
                                        "session_timeout_s=600\nlogin_attempts=3\n"
                                        "[metrics]\nlisten=127.0.0.1:9751\n", -1, NULL));
    pw_gate_settings *s = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), 0, "%s", err.msg);
    const pw_web_config *w = &pw_gate_settings_config(s)->console;
    cr_assert_str_eq(w->listen, "127.0.0.1:8443");
    cr_assert_str_eq(w->metrics_listen, "127.0.0.1:9751");
    cr_assert_eq(w->session_timeout_s, 600);
    cr_assert_eq(w->login_attempts, 3);
    cr_assert_eq(w->login_window_s, 300);
    cr_assert_null(w->certificate);
    pw_gate_settings_destroy(&s);
    cr_assert(g_file_set_contents(path, "[gate]\nstore=/tmp/x.db\n[console]\nsession_timeout_s=5\n",
                                  -1, NULL));
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), PW_ECONFIG);
    cr_assert(strstr(err.msg, "gate.conf:4: [console] session_timeout_s"), "%s", err.msg);
    /* The console's groups are the table's: a misspelt key is refused with the closest one. */
    cr_assert(g_file_set_contents(path, "[gate]\nstore=/tmp/x.db\n[console]\nlogin_atempts=3\n", -1, NULL));
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), PW_ECONFIG);
    cr_assert(strstr(err.msg, "gate.conf:4: [console] login_atempts") &&
              strstr(err.msg, "did you mean login_attempts?"), "%s", err.msg);
    g_free(path);
    gt_rmdir(dir);
}
