/*
 * test_controller.c - the controller over real ZeroMQ sockets on loopback:
 * a stream of events in, decisions out on the controller's PUB, repeated
 * events, a restart in the middle of the stream, and decisions left
 * unpublished by a crash.
 *
 * Most tests send events from a plain ZeroMQ PUB in the publisher's wire
 * form (topic frame, JSON frame) to a controller with plain_input, so that
 * they control exactly what is sent, repeats included. Messages sent before
 * a SUB has joined are lost (ZeroMQ's slow joiner), so the sender repeats
 * the whole stream until every decision is seen, which also exercises
 * idempotency. The last test uses the publish module's pw_publisher and the
 * subscriber library with replay. Waits are liveness limits only.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_test_util.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>
#include <zmq.h>

#include "publish.h"

#define N_EVENTS 10
#define LIVENESS_US (30 * G_USEC_PER_SEC)

typedef struct {
    GHashTable *seen;       /* event_id -> times on_decision saw it */
    int total;
} tally;

static void on_decision(pw_gate_verdict v, const char *json, void *user)
{
    (void)v;
    tally *t = user;
    const char *p = strstr(json, "\"event_id\":\"");
    cr_assert_not_null(p);
    char *id = g_strndup(p + 12, 36);
    g_hash_table_insert(t->seen, id,
                        GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(t->seen, id)) + 1));
    t->total++;
}

typedef struct {
    char *dir;
    void *ctx, *pub, *sub;
    char pub_ep[128];
    char *events[N_EVENTS];
    char *ids[N_EVENTS];
    tally t;
} rig;

static void rig_init(rig *r)
{
    memset(r, 0, sizeof *r);
    r->dir = gt_tmpdir();
    r->ctx = zmq_ctx_new();
    r->pub = zmq_socket(r->ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(r->pub, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(zmq_bind(r->pub, "tcp://127.0.0.1:*"), 0);
    size_t n = sizeof r->pub_ep;
    zmq_getsockopt(r->pub, ZMQ_LAST_ENDPOINT, r->pub_ep, &n);
    r->t.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char *path = g_build_filename(r->dir, "gate.db", NULL);
    pw_declstore *st = NULL;
    cr_assert_eq(pw_declstore_new(path, &st, NULL), 0);
    /* Even events have a declaration, odd ones do not: both kinds of decision. */
    for (int i = 0; i < N_EVENTS; i++) {
        char plate[16], ref[16];
        g_snprintf(plate, sizeof plate, "AB%02dCDE", i);
        g_snprintf(ref, sizeof ref, "MRN%02d", i);
        if (i % 2 == 0)
            gt_add(st, ref, plate, NULL, "GB", NULL);
        r->ids[i] = g_uuid_string_random();
        r->events[i] = gt_event_json(&(gt_event){.plate = plate, .seq = (uint64_t)i + 1,
                                                 .event_id = r->ids[i],
                                                 .first_seen_us = GT_NOW_US + i});
    }
    pw_declstore_destroy(&st);
    g_free(path);
}

static void rig_fini(rig *r)
{
    if (r->sub)
        zmq_close(r->sub);
    zmq_close(r->pub);
    zmq_ctx_term(r->ctx);
    for (int i = 0; i < N_EVENTS; i++) {
        g_free(r->events[i]);
        g_free(r->ids[i]);
    }
    g_hash_table_unref(r->t.seen);
    gt_rmdir(r->dir);
}

static pw_gate *rig_gate(rig *r)
{
    pw_gate_config cfg;
    pw_gate_config_defaults(&cfg);
    char *path = g_build_filename(r->dir, "gate.db", NULL);
    cfg.store_path = path;
    cfg.decision_endpoint = "tcp://127.0.0.1:*";
    cfg.events_endpoint = r->pub_ep;
    cfg.allow_plain = true;
    cfg.plain_input = true;
    cfg.heartbeat_ms = 50;
    cfg.on_decision = on_decision;
    cfg.user = &r->t;
    pw_gate *g = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_new(&cfg, &g, &err), 0, "%s", err.msg);
    g_free(path);
    return g;
}

static void send_event(rig *r, int i)
{
    static const char topic[] = "plate.dover.l03.vehicle.new";
    zmq_send(r->pub, topic, sizeof topic - 1, ZMQ_SNDMORE);
    zmq_send(r->pub, r->events[i], strlen(r->events[i]), 0);
}

/* Sends events [from, to) again and again until `want` decisions were made in total. */
static void pump(rig *r, pw_gate *g, int from, int to, int want)
{
    int64_t end = g_get_monotonic_time() + LIVENESS_US;
    while (r->t.total < want) {
        cr_assert_lt(g_get_monotonic_time(), end, "only %d of %d decisions", r->t.total, want);
        for (int i = from; i < to; i++)
            send_event(r, i);
        pw_err err = {0};
        cr_assert_geq(pw_gate_run(g, 100, &err), 0, "%s", err.msg);
    }
}

static void assert_each_once(rig *r, int upto)
{
    cr_assert_eq(r->t.total, upto);
    for (int i = 0; i < upto; i++)
        cr_assert_eq(GPOINTER_TO_INT(g_hash_table_lookup(r->t.seen, r->ids[i])), 1,
                     "event %d decided %d times", i,
                     GPOINTER_TO_INT(g_hash_table_lookup(r->t.seen, r->ids[i])));
}

/* Receives the rest of a multipart message (all parts arrive together). */
static void skip_rest(void *sock)
{
    int more = 0;
    size_t n = sizeof more;
    char buf[64];
    zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &n);
    while (more) {
        cr_assert_geq(zmq_recv(sock, buf, sizeof buf, ZMQ_DONTWAIT), 0);
        n = sizeof more;
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &n);
    }
}

/* Connects a SUB to the controller's PUB and waits for its heartbeat. */
static void subscribe_decisions(rig *r, pw_gate *g)
{
    r->sub = zmq_socket(r->ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(r->sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(r->sub, ZMQ_SUBSCRIBE, "gate.", 5);
    cr_assert_eq(zmq_connect(r->sub, pw_gate_endpoint(g)), 0);
    int64_t end = g_get_monotonic_time() + LIVENESS_US;
    char buf[64];
    for (;;) {
        cr_assert_lt(g_get_monotonic_time(), end, "no heartbeat from the controller");
        cr_assert_geq(pw_gate_run(g, 60, NULL), 0);
        int n = zmq_recv(r->sub, buf, sizeof buf, ZMQ_DONTWAIT);
        if (n >= 0)
            skip_rest(r->sub);
        if (n == (int)strlen("gate.heartbeat") && memcmp(buf, "gate.heartbeat", n) == 0)
            break;
    }
}

/* Counts decision messages waiting on the SUB, per event id. */
static int drain_decisions(rig *r, GHashTable *ids)
{
    int n = 0;
    char topic[128];
    for (;;) {
        int tn = zmq_recv(r->sub, topic, sizeof topic - 1, ZMQ_DONTWAIT);
        if (tn < 0)
            return n;
        zmq_msg_t body;
        zmq_msg_init(&body);
        cr_assert_geq(zmq_msg_recv(&body, r->sub, ZMQ_DONTWAIT), 0, "a message without body");
        skip_rest(r->sub);
        topic[tn < (int)sizeof topic ? tn : (int)sizeof topic - 1] = '\0';
        if (strcmp(topic, "gate.dover.l03.decision") == 0) {
            const char *p = g_strstr_len(zmq_msg_data(&body), (gssize)zmq_msg_size(&body),
                                         "\"event_id\":\"");
            cr_assert_not_null(p);
            char *id = g_strndup(p + 12, 36);
            g_hash_table_insert(ids, id, GINT_TO_POINTER(
                GPOINTER_TO_INT(g_hash_table_lookup(ids, id)) + 1));
            n++;
        }
        zmq_msg_close(&body);
    }
}

Test(controller, stream_decided_once_and_published)
{
    rig r;
    rig_init(&r);
    pw_gate *g = rig_gate(&r);
    subscribe_decisions(&r, g);
    pump(&r, g, 0, N_EVENTS, N_EVENTS);
    /* A few more rounds of the same events: no new decision may appear. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N_EVENTS; i++)
            send_event(&r, i);
        cr_assert_geq(pw_gate_run(g, 100, NULL), 0);
    }
    assert_each_once(&r, N_EVENTS);
    pw_gate_counters c;
    pw_gate_get_counters(g, &c);
    cr_assert_eq(c.decisions, N_EVENTS);
    cr_assert_gt(c.duplicates, 0, "the repeats were seen and dropped");
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int64_t end = g_get_monotonic_time() + LIVENESS_US;
    while (g_hash_table_size(ids) < N_EVENTS) {
        cr_assert_lt(g_get_monotonic_time(), end, "decisions missing on the PUB");
        drain_decisions(&r, ids);
        g_usleep(10000);
    }
    for (int i = 0; i < N_EVENTS; i++)
        cr_assert_eq(GPOINTER_TO_INT(g_hash_table_lookup(ids, r.ids[i])), 1);
    g_hash_table_unref(ids);
    pw_gate_destroy(&g);
    rig_fini(&r);
}

/* The Z85 value of key `name` in a key file written by pw_keygen. */
static char *key_value(const char *path, const char *name)
{
    GKeyFile *kf = g_key_file_new();
    cr_assert(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL), "%s", path);
    char *v = g_key_file_get_string(kf, "curve", name, NULL);
    cr_assert_not_null(v);
    g_key_file_free(kf);
    return v;
}

/*
 * Makes the rig's PUB a CURVE server with server_key on a fresh endpoint and
 * returns a plain-input gate configuration that connects to it with the given
 * key files. *secret and *path are the caller's to g_free.
 */
static pw_gate_config curve_rig(rig *r, const char *server_key, const char *server_pub,
                                const char *client_key, char **secret, char **path)
{
    zmq_close(r->pub);
    r->pub = zmq_socket(r->ctx, ZMQ_PUB);
    int one = 1, linger = 0;
    *secret = key_value(server_key, "secret-key");
    zmq_setsockopt(r->pub, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(zmq_setsockopt(r->pub, ZMQ_CURVE_SERVER, &one, sizeof one), 0);
    cr_assert_eq(zmq_setsockopt(r->pub, ZMQ_CURVE_SECRETKEY, *secret, 40), 0);
    cr_assert_eq(zmq_bind(r->pub, "tcp://127.0.0.1:*"), 0);
    size_t n = sizeof r->pub_ep;
    zmq_getsockopt(r->pub, ZMQ_LAST_ENDPOINT, r->pub_ep, &n);
    pw_gate_config cfg;
    pw_gate_config_defaults(&cfg);
    *path = g_build_filename(r->dir, "gate.db", NULL);
    cfg.store_path = *path;
    cfg.decision_endpoint = "tcp://127.0.0.1:*";
    cfg.events_endpoint = r->pub_ep;
    cfg.plain_input = true;
    cfg.server_public_key_file = server_pub;
    cfg.client_secret_key_file = client_key;
    cfg.on_decision = on_decision;
    cfg.user = &r->t;
    return cfg;
}

Test(controller, plain_input_over_curve_uses_the_publisher_key_files)
{
    rig r;
    rig_init(&r);
    char *server = g_build_filename(r.dir, "server", NULL), *client = g_build_filename(r.dir, "client", NULL);
    cr_assert_eq(pw_keygen(server, NULL), 0);
    cr_assert_eq(pw_keygen(client, NULL), 0);
    char *server_key = g_strconcat(server, ".key", NULL), *server_pub = g_strconcat(server, ".pub", NULL);
    char *client_key = g_strconcat(client, ".key", NULL);
    char *secret = NULL, *path = NULL;
    pw_gate_config cfg = curve_rig(&r, server_key, server_pub, client_key, &secret, &path);
    pw_gate *g = NULL;
    pw_err err = {0};
    /* A secret key others may read is refused, as everywhere else. */
    cr_assert_eq(g_chmod(client_key, 0644), 0);
    cr_expect_eq(pw_gate_new(&cfg, &g, &err), PW_EKEYPERM, "%s", err.msg);
    cr_expect(strstr(err.msg, client_key) != NULL, "%s", err.msg);
    cr_assert_eq(g_chmod(client_key, 0600), 0);
    cr_assert_eq(pw_gate_new(&cfg, &g, &err), 0, "%s", err.msg);
    pump(&r, g, 0, N_EVENTS, N_EVENTS);
    assert_each_once(&r, N_EVENTS);
    pw_gate_destroy(&g);
    g_free(secret);
    g_free(path);
    g_free(server), g_free(client), g_free(server_key), g_free(server_pub), g_free(client_key);
    rig_fini(&r);
}

/* A wrong server key on the plain input is an error from pw_gate_run, not silence. */
Test(controller, plain_input_with_a_wrong_server_key_fails_with_the_reason)
{
    rig r;
    rig_init(&r);
    char *server = g_build_filename(r.dir, "server", NULL), *client = g_build_filename(r.dir, "client", NULL);
    char *other = g_build_filename(r.dir, "other", NULL);
    cr_assert_eq(pw_keygen(server, NULL), 0);
    cr_assert_eq(pw_keygen(client, NULL), 0);
    cr_assert_eq(pw_keygen(other, NULL), 0);
    char *server_key = g_strconcat(server, ".key", NULL), *other_pub = g_strconcat(other, ".pub", NULL);
    char *client_key = g_strconcat(client, ".key", NULL);
    char *secret = NULL, *path = NULL;
    pw_gate_config cfg = curve_rig(&r, server_key, other_pub, client_key, &secret, &path);
    pw_gate *g = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_new(&cfg, &g, &err), 0, "%s", err.msg);
    int rc = 0;
    for (int i = 0; i < 100 && rc >= 0; i++)
        rc = pw_gate_run(g, 100, &err);
    cr_expect_eq(rc, PW_EHANDSHAKE, "pw_gate_run returned %d: %s", rc, err.msg);
    cr_expect(strstr(err.msg, "security handshake failed"), "%s", err.msg);
    pw_gate_destroy(&g);
    g_free(secret);
    g_free(path);
    g_free(server), g_free(client), g_free(other), g_free(server_key), g_free(other_pub);
    g_free(client_key);
    rig_fini(&r);
}

Test(controller, restart_in_the_middle_of_a_stream)
{
    rig r;
    rig_init(&r);
    pw_gate *g = rig_gate(&r);
    pump(&r, g, 0, N_EVENTS / 2, N_EVENTS / 2);
    pw_gate_destroy(&g);
    /* A new controller on the same store; the publisher replays from the start. */
    g = rig_gate(&r);
    pump(&r, g, 0, N_EVENTS, N_EVENTS);
    assert_each_once(&r, N_EVENTS);
    pw_gate_destroy(&g);

    char *path = g_build_filename(r.dir, "gate.db", NULL);
    sqlite3 *db;
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM decisions),"
                       " (SELECT count(*) FROM decisions WHERE published = 0),"
                       " (SELECT last_seq FROM stream_positions),"
                       " (SELECT count(*) FROM decisions WHERE verdict = 'RELEASE')", -1, &s,
                       NULL);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(s, 0), N_EVENTS);
    cr_assert_eq(sqlite3_column_int(s, 1), 0);
    cr_assert_eq(sqlite3_column_int(s, 2), N_EVENTS);
    cr_assert_eq(sqlite3_column_int(s, 3), N_EVENTS / 2);
    sqlite3_finalize(s);
    sqlite3_close(db);
    g_free(path);
    rig_fini(&r);
}

Test(controller, unpublished_decision_is_sent_at_start)
{
    rig r;
    rig_init(&r);
    pw_gate *g = rig_gate(&r);
    pump(&r, g, 0, 2, 2);
    pw_gate_destroy(&g);
    /* As if the process died between the commit and the send. */
    char *path = g_build_filename(r.dir, "gate.db", NULL);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *sql = g_strdup_printf("UPDATE decisions SET published = 0 WHERE event_id = '%s'",
                                r.ids[1]);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    g_free(sql);
    sqlite3_close(db);
    g_free(path);
    g = rig_gate(&r);
    pw_gate_counters c;
    pw_gate_get_counters(g, &c);
    cr_assert_eq(c.republished, 1);
    cr_assert_eq(GPOINTER_TO_INT(g_hash_table_lookup(r.t.seen, r.ids[1])), 2,
                 "handed on once more, with the same event id");
    pw_gate_destroy(&g);
    rig_fini(&r);
}

/* ---- With the publish module's publisher and the subscriber library ---- */

#ifdef PW_GATE_TEST_PUBLISHER
#include "publish.h"

typedef struct {
    pw_publisher *pub;
    char *ids[N_EVENTS];
} lane;

static void lane_publish(lane *l, int i)
{
    pw_event ev = {.kind = PW_EVENT_VEHICLE_NEW, .confidence = 0.9, .frames = 3};
    g_snprintf(ev.plate, sizeof ev.plate, "AB%02dCDE", i);
    g_strlcpy(ev.camera, "cam1", sizeof ev.camera);
    g_strlcpy(ev.country, "GB", sizeof ev.country);
    ev.first_seen_us = ev.last_seen_us = ev.best_capture_us = GT_NOW_US + i;
    /* Now, not GT_NOW_US: latency_ms is computed from it and a year would be refused
     * by the subscriber as out of range. */
    ev.trigger_capture_us = g_get_real_time();
    pw_err err = {0};
    cr_assert_eq(pw_publisher_publish(l->pub, &ev, NULL, 0, &err), 0, "%s", err.msg);
    l->ids[i] = g_strdup(ev.event_id);
}

static pw_gate *lib_gate(rig *r, lane *l)
{
    pw_gate_config cfg;
    pw_gate_config_defaults(&cfg);
    char *path = g_build_filename(r->dir, "gate.db", NULL);
    cfg.store_path = path;
    cfg.events_endpoint = pw_publisher_endpoint(l->pub, "pub");
    cfg.replay_endpoint = pw_publisher_endpoint(l->pub, "replay");
    cfg.allow_plain = true;
    cfg.backfill = true;
    cfg.heartbeat_ms = 50;
    cfg.on_decision = on_decision;
    cfg.user = &r->t;
    pw_gate *g = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_new(&cfg, &g, &err), 0, "%s", err.msg);
    g_free(path);
    return g;
}

static void run_until(rig *r, pw_gate *g, int want)
{
    int64_t end = g_get_monotonic_time() + LIVENESS_US;
    while (r->t.total < want) {
        cr_assert_lt(g_get_monotonic_time(), end, "only %d of %d decisions", r->t.total, want);
        pw_err err = {0};
        cr_assert_geq(pw_gate_run(g, 100, &err), 0, "%s", err.msg);
    }
}

/*
 * Half the stream is decided, the controller stops, the other half is
 * published while it is down; the restarted controller resumes from its
 * stored position and the subscriber replays exactly the missing events.
 */
Test(controller, restart_with_publisher_and_replay)
{
    rig r;
    rig_init(&r);
    char *journal = g_build_filename(r.dir, "journal.db", NULL);
    pw_publisher_config pc = {.site = "dover", .lane = "l03",
                              .pub_endpoint = "tcp://127.0.0.1:*",
                              .replay_endpoint = "tcp://127.0.0.1:*",
                              .journal_path = journal, .heartbeat_ms = 100,
                              .allow_plain = true};
    lane l = {0};
    pw_err err = {0};
    cr_assert_eq(pw_publisher_new(&pc, &l.pub, &err), 0, "%s", err.msg);
    pw_gate *g = lib_gate(&r, &l);
    for (int i = 0; i < N_EVENTS / 2; i++)
        lane_publish(&l, i);
    run_until(&r, g, N_EVENTS / 2);
    pw_gate_destroy(&g);
    for (int i = N_EVENTS / 2; i < N_EVENTS; i++)
        lane_publish(&l, i);
    g = lib_gate(&r, &l);
    run_until(&r, g, N_EVENTS);
    /* A little longer: nothing more may arrive. */
    cr_assert_geq(pw_gate_run(g, 300, NULL), 0);
    for (int i = 0; i < N_EVENTS; i++)
        cr_assert_eq(GPOINTER_TO_INT(g_hash_table_lookup(r.t.seen, l.ids[i])), 1,
                     "event %d decided %d times", i,
                     GPOINTER_TO_INT(g_hash_table_lookup(r.t.seen, l.ids[i])));
    cr_assert_eq(r.t.total, N_EVENTS);
    pw_gate_destroy(&g);
    pw_publisher_destroy(&l.pub);
    for (int i = 0; i < N_EVENTS; i++)
        g_free(l.ids[i]);
    g_free(journal);
    rig_fini(&r);
}
#endif
