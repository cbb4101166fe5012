/*
 * web_metrics.c - platewatch-gate's /metrics (Prometheus text format) and
 * /healthz, on the console listener and on the optional plain metrics
 * listener. docs/metrics.md lists every name.
 */
#define _POSIX_C_SOURCE 200809L
#include "web_internal.h"

#include <string.h>
#include <sys/stat.h>

static double file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size : 0.0;
}

/* The SQLite file with its write-ahead log: what the store takes on disk. */
static double store_bytes(const pw_web *w)
{
    char *wal = g_strconcat(w->store_path, "-wal", NULL);
    double n = file_size(w->store_path) + file_size(wal);
    g_free(wal);
    return n;
}

static int64_t count(pw_web *w, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(pw_declstore_db(w->store), sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static void by_verdict(GString *out, const char *name, const uint64_t *counts, int first)
{
    for (int v = first; v <= PW_GATE_MANUAL; v++) {
        char label[48];
        g_snprintf(label, sizeof label, "decision=\"%s\"", pw_gate_verdict_name(v));
        pw_prom_sample(out, name, label, (double)counts[v]);
    }
}

static void gate_metrics(pw_web *w, GString *out)
{
    pw_gate_metrics m;
    pw_gate_get_metrics(w->gate, &m);
    pw_prom_family(out, "platewatch_gate_decisions_total", "counter",
                   "New decisions by the gate, by decision.");
    by_verdict(out, "platewatch_gate_decisions_total", m.decisions, PW_GATE_RELEASE);
    pw_prom_family(out, "platewatch_gate_officer_decisions_total", "counter",
                   "Officers' resolutions published, by decision.");
    uint64_t officer[4] = {0, m.officer[PW_GATE_RELEASE], m.officer[PW_GATE_HOLD], 0};
    for (int v = PW_GATE_RELEASE; v <= PW_GATE_HOLD; v++) {
        char label[48];
        g_snprintf(label, sizeof label, "decision=\"%s\"", pw_gate_verdict_name(v));
        pw_prom_sample(out, "platewatch_gate_officer_decisions_total", label,
                       (double)officer[v]);
    }
    pw_prom_family(out, "platewatch_gate_duplicate_events_total", "counter",
                   "Events already decided, answered from the audit.");
    pw_prom_sample(out, "platewatch_gate_duplicate_events_total", "", (double)m.duplicates);
    pw_prom_family(out, "platewatch_gate_malformed_events_total", "counter",
                   "Events refused as malformed.");
    pw_prom_sample(out, "platewatch_gate_malformed_events_total", "", (double)m.malformed);
    pw_prom_family(out, "platewatch_gate_decision_latency_seconds", "histogram",
                   "From an event's arrival to its decision committed.");
    pw_prom_histogram(out, "platewatch_gate_decision_latency_seconds", "", &m.latency);
    pw_prom_family(out, "platewatch_gate_last_decision_timestamp_seconds", "gauge",
                   "Wall clock of the last new decision (0 before the first).");
    pw_prom_sample(out, "platewatch_gate_last_decision_timestamp_seconds", "",
                   (double)m.last_decision_us / G_USEC_PER_SEC);
}

static void metrics_page(pw_web *w, SoupServerMessage *msg)
{
    GString *out = g_string_new(NULL);
    if (w->gate)
        gate_metrics(w, out);
    pw_prom_family(out, "platewatch_gate_declarations", "gauge",
                   "Declarations in the store (active, used and cancelled).");
    pw_prom_sample(out, "platewatch_gate_declarations", "",
                   (double)pw_declstore_count(w->store));
    pw_prom_family(out, "platewatch_gate_manual_queue", "gauge",
                   "Vehicles whose latest decision is MANUAL and no officer has resolved.");
    pw_prom_sample(out, "platewatch_gate_manual_queue", "",
                   (double)count(w, "SELECT count(DISTINCT d.vehicle) FROM decisions d"
                                    " WHERE d.verdict = 'MANUAL' AND NOT EXISTS (SELECT 1"
                                    " FROM reviews r WHERE r.vehicle = d.vehicle) AND"
                                    " d.decided_at = (SELECT max(x.decided_at) FROM"
                                    " decisions x WHERE x.vehicle = d.vehicle)"));
    pw_prom_family(out, "platewatch_gate_store_size_bytes", "gauge",
                   "The store's SQLite file and write-ahead log.");
    pw_prom_sample(out, "platewatch_gate_store_size_bytes", "", store_bytes(w));
    pw_web_prune_sessions(w);
    pw_prom_family(out, "platewatch_gate_console_sessions", "gauge",
                   "Console sessions open (not yet expired).");
    pw_prom_sample(out, "platewatch_gate_console_sessions", "",
                   (double)g_hash_table_size(w->sessions));
    pw_prom_family(out, "platewatch_gate_console_streams", "gauge",
                   "Live views connected (server-sent event streams).");
    pw_prom_sample(out, "platewatch_gate_console_streams", "", (double)w->streams->len);
    pw_prom_family(out, "platewatch_gate_login_failures_total", "counter",
                   "Failed console logins.");
    pw_prom_sample(out, "platewatch_gate_login_failures_total", "", (double)w->login_failures);
    pw_web_reply(msg, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", out->str,
                 out->len);
    g_string_free(out, TRUE);
}

static void metrics_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                            GHashTable *query, gpointer user)
{
    (void)server;
    (void)query;
    pw_web *w = user;
    if (strcmp(soup_server_message_get_method(msg), "GET") != 0) {
        pw_web_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "GET only");
    } else if (strcmp(path, "/metrics") == 0) {
        metrics_page(w, msg);
    } else if (strcmp(path, "/healthz") == 0) {
        /* Healthy while the store answers: the gate cannot decide without it. */
        bool ok = count(w, "SELECT 1") == 1;
        const char *text = ok ? "ok\n" : "store unavailable\n";
        pw_web_reply(msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, "text/plain",
                     text, strlen(text));
    } else {
        pw_web_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such page");
    }
}

void pw_web_metrics_register(pw_web *w, SoupServer *server)
{
    soup_server_add_handler(server, "/metrics", metrics_handler, w, NULL);
    soup_server_add_handler(server, "/healthz", metrics_handler, w, NULL);
    /* The metrics-only listener answers 404 everywhere else. */
    if (server == w->metrics_server)
        soup_server_add_handler(server, NULL, metrics_handler, w, NULL);
}
