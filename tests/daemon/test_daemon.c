/*
 * platewatchd as a process: generated recordings in, plate events out over
 * real ZeroMQ sockets on loopback, received by the subscriber library.
 * Paths of the programs come from the environment (PW_PLATEWATCHD, PW_SYNTH).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "publish.h"
#include "pwtest.h"
#include "subscriber.h"
#include <libsoup/soup.h>

#define PLATES "AB-123-CD:FR,WX 48213:PL,7FKM294:US"
static const char *const labels[] = {"AB123CD", "WX48213", "7FKM294"};

static char *tmpdir;

static void setup(void)
{
    tmpdir = pwtest_tmpdir("pw-daemon");
}

static void teardown(void)
{
    pwtest_rmtree(&tmpdir);
}

static int free_port(void)
{
    return pwtest_free_port();
}

/* A loopback port held by a listening socket (*fd, closed by the caller); returns the port. */
static int hold_port(int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
    listen(*fd, 1);
    getsockname(*fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

/* Writes a small drive-by clip with the three plates; returns its path. */
static gchar *make_clip(const char *name)
{
    return pwtest_drive_clip(tmpdir, name, PLATES);
}

typedef struct {
    int pub_port, replay_port;
    const char *source;
    int pace;
    const char *extra; /* more lines for the lane group */
} lane_spec;

static gchar *write_config(const char *name, const lane_spec *l, const char *security)
{
    gchar *path = g_build_filename(tmpdir, name, NULL);
    gchar *text = g_strdup_printf("[site]\nid = test\nstats_interval_s = 1\n\n[security]\n%s\n\n"
                                  "[lane l01]\nsource = %s\ncountries = FR,PL,US\n"
                                  "publish = tcp://127.0.0.1:%d\nreplay = tcp://127.0.0.1:%d\n"
                                  "journal = %s/l01.journal\n%space = %s\n%s\n",
                                  security ? security : "allow_plain = true", l->source, l->pub_port,
                                  l->replay_port, tmpdir,
                                  /* A key given twice is refused: extra may set its own. */
                                  l->extra && strstr(l->extra, "final_after_ms") ? "" : "final_after_ms = 600\n",
                                  l->pace ? "true" : "false", l->extra ? l->extra : "");
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    g_free(text);
    return path;
}

static GSubprocess *start_daemon(const char *config, const char *log_name, gboolean exit_at_end)
{
    GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    gchar *log = g_build_filename(tmpdir, log_name, NULL);
    g_subprocess_launcher_set_stderr_file_path(l, log);
    const char *argv[] = {g_getenv("PW_PLATEWATCHD"), "--config", config, exit_at_end ? "--exit-at-end" : NULL,
                          NULL};
    cr_assert_not_null(argv[0], "PW_PLATEWATCHD is not set");
    GError *gerr = NULL;
    GSubprocess *p = g_subprocess_launcher_spawnv(l, argv, &gerr);
    cr_assert_not_null(p, "spawn: %s", gerr ? gerr->message : "");
    g_object_unref(l);
    g_free(log);
    return p;
}

static gchar *read_log(const char *log_name)
{
    gchar *path = g_build_filename(tmpdir, log_name, NULL), *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        text = g_strdup("");
    g_free(path);
    return text;
}

/* Waits for the process to exit (the test's timeout is the liveness limit); returns its status. */
static int wait_exit(GSubprocess *p)
{
    g_subprocess_wait(p, NULL, NULL);
    cr_assert(g_subprocess_get_if_exited(p), "the daemon did not exit normally");
    return g_subprocess_get_exit_status(p);
}

/* Events the test subscriber received. */
typedef struct {
    GPtrArray *kinds;  /* "vehicle.final" ... */
    GPtrArray *plates;
    GArray *seqs;
    int finals;
    int jpegs; /* vehicle events that carried a JPEG crop */
    int stats;
    gint64 frames_in; /* from the latest stats event */
    /* The latest stats event's health view. */
    char health_state[16];
    char last_error[256];
    gint64 restarts;
    int had_last_frame; /* last_frame_at was a time, not null */
} inbox;

static void take_health(inbox *in, JsonObject *counters)
{
    JsonNode *n = json_object_get_member(counters, "health");
    cr_assert(n && JSON_NODE_HOLDS_OBJECT(n), "stats carry the lane's health");
    JsonObject *h = json_node_get_object(n);
    g_strlcpy(in->health_state, json_object_get_string_member(h, "state"), sizeof in->health_state);
    g_strlcpy(in->last_error, json_object_get_string_member(h, "last_error"), sizeof in->last_error);
    in->restarts = json_object_get_int_member(h, "restarts");
    JsonNode *at = json_object_get_member(h, "last_frame_at");
    cr_assert_not_null(at, "health has last_frame_at");
    in->had_last_frame = !JSON_NODE_HOLDS_NULL(at);
}

static void inbox_cb(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t jpeg_len, void *user)
{
    inbox *in = user;
    if (ev->kind == PW_EVENT_STATS) {
        JsonParser *p = json_parser_new();
        cr_assert(json_parser_load_from_data(p, json, -1, NULL), "stats JSON: %s", json);
        JsonObject *counters = json_object_get_object_member(json_node_get_object(json_parser_get_root(p)), "counters");
        in->frames_in = json_object_get_int_member(counters, "frames_in");
        cr_assert(json_object_has_member(json_object_get_object_member(counters, "stages"), "ocr"), "%s", json);
        take_health(in, counters);
        in->stats++;
        g_object_unref(p);
        return;
    }
    if (ev->kind < PW_EVENT_VEHICLE_NEW || ev->kind > PW_EVENT_VEHICLE_FINAL)
        return;
    in->jpegs += jpeg_len > 3 && jpeg[0] == 0xFF && jpeg[1] == 0xD8 && jpeg[2] == 0xFF;
    g_ptr_array_add(in->kinds, g_strdup(pw_event_kind_name(ev->kind)));
    g_ptr_array_add(in->plates, g_strdup(ev->plate));
    g_array_append_val(in->seqs, ev->seq);
    in->finals += ev->kind == PW_EVENT_VEHICLE_FINAL;
}

static void inbox_init(inbox *in)
{
    memset(in, 0, sizeof *in);
    in->kinds = g_ptr_array_new_with_free_func(g_free);
    in->plates = g_ptr_array_new_with_free_func(g_free);
    in->seqs = g_array_new(FALSE, FALSE, sizeof(uint64_t));
}

static void inbox_clear(inbox *in)
{
    g_ptr_array_free(in->kinds, TRUE);
    g_ptr_array_free(in->plates, TRUE);
    g_array_free(in->seqs, TRUE);
}

static pw_subscriber *subscribe(const lane_spec *l, inbox *in, const char *server_pub, const char *client_key)
{
    gchar *pub = g_strdup_printf("tcp://127.0.0.1:%d", l->pub_port);
    gchar *rep = g_strdup_printf("tcp://127.0.0.1:%d", l->replay_port);
    pw_subscriber_config sc = {.pub_endpoint = pub, .replay_endpoint = rep, .backfill_new_streams = true,
                               .server_public_key_file = server_pub, .client_secret_key_file = client_key,
                               .allow_plain = server_pub == NULL};
    pw_subscriber *sub = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_subscriber_new(&sc, inbox_cb, in, &sub, &err), 0, "%s", err.msg);
    g_free(pub);
    g_free(rep);
    return sub;
}

static void run_until_finals(pw_subscriber *sub, inbox *in, int finals, int timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    while (in->finals < finals && g_get_monotonic_time() < end)
        pw_subscriber_run(sub, 100);
}

static int count_final(const inbox *in, const char *plate)
{
    int n = 0;
    for (guint i = 0; i < in->kinds->len; i++)
        n += !strcmp(in->kinds->pdata[i], "vehicle.final") && !strcmp(in->plates->pdata[i], plate);
    return n;
}

static void assert_in_order_once(const inbox *in)
{
    for (guint i = 1; i < in->seqs->len; i++)
        cr_assert_eq(g_array_index(in->seqs, uint64_t, i), g_array_index(in->seqs, uint64_t, i - 1) + 1,
                     "event %u: seq %lu after %lu", i, (unsigned long)g_array_index(in->seqs, uint64_t, i),
                     (unsigned long)g_array_index(in->seqs, uint64_t, i - 1));
}

Test(daemon, one_final_per_plate_with_the_right_text, .init = setup, .fini = teardown, .timeout = 180)
{
    gchar *clip = make_clip("lane.avi");
    gchar *uri = g_strconcat("file://", clip, NULL);
    lane_spec l = {free_port(), free_port(), uri, 0, "jpeg_crops = true"};
    gchar *config = write_config("d.conf", &l, NULL);
    GSubprocess *d = start_daemon(config, "d.log", FALSE);
    inbox in;
    inbox_init(&in);
    pw_subscriber *sub = subscribe(&l, &in, NULL, NULL);
    run_until_finals(sub, &in, 3, 90);
    cr_assert_eq(in.jpegs, (int)in.kinds->len, "every vehicle event carries the JPEG crop of its best read");
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (in.stats < 2 && g_get_monotonic_time() < end)
        pw_subscriber_run(sub, 100);
    if (in.stats < 2) {
        gchar *log = read_log("d.log");
        cr_assert_fail("a stats event every second: %d in 30 s; daemon log:\n%s", in.stats, log);
    }
    cr_assert_gt(in.frames_in, 0, "stats count the frames");
    for (size_t i = 0; i < G_N_ELEMENTS(labels); i++)
        cr_assert_eq(count_final(&in, labels[i]), 1, "%s: %d finals", labels[i], count_final(&in, labels[i]));
    cr_assert_eq(in.finals, 3, "exactly one vehicle.final per plate");
    cr_assert_eq(g_array_index(in.seqs, uint64_t, 0), 1);
    assert_in_order_once(&in);
    g_subprocess_send_signal(d, SIGTERM);
    cr_assert_eq(wait_exit(d), 0, "SIGTERM exits 0");
    gchar *log = read_log("d.log");
    cr_assert(strstr(log, "allow_plain") != NULL, "plain TCP is warned about: %s", log);
    cr_assert(strstr(log, "stopped cleanly") != NULL, "%s", log);
    pw_subscriber_destroy(&sub);
    inbox_clear(&in);
    g_free(log), g_free(config), g_free(uri), g_free(clip);
    g_object_unref(d);
}

static int64_t journal_last_seq(void)
{
    gchar *path = g_build_filename(tmpdir, "l01.journal", NULL);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(seq), 0) FROM events", -1, &st, NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    g_free(path);
    return seq;
}

Test(daemon, sigkill_and_restart_continue_the_sequence, .init = setup, .fini = teardown, .timeout = 240)
{
    gchar *clip = make_clip("lane.avi");
    gchar *uri = g_strconcat("file://", clip, NULL);
    lane_spec l = {free_port(), free_port(), uri, 1, NULL}; /* paced: real time, so there is a "mid-stream" */
    gchar *config = write_config("d.conf", &l, NULL);
    GSubprocess *d = start_daemon(config, "d1.log", FALSE);
    inbox in;
    inbox_init(&in);
    pw_subscriber *sub = subscribe(&l, &in, NULL, NULL);
    run_until_finals(sub, &in, 1, 90);
    cr_assert_geq(in.finals, 1);
    g_subprocess_force_exit(d); /* SIGKILL: no drain, no clean close */
    g_subprocess_wait(d, NULL, NULL);
    g_object_unref(d);
    int64_t before = journal_last_seq();
    cr_assert_geq(before, 2);

    d = start_daemon(config, "d2.log", FALSE);
    run_until_finals(sub, &in, 4, 120); /* the restarted daemon reads the clip again */
    cr_assert_geq(in.finals, 4, "after the restart the subscriber keeps receiving");
    cr_assert_gt(journal_last_seq(), before);
    assert_in_order_once(&in);
    cr_assert_eq(g_array_index(in.seqs, uint64_t, 0), 1);
    pw_subscriber_counters c;
    pw_subscriber_get_counters(sub, &c);
    cr_assert_geq(c.restarts, 1, "the subscriber saw the publisher restart");
    g_subprocess_send_signal(d, SIGTERM);
    cr_assert_eq(wait_exit(d), 0);
    pw_subscriber_destroy(&sub);
    inbox_clear(&in);
    g_object_unref(d);
    g_free(config), g_free(uri), g_free(clip);
}

Test(daemon, sigterm_publishes_the_vehicle_in_view, .init = setup, .fini = teardown, .timeout = 180)
{
    gchar *clip = make_clip("lane.avi");
    gchar *uri = g_strconcat("file://", clip, NULL);
    lane_spec l = {free_port(), free_port(), uri, 1, "final_after_ms = 60000"};
    gchar *config = write_config("d.conf", &l, NULL);
    GSubprocess *d = start_daemon(config, "d.log", FALSE);
    inbox in;
    inbox_init(&in);
    pw_subscriber *sub = subscribe(&l, &in, NULL, NULL);
    gint64 end = g_get_monotonic_time() + 90 * G_USEC_PER_SEC;
    while (in.kinds->len == 0 && g_get_monotonic_time() < end)
        pw_subscriber_run(sub, 100);
    cr_assert_gt(in.kinds->len, 0, "a vehicle.new arrives");
    cr_assert_eq(in.finals, 0, "with a 60 s silence rule nothing is final yet");
    g_subprocess_send_signal(d, SIGTERM);
    run_until_finals(sub, &in, 1, 30);
    cr_assert_geq(in.finals, 1, "the drain publishes the vehicle in view as final");
    cr_assert_eq(wait_exit(d), 0);
    pw_subscriber_destroy(&sub);
    inbox_clear(&in);
    g_object_unref(d);
    g_free(config), g_free(uri), g_free(clip);
}

/* Runs the daemon on a configuration text; returns its exit status and stderr. */
static int run_config(const char *text, gchar **log)
{
    gchar *path = g_build_filename(tmpdir, "bad.conf", NULL);
    if (text)
        cr_assert(g_file_set_contents(path, text, -1, NULL));
    GSubprocess *d = start_daemon(path, "bad.log", TRUE);
    int status = wait_exit(d);
    *log = read_log("bad.log");
    g_object_unref(d);
    g_free(path);
    return status;
}

Test(daemon, bad_configurations_name_file_group_and_key, .init = setup, .fini = teardown, .timeout = 120)
{
    gchar *log = NULL;
    cr_assert_eq(run_config(NULL, &log), 2);
    cr_assert(strstr(log, "bad.conf") != NULL, "%s", log);
    g_free(log);

    cr_assert_eq(run_config("[site\nid = x\n", &log), 2);
    cr_assert(strstr(log, "bad.conf") != NULL, "%s", log);
    g_free(log);

    const char *lane = "[site]\nid = t\n[security]\nallow_plain = true\n[lane a]\nsource = testsrc://\n"
                       "publish = tcp://127.0.0.1:1\nreplay = tcp://127.0.0.1:2\njournal = /tmp/x\n";
    gchar *bad_roi = g_strconcat(lane, "roi = 10,20,-5,4\n", NULL);
    cr_assert_eq(run_config(bad_roi, &log), 2);
    cr_assert(strstr(log, "[lane a] roi") != NULL, "%s", log);
    g_free(log);
    gchar *bad_detector = g_strconcat(lane, "detector = yolo\n", NULL);
    cr_assert_eq(run_config(bad_detector, &log), 2);
    cr_assert(strstr(log, "[lane a] detector") != NULL, "%s", log);
    g_free(log);
    g_free(bad_detector);
    gchar *bad_country = g_strconcat(lane, "countries = FR,XX\n", NULL);
    cr_assert_eq(run_config(bad_country, &log), 2);
    cr_assert(strstr(log, "[lane a] countries") != NULL && strstr(log, "XX") != NULL, "%s", log);
    g_free(log);
    cr_assert_eq(run_config("[site]\nid = t\n[security]\nallow_plain = true\n[lane a]\nsource = testsrc://\n", &log),
                 2);
    cr_assert(strstr(log, "[lane a] publish: missing") != NULL, "%s", log);
    g_free(log);
    cr_assert_eq(run_config("[site]\nid = t\n[lane a]\nsource = testsrc://\n", &log), 2);
    cr_assert(strstr(log, "[security]") != NULL, "CURVE is required unless allow_plain: %s", log);
    g_free(log);
    g_free(bad_roi), g_free(bad_country);
}

Test(daemon, unknown_key_file_and_port_in_use_are_clear_errors, .init = setup, .fini = teardown, .timeout = 120)
{
    gchar *log = NULL;
    gchar *text = g_strdup_printf("[site]\nid = t\n[security]\nsecret_key = %s/none.key\nallow_list = %s\n"
                                  "[lane a]\nsource = testsrc://\npublish = tcp://127.0.0.1:%d\n"
                                  "replay = tcp://127.0.0.1:%d\njournal = %s/a.journal\n",
                                  tmpdir, tmpdir, free_port(), free_port(), tmpdir);
    cr_assert_neq(run_config(text, &log), 0);
    cr_assert(strstr(log, "none.key") != NULL, "%s", log);
    g_free(log), g_free(text);

    int busy = -1, held = hold_port(&busy);
    text = g_strdup_printf("[site]\nid = t\n[security]\nallow_plain = true\n[lane a]\nsource = testsrc://\n"
                           "publish = tcp://127.0.0.1:%d\nreplay = tcp://127.0.0.1:%d\njournal = %s/a.journal\n",
                           held, free_port(), tmpdir);
    cr_assert_neq(run_config(text, &log), 0);
    gchar *port = g_strdup_printf("%d", held);
    cr_assert(strstr(log, port) != NULL, "the error names the endpoint: %s", log);
    close(busy);
    g_free(log), g_free(text), g_free(port);
}

Test(daemon, sighup_restarts_only_the_changed_lane, .init = setup, .fini = teardown, .timeout = 300)
{
    gchar *path = g_build_filename(tmpdir, "d.conf", NULL);
    const char *fmt = "[site]\nid = t\n[security]\nallow_plain = true\n"
                      "[lane a]\nsource = testsrc://\ncountries = %s\npublish = tcp://127.0.0.1:%d\n"
                      "replay = tcp://127.0.0.1:%d\njournal = %s/a.journal\n"
                      "[lane b]\nsource = testsrc://\npublish = tcp://127.0.0.1:%d\n"
                      "replay = tcp://127.0.0.1:%d\njournal = %s/b.journal\n";
    int ports[4] = {free_port(), free_port(), free_port(), free_port()};
    gchar *text = g_strdup_printf(fmt, "FR", ports[0], ports[1], tmpdir, ports[2], ports[3], tmpdir);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    GSubprocess *d = start_daemon(path, "d.log", FALSE);
    gchar *log = NULL;
    /* Liveness limits only: a sanitizer build starts Tesseract many times slower. */
    gint64 end = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    do {
        g_usleep(100000);
        g_free(log);
        log = read_log("d.log");
    } while (!strstr(log, "lane b: started") && g_get_monotonic_time() < end);
    cr_assert(strstr(log, "lane a: started") && strstr(log, "lane b: started"), "%s", log);
    g_free(text);
    text = g_strdup_printf(fmt, "DE", ports[0], ports[1], tmpdir, ports[2], ports[3], tmpdir);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    g_subprocess_send_signal(d, SIGHUP);
    end = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    do {
        g_usleep(100000);
        g_free(log);
        log = read_log("d.log");
    } while (!strstr(log, "reloaded") && g_get_monotonic_time() < end);
    cr_assert(strstr(log, "lane a: configuration changed") != NULL, "%s", log);
    cr_assert(strstr(log, "lane b: configuration changed") == NULL, "lane b keeps running: %s", log);
    cr_assert(strstr(log, "1 lane(s) stopped, 1 started, 2 running") != NULL, "%s", log);
    g_subprocess_send_signal(d, SIGTERM);
    cr_assert_eq(wait_exit(d), 0);
    g_object_unref(d);
    g_free(log), g_free(text), g_free(path);
}

Test(daemon, only_allowed_client_keys_receive_events, .init = setup, .fini = teardown, .timeout = 180)
{
    gchar *server = g_build_filename(tmpdir, "server", NULL);
    gchar *allowed_dir = g_build_filename(tmpdir, "clients", NULL);
    g_mkdir(allowed_dir, 0755);
    gchar *client = g_build_filename(allowed_dir, "lane-controller", NULL);
    gchar *stranger = g_build_filename(tmpdir, "stranger", NULL);
    pw_err err = {0};
    cr_assert_eq(pw_keygen(server, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_keygen(client, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_keygen(stranger, &err), 0, "%s", err.msg);
    gchar *security = g_strdup_printf("secret_key = %s.key\nallow_list = %s", server, allowed_dir);
    gchar *clip = make_clip("lane.avi");
    gchar *uri = g_strconcat("file://", clip, NULL);
    lane_spec l = {free_port(), free_port(), uri, 0, NULL};
    gchar *config = write_config("d.conf", &l, security);
    GSubprocess *d = start_daemon(config, "d.log", FALSE);
    gchar *server_pub = g_strconcat(server, ".pub", NULL);
    gchar *client_key = g_strconcat(client, ".key", NULL), *stranger_key = g_strconcat(stranger, ".key", NULL);
    inbox ok, denied;
    inbox_init(&ok);
    inbox_init(&denied);
    pw_subscriber *good = subscribe(&l, &ok, server_pub, client_key);
    pw_subscriber *bad = subscribe(&l, &denied, server_pub, stranger_key);
    run_until_finals(good, &ok, 3, 90);
    pw_subscriber_run(bad, 1000);
    cr_assert_eq(ok.finals, 3, "the allowed client receives every vehicle");
    cr_assert_eq(denied.kinds->len, 0, "an unknown key receives nothing");
    g_subprocess_send_signal(d, SIGTERM);
    cr_assert_eq(wait_exit(d), 0);
    pw_subscriber_destroy(&good);
    pw_subscriber_destroy(&bad);
    inbox_clear(&ok);
    inbox_clear(&denied);
    g_object_unref(d);
    g_free(server), g_free(allowed_dir), g_free(client), g_free(stranger), g_free(security), g_free(clip);
    g_free(uri), g_free(config), g_free(server_pub), g_free(client_key), g_free(stranger_key);
}

/* Runs the subscriber until a stats event reports the health state (or the liveness limit). */
static void run_until_health(pw_subscriber *sub, inbox *in, const char *state, int timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    while (strcmp(in->health_state, state) != 0 && g_get_monotonic_time() < end)
        pw_subscriber_run(sub, 100);
}

/* Puts a clip at path in one step, so that a lane retrying it never sees half a file. */
static void place_clip(const char *path)
{
    gchar *tmp = make_clip("placed.tmp.avi");
    cr_assert_eq(g_rename(tmp, path), 0);
    g_free(tmp);
}

static const char *two_lanes =
    "[site]\nid = t\nstats_interval_s = 1\n[security]\nallow_plain = true\n"
    "[lane a]\nsource = %s\ncountries = FR,PL,US\npublish = tcp://127.0.0.1:%d\n"
    "replay = tcp://127.0.0.1:%d\njournal = %s/a.journal\nfinal_after_ms = 600\n"
    "[lane b]\nsource = %s\ncountries = FR,PL,US\npublish = tcp://127.0.0.1:%d\n"
    "replay = tcp://127.0.0.1:%d\njournal = %s/b.journal\nfinal_after_ms = 600\n";

Test(daemon, a_lane_whose_source_cannot_start_is_retried_while_the_others_publish, .init = setup,
     .fini = teardown, .timeout = 300)
{
    gchar *clip = make_clip("a.avi");
    gchar *missing = g_build_filename(tmpdir, "b.avi", NULL);
    gchar *uri_a = g_strconcat("file://", clip, NULL), *uri_b = g_strconcat("file://", missing, NULL);
    lane_spec a = {free_port(), free_port(), uri_a, 0, NULL}, b = {free_port(), free_port(), uri_b, 0, NULL};
    gchar *text = g_strdup_printf(two_lanes, uri_a, a.pub_port, a.replay_port, tmpdir, uri_b, b.pub_port,
                                  b.replay_port, tmpdir);
    gchar *config = g_build_filename(tmpdir, "d.conf", NULL);
    cr_assert(g_file_set_contents(config, text, -1, NULL));
    GSubprocess *d = start_daemon(config, "d.log", FALSE);
    inbox in_a, in_b;
    inbox_init(&in_a);
    inbox_init(&in_b);
    pw_subscriber *sub_a = subscribe(&a, &in_a, NULL, NULL), *sub_b = subscribe(&b, &in_b, NULL, NULL);

    run_until_finals(sub_a, &in_a, 3, 120);
    gchar *log = read_log("d.log");
    cr_assert_eq(in_a.finals, 3, "the healthy lane publishes every vehicle; log:\n%s", log);
    g_free(log);
    run_until_health(sub_b, &in_b, "retrying", 30);
    cr_assert_str_eq(in_b.health_state, "retrying");
    cr_assert(strstr(in_b.last_error, "b.avi") != NULL, "the reason names the source: %s", in_b.last_error);
    cr_assert_eq(in_b.had_last_frame, 0, "no frame yet");
    gint64 restarts = in_b.restarts;
    cr_assert_geq(restarts, 1);
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (in_b.restarts <= restarts && g_get_monotonic_time() < end)
        pw_subscriber_run(sub_b, 100);
    cr_assert_str_eq(in_b.health_state, "retrying");
    cr_assert_gt(in_b.restarts, restarts, "the lane keeps being retried (%ld then %ld)", (long)restarts,
                 (long)in_b.restarts);

    place_clip(missing); /* the camera comes back */
    run_until_finals(sub_b, &in_b, 3, 120);
    log = read_log("d.log");
    cr_assert_eq(in_b.finals, 3, "the retried lane publishes once its source exists; log:\n%s", log);
    cr_assert(strstr(log, "lane b: started") != NULL, "%s", log);
    g_free(log);
    cr_assert_not_null(g_subprocess_get_identifier(d), "the daemon runs on");
    g_subprocess_send_signal(d, SIGTERM);
    cr_assert_eq(wait_exit(d), 0);
    pw_subscriber_destroy(&sub_a);
    pw_subscriber_destroy(&sub_b);
    inbox_clear(&in_a);
    inbox_clear(&in_b);
    g_object_unref(d);
    g_free(text), g_free(config), g_free(clip), g_free(missing), g_free(uri_a), g_free(uri_b);
}

Test(daemon, a_lane_reloaded_onto_a_failing_source_is_retried, .init = setup, .fini = teardown, .timeout = 300)
{
    gchar *missing = g_build_filename(tmpdir, "later.avi", NULL);
    gchar *uri_b = g_strconcat("file://", missing, NULL);
    lane_spec a = {free_port(), free_port(), "testsrc://", 0, NULL},
              b = {free_port(), free_port(), "testsrc://", 0, NULL};
    gchar *config = g_build_filename(tmpdir, "d.conf", NULL);
    gchar *text = g_strdup_printf(two_lanes, "testsrc://", a.pub_port, a.replay_port, tmpdir, "testsrc://",
                                  b.pub_port, b.replay_port, tmpdir);
    cr_assert(g_file_set_contents(config, text, -1, NULL));
    GSubprocess *d = start_daemon(config, "d.log", FALSE);
    inbox in_a, in_b;
    inbox_init(&in_a);
    inbox_init(&in_b);
    pw_subscriber *sub_a = subscribe(&a, &in_a, NULL, NULL), *sub_b = subscribe(&b, &in_b, NULL, NULL);
    run_until_health(sub_b, &in_b, "running", 120);
    cr_assert_str_eq(in_b.health_state, "running");
    cr_assert_eq(in_b.had_last_frame, 1, "a running camera has a last frame time");

    g_free(text);
    text = g_strdup_printf(two_lanes, "testsrc://", a.pub_port, a.replay_port, tmpdir, uri_b, b.pub_port,
                           b.replay_port, tmpdir);
    cr_assert(g_file_set_contents(config, text, -1, NULL));
    g_subprocess_send_signal(d, SIGHUP);
    in_b.health_state[0] = '\0';
    run_until_health(sub_b, &in_b, "retrying", 120);
    gchar *log = read_log("d.log");
    cr_assert_str_eq(in_b.health_state, "retrying", "log:\n%s", log);
    cr_assert(strstr(in_b.last_error, "later.avi") != NULL, "%s", in_b.last_error);
    g_free(log);
    in_a.health_state[0] = '\0';
    run_until_health(sub_a, &in_a, "running", 30);
    cr_assert_str_eq(in_a.health_state, "running", "the unchanged lane runs on");

    place_clip(missing);
    run_until_finals(sub_b, &in_b, 3, 120);
    log = read_log("d.log");
    cr_assert_eq(in_b.finals, 3, "the reloaded lane starts once its source exists; log:\n%s", log);
    g_free(log);
    g_subprocess_send_signal(d, SIGTERM);
    cr_assert_eq(wait_exit(d), 0);
    pw_subscriber_destroy(&sub_a);
    pw_subscriber_destroy(&sub_b);
    inbox_clear(&in_a);
    inbox_clear(&in_b);
    g_object_unref(d);
    g_free(text), g_free(config), g_free(missing), g_free(uri_b);
}

Test(daemon, a_lane_whose_recording_fails_while_running_is_made_anew, .init = setup, .fini = teardown,
     .timeout = 300)
{
    gchar *clip = make_clip("loop.avi");
    gchar *uri = g_strconcat("file://", clip, NULL);
    lane_spec l = {free_port(), free_port(), uri, 0, "loop = true"};
    gchar *config = write_config("d.conf", &l, NULL);
    GSubprocess *d = start_daemon(config, "d.log", FALSE);
    inbox in;
    inbox_init(&in);
    pw_subscriber *sub = subscribe(&l, &in, NULL, NULL);
    run_until_health(sub, &in, "running", 120);
    cr_assert_str_eq(in.health_state, "running");
    cr_assert_eq(g_unlink(clip), 0); /* the next pass of the loop cannot open it */
    run_until_health(sub, &in, "retrying", 60);
    gchar *log = read_log("d.log");
    cr_assert_str_eq(in.health_state, "retrying", "log:\n%s", log);
    cr_assert(strstr(in.last_error, "loop.avi") != NULL, "%s", in.last_error);
    /* The main loop notices the failed lane within a tick (500 ms) and makes it anew. */
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (!strstr(log, "restarting the lane") && g_get_monotonic_time() < end) {
        pw_subscriber_run(sub, 100);
        g_free(log);
        log = read_log("d.log");
    }
    cr_assert(strstr(log, "restarting the lane") != NULL, "%s", log);
    g_free(log);
    gint64 restarts = in.restarts;
    place_clip(clip);
    run_until_health(sub, &in, "running", 60);
    cr_assert_str_eq(in.health_state, "running", "the lane runs again once its recording is back");
    cr_assert_geq(in.restarts, restarts);
    g_subprocess_send_signal(d, SIGTERM);
    cr_assert_eq(wait_exit(d), 0);
    pw_subscriber_destroy(&sub);
    inbox_clear(&in);
    g_object_unref(d);
    g_free(config), g_free(uri), g_free(clip);
}

/* Runs `platewatchd --check` on a configuration text; returns its exit status, stdout and stderr. */
static int run_check(const char *text, gchar **out)
{
    gchar *path = g_build_filename(tmpdir, "check.conf", NULL);
    cr_assert(g_file_set_contents(path, text, -1, NULL));
    const char *argv[] = {g_getenv("PW_PLATEWATCHD"), "--check", "--config", path, NULL};
    GError *gerr = NULL;
    GSubprocess *p = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &gerr);
    cr_assert_not_null(p, "spawn: %s", gerr ? gerr->message : "");
    cr_assert(g_subprocess_communicate_utf8(p, NULL, NULL, out, NULL, NULL));
    int status = wait_exit(p);
    g_object_unref(p);
    g_free(path);
    return status;
}

/* A lane group "[lane NAME]" with its required keys; more lines may follow. */
static gchar *lane_group(const char *name, const char *journal, int pub, int replay)
{
    return g_strdup_printf("[lane %s]\nsource = testsrc://\npublish = tcp://127.0.0.1:%d\n"
                           "replay = tcp://127.0.0.1:%d\njournal = %s\n", name, pub, replay, journal);
}

static void expect_check_refuses(const char *text, const char *const *parts)
{
    gchar *out = NULL;
    cr_expect_eq(run_check(text, &out), 2, "--check accepted:\n%s\n%s", text, out);
    for (const char *const *p = parts; *p; p++)
        cr_expect(strstr(out, *p) != NULL, "'%s' not in: %s", *p, out);
    g_free(out);
}

static const char *const plain_site = "[site]\nid = t\n[security]\nallow_plain = true\n";

/* Issue 14: each of these passed --check, then lost every event. */
Test(daemon, check_refuses_ids_and_journals_that_lose_every_event, .init = setup, .fini = teardown, .timeout = 120)
{
    gchar *journal = g_build_filename(tmpdir, "a.journal", NULL);
    gchar *a = lane_group("a", journal, free_port(), free_port());
    gchar *text = g_strconcat(plain_site, a, "camera = front cam\n", NULL);
    /* Line 10: four lines of site and security, five of the lane's keys. */
    expect_check_refuses(text, (const char *const[]){"check.conf:10: [lane a] camera", "has ' '", NULL});
    g_free(text);
    gchar *long_id = g_strnfill(64, 'c');
    text = g_strconcat(plain_site, a, "camera = ", long_id, "\n", NULL);
    expect_check_refuses(text, (const char *const[]){"check.conf:10: [lane a] camera", "64 characters", NULL});
    g_free(text), g_free(long_id);
    /* The same file under another spelling of its path is the same journal. */
    gchar *same = g_strconcat(tmpdir, "/./a.journal", NULL);
    gchar *b = lane_group("b", same, free_port(), free_port());
    text = g_strconcat(plain_site, a, b, NULL);
    expect_check_refuses(text, (const char *const[]){"check.conf:14: [lane b] journal", "also the journal of [lane a]",
                                                     "(line 9)", NULL});
    g_free(text), g_free(b), g_free(same), g_free(a), g_free(journal);
}

Test(daemon, check_probes_endpoints_journals_keys_and_model, .init = setup, .fini = teardown, .timeout = 180)
{
    gchar *journal = g_build_filename(tmpdir, "a.journal", NULL);
    int pub = free_port(), replay = free_port();
    gchar *a = lane_group("a", journal, pub, replay);
    gchar *text = g_strconcat(plain_site, a, NULL), *out = NULL;
    cr_assert_eq(run_check(text, &out), 0, "%s", out);
    cr_expect(strstr(out, "configuration is valid") != NULL, "%s", out);
    cr_expect(!g_file_test(journal, G_FILE_TEST_EXISTS), "--check creates no journal");
    g_free(out), g_free(text);

    /* A port another process holds. */
    int busy = -1, held_port = hold_port(&busy);
    gchar *held = lane_group("a", journal, held_port, replay);
    gchar *port = g_strdup_printf(":%d", held_port);
    text = g_strconcat(plain_site, held, NULL);
    expect_check_refuses(text, (const char *const[]){"check.conf:7: [lane a] publish", "cannot bind", port, NULL});
    close(busy);
    g_free(text), g_free(held), g_free(port);

    /* Two lanes on one port: each binds alone, not both. */
    gchar *other = g_build_filename(tmpdir, "b.journal", NULL);
    gchar *b = lane_group("b", other, free_port(), replay);
    text = g_strconcat(plain_site, a, b, NULL);
    expect_check_refuses(text, (const char *const[]){"check.conf:13: [lane b] replay", "clashes with [lane a] replay",
                                                     NULL});
    g_free(text), g_free(b);
    b = g_strdup_printf("[lane b]\nsource = testsrc://\npublish = tcp://*:%d\nreplay = tcp://127.0.0.1:%d\n"
                        "journal = %s\n", pub, free_port(), other);
    text = g_strconcat(plain_site, a, b, NULL);
    expect_check_refuses(text, (const char *const[]){"[lane b] publish", "clashes with [lane a] publish", NULL});
    g_free(text), g_free(b), g_free(other);

    /* Journals that cannot be written: a missing folder, a folder in the file's place. */
    gchar *missing = g_build_filename(tmpdir, "no", "such", "a.journal", NULL);
    gchar *lane = lane_group("a", missing, pub, replay);
    text = g_strconcat(plain_site, lane, NULL);
    expect_check_refuses(text, (const char *const[]){"check.conf:9: [lane a] journal", "cannot be created", NULL});
    g_free(text), g_free(lane), g_free(missing);
    lane = lane_group("a", tmpdir, pub, replay);
    text = g_strconcat(plain_site, lane, NULL);
    expect_check_refuses(text, (const char *const[]){"check.conf:9: [lane a] journal", "cannot be written", NULL});
    g_free(text), g_free(lane);

    /* Missing key files, a missing model, a missing recording. */
    text = g_strdup_printf("[site]\nid = t\n[security]\nsecret_key = %s/none.key\nallow_list = %s\n%s", tmpdir, tmpdir,
                           a);
    expect_check_refuses(text, (const char *const[]){"check.conf:4: [security] secret_key", "none.key", NULL});
    g_free(text);
    text = g_strdup_printf("[site]\nid = t\ntessdata = %s\n[security]\nallow_plain = true\n%s", tmpdir, a);
    expect_check_refuses(text, (const char *const[]){"check.conf:3: [site] tessdata", "OCR model", NULL});
    g_free(text);
    text = g_strconcat(plain_site, a, "source = file:///nonexistent/lane.avi\n", NULL);
    /* source is given twice here: the repeat is what is refused first. */
    expect_check_refuses(text, (const char *const[]){"check.conf:10:", "repeated key", NULL});
    g_free(text);
    lane = g_strdup_printf("[lane a]\nsource = file://%s/none.avi\npublish = tcp://127.0.0.1:%d\n"
                           "replay = tcp://127.0.0.1:%d\njournal = %s\n", tmpdir, pub, replay, journal);
    text = g_strconcat(plain_site, lane, NULL);
    expect_check_refuses(text, (const char *const[]){"check.conf:6: [lane a] source", "none.avi", NULL});
    g_free(text), g_free(lane), g_free(a), g_free(journal);
}

/* ---- /metrics and /healthz ---- */

/* GET http://127.0.0.1:port/path; returns the status and sets *body (g_free). */
static unsigned http_get(SoupSession *s, int port, const char *path, gchar **body)
{
    gchar *uri = g_strdup_printf("http://127.0.0.1:%d%s", port, path);
    SoupMessage *m = soup_message_new("GET", uri);
    GBytes *b = soup_session_send_and_read(s, m, NULL, NULL);
    unsigned status = b ? soup_message_get_status(m) : 0;
    gsize n = 0;
    const char *data = b ? g_bytes_get_data(b, &n) : NULL;
    *body = g_strndup(data ? data : "", n);
    if (b)
        g_bytes_unref(b);
    g_object_unref(m);
    g_free(uri);
    return status;
}

/* The value of one sample line "NAME{LABELS} VALUE" in a metrics page, or -1. */
static double sample(const char *page, const char *series)
{
    gchar *needle = g_strconcat("\n", series, " ", NULL);
    const char *p = strstr(page, needle);
    double v = p ? g_ascii_strtod(p + strlen(needle), NULL) : -1;
    g_free(needle);
    return v;
}

Test(daemon, metrics_count_the_lane_and_health_follows_its_frames, .init = setup, .fini = teardown,
     .timeout = 240)
{
    gchar *clip = make_clip("lane.avi");
    gchar *uri = g_strconcat("file://", clip, NULL);
    int mport = free_port();
    gchar *extra = g_strdup_printf("jpeg_crops = true\nstall_timeout_ms = 1000\n\n[metrics]\n"
                                   "listen = 127.0.0.1:%d\n", mport);
    lane_spec l = {free_port(), free_port(), uri, 1, extra};
    gchar *config = write_config("m.conf", &l, NULL);
    GSubprocess *d = start_daemon(config, "m.log", FALSE);
    SoupSession *http = soup_session_new_with_options("timeout", 10, NULL);
    inbox in;
    inbox_init(&in);
    pw_subscriber *sub = subscribe(&l, &in, NULL, NULL);
    /* While the recording plays, frames keep coming: healthy. */
    gchar *body = NULL;
    unsigned status = 0;
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while ((status = http_get(http, mport, "/healthz", &body)) != 200 && g_get_monotonic_time() < end) {
        g_free(body);
        pw_subscriber_run(sub, 100);
    }
    cr_assert_eq(status, 200, "healthz while frames come: %u %s", status, body);
    g_free(body);
    run_until_finals(sub, &in, 3, 90);
    cr_assert_eq(http_get(http, mport, "/metrics", &body), 200);
    const char *families[] = {"# TYPE platewatch_lane_frames_total counter",
                              "# TYPE platewatch_lane_ocr_latency_seconds histogram",
                              "# TYPE platewatch_lane_capture_to_event_latency_seconds histogram",
                              "platewatch_lane_ocr_latency_seconds_bucket{lane=\"l01\",le=\"+Inf\"}",
                              "platewatch_lane_camera_state{lane=\"l01\",state=\""};
    for (size_t i = 0; i < G_N_ELEMENTS(families); i++)
        cr_assert(strstr(body, families[i]), "no \"%s\" in\n%s", families[i], body);
    cr_assert_eq(sample(body, "platewatch_lane_vehicles_total{lane=\"l01\"}"), 3, "%s", body);
    cr_assert_gt(sample(body, "platewatch_lane_frames_total{lane=\"l01\"}"), 0);
    cr_assert_gt(sample(body, "platewatch_lane_ocr_latency_seconds_count{lane=\"l01\"}"), 0);
    cr_assert_geq(sample(body, "platewatch_lane_events_published_total{lane=\"l01\"}"), in.kinds->len);
    cr_assert_gt(sample(body, "platewatch_lane_journal_size_bytes{lane=\"l01\"}"), 0);
    cr_assert_geq(sample(body, "platewatch_lane_subscribers{lane=\"l01\"}"), 1, "the test's subscriber");
    g_free(body);
    /* The recording has ended: no frame within the stall timeout is unhealthy. */
    end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while ((status = http_get(http, mport, "/healthz", &body)) == 200 && g_get_monotonic_time() < end) {
        g_free(body);
        g_usleep(200 * 1000);
    }
    cr_assert_eq(status, 503, "healthz after the frames stopped: %u", status);
    cr_assert(strstr(body, "lane l01"), "%s", body);
    g_free(body);
    cr_assert_eq(http_get(http, mport, "/nothing", &body), 404);
    g_free(body);
    g_subprocess_send_signal(d, SIGTERM);
    cr_assert_eq(wait_exit(d), 0);
    pw_subscriber_destroy(&sub);
    inbox_clear(&in);
    g_object_unref(http);
    g_object_unref(d);
    g_free(config), g_free(extra), g_free(uri), g_free(clip);
}

Test(daemon, a_bad_metrics_address_is_named, .init = setup, .fini = teardown, .timeout = 60)
{
    gchar *log = NULL;
    cr_assert_eq(run_config("[site]\nid = t\n[security]\nallow_plain = true\n[metrics]\nlisten = somewhere\n"
                            "[lane a]\nsource = testsrc://\npublish = tcp://127.0.0.1:1\n"
                            "replay = tcp://127.0.0.1:2\njournal = /tmp/x\n", &log), 2);
    cr_assert(strstr(log, "[metrics]") && strstr(log, "somewhere"), "%s", log);
    g_free(log);
}
