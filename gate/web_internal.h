/*
 * web_internal.h - what the console's server files share (web.c: server,
 * sessions, logins; web_api.c: the pages' data and actions; web_metrics.c:
 * /metrics and /healthz). Everything here runs in the server's thread.
 */
#ifndef PW_WEB_INTERNAL_H
#define PW_WEB_INTERNAL_H

#include "console.h"
#include "pw_json.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

/* Largest request body accepted (a login or a resolution form). */
#define PW_WEB_BODY_MAX (16 * 1024)
/* Rows a list or search returns at most. */
#define PW_WEB_ROWS_MAX 200

typedef struct {
    char *user;
    pw_role role;
    char csrf[65];            /* hex of 32 random bytes */
    int64_t last_us;          /* monotonic time of the last request */
} pw_web_session;

struct pw_web {
    pw_web_config cfg;        /* strings below are owned copies */
    char *listen, *certificate, *key, *metrics_listen, *assets_dir;
    pw_gate_config gc;        /* thresholds; store_path owned */
    char *store_path;
    pw_gate *gate;            /* may be NULL (tests): reviews are then not published */
    pw_declstore *store;      /* this thread's own connection */
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    SoupServer *server, *metrics_server;
    int port, metrics_port;
    GHashTable *sessions;     /* token -> pw_web_session */
    GHashTable *failures;     /* "addr:..." or "user:..." -> pw_web_failures */
    GPtrArray *streams;       /* SoupServerMessage of open event streams */
    uint64_t login_failures;  /* failed logins since start (for /metrics) */
    /* Start-up hand-over between pw_web_new() and the thread. */
    GMutex lock;
    GCond ready_cond;
    bool ready;
    int start_rc;
    pw_err start_err;
};

/* ---- web.c ---- */

/* Binds server to a listen setting; *bound is the port it got (for port 0). */
int pw_web_listen(SoupServer *server, const char *listen, bool tls, int *bound, pw_err *err);

/* Replies with a status and a plain or JSON body (copied). */
void pw_web_reply(SoupServerMessage *msg, unsigned status, const char *type,
                  const char *body, size_t len);
void pw_web_reply_error(SoupServerMessage *msg, unsigned status, const char *what);
/* Replies with the JSON text (g_malloc'd; taken). */
void pw_web_reply_json(SoupServerMessage *msg, char *json);
/* Ends the sessions idle longer than the timeout. */
void pw_web_prune_sessions(pw_web *w);
/* The session of the request, or NULL (after replying 401) when there is none. */
pw_web_session *pw_web_require_session(pw_web *w, SoupServerMessage *msg);
/*
 * The decoded form of a POST from a session whose CSRF token it carries;
 * NULL after replying 400, 401, 403 or 415. g_hash_table_unref the table.
 */
GHashTable *pw_web_require_form(pw_web *w, SoupServerMessage *msg, pw_web_session **s);

/* ---- web_api.c ---- */

void pw_web_api_register(pw_web *w);
/* Sends one decision to every open event stream. */
void pw_web_api_broadcast(pw_web *w, const char *json);
/* Closes the open event streams (at shutdown). */
void pw_web_api_close_streams(pw_web *w);

/* ---- web_metrics.c ---- */

void pw_web_metrics_register(pw_web *w, SoupServer *server);

#endif
