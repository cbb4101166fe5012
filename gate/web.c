/*
 * web.c - the console's HTTP server (libsoup 3) in a thread of its own:
 * TLS with the configured certificate, plain HTTP only on a loopback
 * address, logins against the accounts table with failures rate-limited
 * and logged, session cookies (HttpOnly, Secure, SameSite=Strict), a CSRF
 * token per session checked on every POST, a body limit enforced before
 * the body is read, and the pages served from the built-in GResource or a
 * folder (docs/console.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "web_internal.h"
#include "console-resources.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#define SESSION_COOKIE "pw_session"
/* RFC 6585; libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

/* ---- replies ---- */

void pw_web_reply(SoupServerMessage *msg, unsigned status, const char *type,
                  const char *body, size_t len)
{
    soup_server_message_set_status(msg, status, NULL);
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    /* The console shows officers' data: nothing is cached, framed or sniffed. */
    soup_message_headers_replace(h, "Cache-Control", "no-store");
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace(h, "X-Frame-Options", "DENY");
    soup_message_headers_replace(h, "Content-Security-Policy",
                                 "default-src 'self'; img-src 'self' data:; "
                                 "frame-ancestors 'none'; form-action 'self'");
    soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body, len);
}

void pw_web_reply_error(SoupServerMessage *msg, unsigned status, const char *what)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, what);
    json_builder_end_object(b);
    char *json = pw_json_builder_to_string(b, FALSE);
    g_object_unref(b);
    pw_web_reply(msg, status, "application/json", json, strlen(json));
    g_free(json);
}

void pw_web_reply_json(SoupServerMessage *msg, char *json)
{
    pw_web_reply(msg, SOUP_STATUS_OK, "application/json", json, strlen(json));
    g_free(json);
}

static void redirect(SoupServerMessage *msg, const char *to)
{
    pw_web_reply(msg, SOUP_STATUS_SEE_OTHER, "text/plain", "", 0);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Location", to);
}

/* ---- sessions ---- */

static void session_free(gpointer p)
{
    pw_web_session *s = p;
    g_free(s->user);
    sodium_memzero(s->csrf, sizeof s->csrf);
    g_free(s);
}

static char *random_hex(void)
{
    unsigned char raw[32];
    char hex[65];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    return g_strdup(hex);
}

/* The session named by the request's cookie, when it has not been idle too long. */
static pw_web_session *find_session(pw_web *w, SoupServerMessage *msg)
{
    const char *header = soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), "Cookie");
    GHashTable *cookies = header ? soup_header_parse_semi_param_list(header) : NULL;
    const char *token = cookies ? g_hash_table_lookup(cookies, SESSION_COOKIE) : NULL;
    pw_web_session *s = token ? g_hash_table_lookup(w->sessions, token) : NULL;
    int64_t now = g_get_monotonic_time();
    if (s && now - s->last_us > (int64_t)w->cfg.session_timeout_s * G_USEC_PER_SEC) {
        g_message("console: session of \"%s\" expired", s->user);
        g_hash_table_remove(w->sessions, token);
        s = NULL;
    }
    if (s)
        s->last_us = now;
    if (cookies)
        soup_header_free_param_list(cookies);
    return s;
}

pw_web_session *pw_web_require_session(pw_web *w, SoupServerMessage *msg)
{
    pw_web_session *s = find_session(w, msg);
    if (!s)
        pw_web_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "no session: log in");
    return s;
}

static bool valid_form(GHashTable *form)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, form);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!g_utf8_validate(k, -1, NULL) || !g_utf8_validate(v, -1, NULL))
            return false;
    return true;
}

/* The url-encoded form of a POST; NULL after replying when it is not one. */
static GHashTable *read_form(SoupServerMessage *msg)
{
    if (strcmp(soup_server_message_get_method(msg), "POST") != 0) {
        pw_web_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "POST only");
        return NULL;
    }
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    const char *type = soup_message_headers_get_content_type(h, NULL);
    if (!type || strcmp(type, "application/x-www-form-urlencoded") != 0) {
        pw_web_reply_error(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                           "the body must be application/x-www-form-urlencoded");
        return NULL;
    }
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    GBytes *bytes = soup_message_body_flatten(body);
    gsize n = 0;
    const char *data = g_bytes_get_data(bytes, &n);
    char *text = g_strndup(data ? data : "", n);
    /* A NUL inside the body would hide the rest of it from the decoder. */
    GHashTable *form = strlen(text) == n ? soup_form_decode(text) : NULL;
    g_free(text);
    g_bytes_unref(bytes);
    if (form && !valid_form(form))
        g_clear_pointer(&form, g_hash_table_unref);
    if (!form)
        pw_web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "malformed form");
    return form;
}

GHashTable *pw_web_require_form(pw_web *w, SoupServerMessage *msg, pw_web_session **sp)
{
    pw_web_session *s = pw_web_require_session(w, msg);
    if (!s)
        return NULL;
    GHashTable *form = read_form(msg);
    if (!form)
        return NULL;
    const char *token = g_hash_table_lookup(form, "csrf");
    if (!token || strlen(token) != strlen(s->csrf) ||
        sodium_memcmp(token, s->csrf, strlen(s->csrf)) != 0) {
        g_warning("console: request to %s by \"%s\" without its CSRF token, refused",
                  g_uri_get_path(soup_server_message_get_uri(msg)), s->user);
        pw_web_reply_error(msg, SOUP_STATUS_FORBIDDEN, "missing or wrong CSRF token");
        g_hash_table_unref(form);
        return NULL;
    }
    *sp = s;
    return form;
}

/* ---- login rate limit ---- */

typedef struct {
    int count;
    int64_t since_us;         /* monotonic start of the window */
} pw_web_failures;

static pw_web_failures *failures_of(pw_web *w, const char *key, bool create)
{
    pw_web_failures *f = g_hash_table_lookup(w->failures, key);
    int64_t now = g_get_monotonic_time();
    if (f && now - f->since_us > (int64_t)w->cfg.login_window_s * G_USEC_PER_SEC) {
        g_hash_table_remove(w->failures, key);
        f = NULL;
    }
    if (!f && create) {
        f = g_new0(pw_web_failures, 1);
        f->since_us = now;
        g_hash_table_insert(w->failures, g_strdup(key), f);
    }
    return f;
}

static bool limited(pw_web *w, const char *addr_key, const char *user_key)
{
    pw_web_failures *a = failures_of(w, addr_key, false), *u = failures_of(w, user_key, false);
    return (a && a->count >= w->cfg.login_attempts) || (u && u->count >= w->cfg.login_attempts);
}

/* Forgets windows that have passed, so that many names tried once cannot fill memory. */
static void prune_failures(pw_web *w)
{
    int64_t now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->failures);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (now - ((pw_web_failures *)v)->since_us >
            (int64_t)w->cfg.login_window_s * G_USEC_PER_SEC)
            g_hash_table_iter_remove(&it);
}

static void count_failure(pw_web *w, const char *addr_key, const char *user_key)
{
    prune_failures(w);
    failures_of(w, addr_key, true)->count++;
    failures_of(w, user_key, true)->count++;
}

/* ---- login and logout ---- */

/* The session cookie: for this host only, never to scripts, never cross-site. */
static void set_cookie(SoupServerMessage *msg, const char *value, bool clear)
{
    char *header = g_strdup_printf(SESSION_COOKIE "=%s; Path=/; HttpOnly; Secure; "
                                   "SameSite=Strict%s", value, clear ? "; Max-Age=0" : "");
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie",
                                header);
    g_free(header);
}

/* Ends the sessions idle for too long (a session is otherwise ended when next used). */
void pw_web_prune_sessions(pw_web *w)
{
    int64_t now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->sessions);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (now - ((pw_web_session *)v)->last_us >
            (int64_t)w->cfg.session_timeout_s * G_USEC_PER_SEC)
            g_hash_table_iter_remove(&it);
}

static void login_post(pw_web *w, SoupServerMessage *msg)
{
    GHashTable *form = read_form(msg);
    if (!form)
        return;
    const char *user = g_hash_table_lookup(form, "user");
    const char *password = g_hash_table_lookup(form, "password");
    const char *addr = soup_server_message_get_remote_host(msg);
    char *addr_key = g_strdup_printf("addr:%s", addr ? addr : "?");
    char *user_key = g_strdup_printf("user:%s", user ? user : "");
    pw_role role = 0;
    pw_err err = {0};
    if (!user || !password || strlen(user) > PW_ACCOUNT_NAME_MAX) {
        pw_web_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "the form needs user and password");
    } else if (limited(w, addr_key, user_key)) {
        g_warning("console: login for \"%s\" from %s refused: too many failures", user, addr);
        pw_web_reply_error(msg, STATUS_TOO_MANY_REQUESTS,
                           "too many failed logins: wait and try again");
    } else if (pw_accounts_verify(pw_declstore_db(w->store), user, password, &role, &err)) {
        count_failure(w, addr_key, user_key);
        w->login_failures++;
        g_warning("console: failed login for \"%s\" from %s", user, addr);
        pw_web_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "wrong name or password");
    } else {
        pw_web_prune_sessions(w);
        pw_web_session *s = g_new0(pw_web_session, 1);
        s->user = g_strdup(user);
        s->role = role;
        s->last_us = g_get_monotonic_time();
        char *csrf = random_hex();
        g_strlcpy(s->csrf, csrf, sizeof s->csrf);
        g_free(csrf);
        char *token = random_hex();
        g_hash_table_insert(w->sessions, g_strdup(token), s);
        g_message("console: \"%s\" (%s) logged in from %s", user, pw_role_name(role), addr);
        redirect(msg, "/");
        set_cookie(msg, token, false);
        g_free(token);
        g_hash_table_remove(w->failures, user_key);
    }
    g_free(addr_key);
    g_free(user_key);
    g_hash_table_unref(form);
}

static void logout_post(pw_web *w, SoupServerMessage *msg)
{
    pw_web_session *s = NULL;
    GHashTable *form = pw_web_require_form(w, msg, &s);
    if (!form)
        return;
    g_message("console: \"%s\" logged out", s->user);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->sessions);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (v == s)
            g_hash_table_iter_remove(&it);
    redirect(msg, "/login");
    set_cookie(msg, "", true);
    g_hash_table_unref(form);
}

/* ---- pages ---- */

typedef struct {
    const char *path, *file, *type;
    bool needs_session;
} page;

static const page pages[] = {
    {"/", "console.html", "text/html; charset=utf-8", true},
    {"/login", "login.html", "text/html; charset=utf-8", false},
    {"/static/console.js", "console.js", "text/javascript; charset=utf-8", false},
    {"/static/console.css", "console.css", "text/css; charset=utf-8", false},
};

static GBytes *load_asset(pw_web *w, const char *file)
{
    if (w->assets_dir) {
        char *path = g_build_filename(w->assets_dir, file, NULL);
        char *data = NULL;
        gsize n = 0;
        GBytes *b = g_file_get_contents(path, &data, &n, NULL) ? g_bytes_new_take(data, n)
                                                                : NULL;
        g_free(path);
        return b;
    }
    char *res = g_strconcat("/org/platewatch/console/", file, NULL);
    GBytes *b = g_resource_lookup_data(pw_console_get_resource(), res,
                                       G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    g_free(res);
    return b;
}

static void serve_page(pw_web *w, SoupServerMessage *msg, const page *p)
{
    if (p->needs_session && !find_session(w, msg)) {
        redirect(msg, "/login");
        return;
    }
    GBytes *b = load_asset(w, p->file);
    if (!b) {
        pw_web_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "page missing");
        return;
    }
    gsize n = 0;
    const char *data = g_bytes_get_data(b, &n);
    pw_web_reply(msg, SOUP_STATUS_OK, p->type, data, n);
    g_bytes_unref(b);
}

/* Every path not registered elsewhere lands here: pages, login, logout, or 404. */
static void default_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                            GHashTable *query, gpointer user)
{
    (void)server;
    (void)query;
    pw_web *w = user;
    const char *method = soup_server_message_get_method(msg);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strcmp(path, "/login") == 0 && !get) {
        login_post(w, msg);
        return;
    }
    if (strcmp(path, "/logout") == 0) {
        logout_post(w, msg);
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(pages); i++) {
        if (strcmp(path, pages[i].path) != 0)
            continue;
        if (get)
            serve_page(w, msg, &pages[i]);
        else
            pw_web_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "GET only");
        return;
    }
    pw_web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such page");
}

/*
 * Runs once the headers are in, before the body is read: a body larger
 * than the limit, or one without a stated length, is refused unread.
 */
static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user)
{
    (void)server;
    (void)path;
    (void)query;
    (void)user;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    SoupEncoding enc = soup_message_headers_get_encoding(h);
    if (enc == SOUP_ENCODING_CHUNKED || enc == SOUP_ENCODING_EOF)
        pw_web_reply_error(msg, SOUP_STATUS_LENGTH_REQUIRED, "a body needs a Content-Length");
    else if (enc == SOUP_ENCODING_CONTENT_LENGTH &&
             soup_message_headers_get_content_length(h) > PW_WEB_BODY_MAX)
        pw_web_reply_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                           "the body is larger than the limit");
}

/* ---- configuration ---- */

int pw_web_config_check(const pw_web_config *wc, pw_err *err)
{
    GSocketAddress *addr = NULL;
    int loopback = 0, rc = 0;
    if (wc->listen && (rc = pw_listen_parse(wc->listen, &addr, &loopback, err)))
        return pw_err_set(err, rc, "[console] %s", err ? err->msg : "listen");
    g_clear_object(&addr);
    if (wc->listen && !wc->certificate && !loopback)
        return pw_err_set(err, PW_ECONFIG, "[console] listen %s is not a loopback address: "
                          "plain HTTP is refused there, give certificate and key", wc->listen);
    if (!wc->certificate != !wc->key)
        return pw_err_set(err, PW_ECONFIG, "[console] certificate and key go together");
    if (wc->metrics_listen && (rc = pw_listen_parse(wc->metrics_listen, &addr, NULL, err)))
        return pw_err_set(err, rc, "[metrics] %s", err ? err->msg : "listen");
    g_clear_object(&addr);
    if (wc->session_timeout_s < 0 || wc->login_attempts < 0 || wc->login_window_s < 0)
        return pw_err_set(err, PW_ECONFIG, "[console] session_timeout_s, login_attempts and "
                          "login_window_s must be >= 0");
    return 0;
}

/* ---- server thread ---- */

/* Binds server to a listen setting; *bound is the port it got (for port 0). */
int pw_web_listen(SoupServer *server, const char *listen, bool tls, int *bound, pw_err *err)
{
    GSocketAddress *sa = NULL;
    int rc = pw_listen_parse(listen, &sa, NULL, err);
    if (rc)
        return rc;
    GError *gerr = NULL;
    gboolean ok = soup_server_listen(server, sa, tls ? SOUP_SERVER_LISTEN_HTTPS : 0, &gerr);
    g_object_unref(sa);
    if (!ok) {
        rc = pw_err_set(err, -EADDRINUSE, "cannot listen on %s: %s", listen, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    GSList *uris = soup_server_get_uris(server);
    *bound = uris ? g_uri_get_port(uris->data) : 0;
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    return 0;
}

static int make_console(pw_web *w, pw_err *err)
{
    GTlsCertificate *cert = NULL;
    if (w->certificate) {
        GError *gerr = NULL;
        cert = g_tls_certificate_new_from_files(w->certificate, w->key, &gerr);
        if (!cert) {
            int rc = pw_err_set(err, PW_ECONFIG, "[console] certificate %s, key %s: %s",
                                w->certificate, w->key, gerr->message);
            g_error_free(gerr);
            return rc;
        }
    }
    w->server = cert ? soup_server_new("tls-certificate", cert, "server-header",
                                       "platewatch-gate", NULL)
                     : soup_server_new("server-header", "platewatch-gate", NULL);
    g_clear_object(&cert);
    /* libsoup runs the early handler of the path's own handler only: one for each. */
    const char *const prefixes[] = {NULL, "/api", "/metrics", "/healthz"};
    for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++)
        soup_server_add_early_handler(w->server, prefixes[i], early_handler, w, NULL);
    soup_server_add_handler(w->server, NULL, default_handler, w, NULL);
    pw_web_api_register(w);
    pw_web_metrics_register(w, w->server);
    return pw_web_listen(w->server, w->listen, w->certificate != NULL, &w->port, err);
}

static int make_metrics(pw_web *w, pw_err *err)
{
    w->metrics_server = soup_server_new("server-header", "platewatch-gate", NULL);
    const char *const prefixes[] = {NULL, "/metrics", "/healthz"};
    for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++)
        soup_server_add_early_handler(w->metrics_server, prefixes[i], early_handler, w, NULL);
    pw_web_metrics_register(w, w->metrics_server);
    return pw_web_listen(w->metrics_server, w->metrics_listen, false, &w->metrics_port, err);
}

static int start(pw_web *w, pw_err *err)
{
    int rc = pw_declstore_new(w->store_path, &w->store, err);
    if (rc == 0)
        rc = pw_accounts_init(pw_declstore_db(w->store), err);
    if (rc == 0)
        rc = pw_audit_init(pw_declstore_db(w->store), err);
    if (rc == 0)
        rc = pw_review_init(pw_declstore_db(w->store), err);
    if (rc == 0 && w->listen)
        rc = make_console(w, err);
    if (rc == 0 && w->metrics_listen)
        rc = make_metrics(w, err);
    return rc;
}

static gpointer server_thread(gpointer data)
{
    pw_web *w = data;
    g_main_context_push_thread_default(w->ctx);
    pw_err err = {0};
    int rc = start(w, &err);
    g_mutex_lock(&w->lock);
    w->start_rc = rc;
    w->start_err = err;
    w->ready = true;
    g_cond_signal(&w->ready_cond);
    g_mutex_unlock(&w->lock);
    if (rc == 0)
        g_main_loop_run(w->loop);
    pw_web_api_close_streams(w);
    if (w->server)
        soup_server_disconnect(w->server);
    if (w->metrics_server)
        soup_server_disconnect(w->metrics_server);
    g_clear_object(&w->server);
    g_clear_object(&w->metrics_server);
    /* Lets the sockets' pending callbacks run so that nothing outlives the context. */
    while (g_main_context_iteration(w->ctx, FALSE))
        ;
    pw_declstore_destroy(&w->store);
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

static void copy_config(pw_web *w, const pw_web_config *wc, const pw_gate_config *gc)
{
    w->cfg = *wc;
    w->cfg.listen = w->listen = g_strdup(wc->listen);
    w->cfg.certificate = w->certificate = g_strdup(wc->certificate);
    w->cfg.key = w->key = g_strdup(wc->key);
    w->cfg.metrics_listen = w->metrics_listen = g_strdup(wc->metrics_listen);
    w->cfg.assets_dir = w->assets_dir = g_strdup(wc->assets_dir);
    /* A configuration built in code may leave these 0: they take the defaults then. */
    pw_web_config d;
    pw_web_config_defaults(&d);
    if (w->cfg.session_timeout_s == 0)
        w->cfg.session_timeout_s = d.session_timeout_s;
    if (w->cfg.login_attempts == 0)
        w->cfg.login_attempts = d.login_attempts;
    if (w->cfg.login_window_s == 0)
        w->cfg.login_window_s = d.login_window_s;
    w->gc = *gc;
    w->gc.store_path = w->store_path = g_strdup(gc->store_path);
}

int pw_web_new(const pw_web_config *wc, const pw_gate_config *gc, pw_gate *gate,
               pw_web **out, pw_err *err)
{
    *out = NULL;
    int rc = pw_web_config_check(wc, err);
    if (rc)
        return rc;
    if (sodium_init() < 0)
        return pw_err_set(err, -ENOSYS, "libsodium cannot start");
    pw_web *w = g_new0(pw_web, 1);
    copy_config(w, wc, gc);
    w->gate = gate;
    w->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, session_free);
    w->failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    w->streams = g_ptr_array_new();
    g_mutex_init(&w->lock);
    g_cond_init(&w->ready_cond);
    w->ctx = g_main_context_new();
    w->loop = g_main_loop_new(w->ctx, FALSE);
    w->thread = g_thread_new("pw-console", server_thread, w);
    g_mutex_lock(&w->lock);
    while (!w->ready)
        g_cond_wait(&w->ready_cond, &w->lock);
    g_mutex_unlock(&w->lock);
    if (w->start_rc) {
        rc = w->start_rc;
        if (err)
            *err = w->start_err;
        pw_web_destroy(&w);
        return rc;
    }
    *out = w;
    return 0;
}

static gboolean quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void pw_web_destroy(pw_web **wp)
{
    if (!wp || !*wp)
        return;
    pw_web *w = *wp;
    if (w->thread) {
        g_main_context_invoke(w->ctx, quit_loop, w->loop);
        g_thread_join(w->thread);
    }
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->ctx);
    g_hash_table_unref(w->sessions);
    g_hash_table_unref(w->failures);
    g_ptr_array_unref(w->streams);
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->ready_cond);
    g_free(w->listen);
    g_free(w->certificate);
    g_free(w->key);
    g_free(w->metrics_listen);
    g_free(w->assets_dir);
    g_free(w->store_path);
    g_free(w);
    *wp = NULL;
}

int pw_web_port(const pw_web *w)
{
    return w->port;
}

int pw_web_metrics_port(const pw_web *w)
{
    return w->metrics_port;
}

typedef struct {
    pw_web *w;
    char *json;
} notice;

static gboolean deliver_notice(gpointer data)
{
    notice *n = data;
    pw_web_api_broadcast(n->w, n->json);
    return G_SOURCE_REMOVE;
}

static void notice_free(gpointer data)
{
    notice *n = data;
    g_free(n->json);
    g_free(n);
}

void pw_web_notify(pw_web *w, const char *json)
{
    notice *n = g_new0(notice, 1);
    n->w = w;
    n->json = g_strdup(json);
    g_main_context_invoke_full(w->ctx, G_PRIORITY_DEFAULT, deliver_notice, n, notice_free);
}
