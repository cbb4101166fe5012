/*
 * cmd_publish.c - `platewatch keygen`, `tail` and `stats`: the command-line
 * face of publish/ (key files, and the subscriber library printing events
 * or lane counters).
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"
#include "publish.h"
#include "subscriber.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- keygen ---- */

int pw_cmd_keygen(int argc, char **argv)
{
    GOptionEntry entries[] = {{NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new(
        "NAME - write a CURVE key pair: NAME.pub (public, give it to peers) and NAME.key "
        "(secret, mode 0600)");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    gboolean ok = g_option_context_parse(ctx, &argc, &argv, &gerr);
    g_option_context_free(ctx);
    if (!ok || argc != 2) {
        fprintf(stderr, "platewatch keygen: %s\n",
                gerr ? gerr->message : "expected exactly one NAME (see --help)");
        g_clear_error(&gerr);
        return 2;
    }
    pw_err err;
    pw_err_clear(&err);
    if (pw_keygen(argv[1], &err) != 0) {
        fprintf(stderr, "platewatch keygen: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s.pub and %s.key\n", argv[1], argv[1]);
    return 0;
}

/* ---- shared subscriber options ---- */

typedef struct {
    char *connect;
    char *replay;
    char *prefix;
    char *server_key;
    char *client_key;
    gboolean plain;
    gboolean from_start;
    char **kinds;
    char *state;
    gboolean text;
    int count;
    int seconds;
} sub_opts;

static void sub_opts_free(sub_opts *o)
{
    g_free(o->connect);
    g_free(o->replay);
    g_free(o->prefix);
    g_free(o->server_key);
    g_free(o->client_key);
    g_strfreev(o->kinds);
    g_free(o->state);
}

static void add_sub_entries(GOptionContext *ctx, sub_opts *o, bool with_kinds)
{
    GOptionEntry common[] = {
        {"connect", 'c', 0, G_OPTION_ARG_STRING, &o->connect,
         "PUB endpoint of a lane or forwarder (required)", "ENDPOINT"},
        {"replay", 'r', 0, G_OPTION_ARG_STRING, &o->replay,
         "replay endpoint; without it gaps are only counted", "ENDPOINT"},
        {"prefix", 'p', 0, G_OPTION_ARG_STRING, &o->prefix,
         "topic prefix (default plate.)", "PREFIX"},
        {"server-key", 0, 0, G_OPTION_ARG_FILENAME, &o->server_key,
         "the server's public key file (.pub)", "FILE"},
        {"key", 'k', 0, G_OPTION_ARG_FILENAME, &o->client_key,
         "this client's secret key file (.key, mode 0600)", "FILE"},
        {"plain", 0, 0, G_OPTION_ARG_NONE, &o->plain,
         "allow unencrypted plain TCP (no keys)", NULL},
        {"count", 'n', 0, G_OPTION_ARG_INT, &o->count,
         "exit after this many events", "N"},
        {"seconds", 't', 0, G_OPTION_ARG_INT, &o->seconds,
         "exit after this many seconds", "S"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionEntry tail_only[] = {
        {"kind", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->kinds,
         "only this kind (repeatable): vehicle.new, vehicle.update, vehicle.final, heartbeat, "
         "stats", "KIND"},
        {"from-start", 0, 0, G_OPTION_ARG_NONE, &o->from_start,
         "replay each lane's whole journal first", NULL},
        {"state", 's', 0, G_OPTION_ARG_FILENAME, &o->state,
         "remember the last sequence per stream here and resume from it", "FILE"},
        {"text", 0, 0, G_OPTION_ARG_NONE, &o->text,
         "one readable line per vehicle event instead of its JSON", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    g_option_context_add_main_entries(ctx, common, NULL);
    if (with_kinds)
        g_option_context_add_main_entries(ctx, tail_only, NULL);
}

static int parse_kinds(char **names, unsigned *mask)
{
    *mask = 0;
    for (char **n = names; n && *n; n++) {
        pw_event_kind k;
        if (pw_event_kind_parse(*n, &k) != 0) {
            fprintf(stderr, "platewatch: unknown event kind '%s'\n", *n);
            return -1;
        }
        *mask |= PW_KIND_BIT(k);
    }
    return 0;
}

static pw_subscriber_config sub_config(const sub_opts *o, unsigned kinds)
{
    pw_subscriber_config cfg = {
        .pub_endpoint = o->connect,
        .replay_endpoint = o->replay,
        .prefix = o->prefix,
        .kinds = kinds,
        .backfill_new_streams = o->from_start,
        .server_public_key_file = o->server_key,
        .client_secret_key_file = o->client_key,
        .allow_plain = o->plain,
    };
    return cfg;
}

/* What the callbacks share with the command loop. */
typedef struct {
    pw_subscriber *sub;
    GKeyFile *state;
    const char *state_path;
    int text;
    int count;
    int seen;
} run_ctx;

/*
 * Runs the subscriber until count events, the time limit or SIGINT/SIGTERM.
 * The signals are blocked and polled, so no handler or global flag is needed.
 */
static int run_loop(run_ctx *rc, int seconds)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    int64_t end = seconds > 0 ? g_get_monotonic_time() + (int64_t)seconds * G_USEC_PER_SEC
                              : G_MAXINT64;
    int status = 0;
    struct timespec zero = {0, 0};
    while (g_get_monotonic_time() < end && (rc->count <= 0 || rc->seen < rc->count)) {
        if (sigtimedwait(&set, NULL, &zero) > 0)
            break;
        if (pw_subscriber_run(rc->sub, 200) < 0) {
            fprintf(stderr, "platewatch: %s\n", pw_subscriber_error(rc->sub));
            status = 1;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return status;
}

static int new_subscriber(const char *cmd, const sub_opts *o, unsigned kinds,
                          pw_subscriber_cb cb, run_ctx *rc)
{
    if (!o->connect) {
        fprintf(stderr, "platewatch %s: --connect ENDPOINT is required\n", cmd);
        return 2;
    }
    pw_subscriber_config cfg = sub_config(o, kinds);
    pw_err err;
    pw_err_clear(&err);
    if (pw_subscriber_new(&cfg, cb, rc, &rc->sub, &err) != 0) {
        fprintf(stderr, "platewatch %s: %s\n", cmd, err.msg);
        return 2;
    }
    return 0;
}

/* ---- tail ---- */

static void save_state(run_ctx *rc, const pw_event *ev)
{
    if (!rc->state || ev->seq == 0)
        return;
    g_key_file_set_uint64(rc->state, "streams", ev->stream_id, ev->seq);
    GError *gerr = NULL;
    if (!g_key_file_save_to_file(rc->state, rc->state_path, &gerr)) {
        fprintf(stderr, "platewatch tail: cannot save %s: %s\n", rc->state_path, gerr->message);
        g_error_free(gerr);
    }
}

static void tail_cb(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t n,
                    void *user)
{
    (void)jpeg;
    (void)n;
    run_ctx *rc = user;
    if (rc->text && ev->kind >= PW_EVENT_VEHICLE_NEW && ev->kind <= PW_EVENT_VEHICLE_FINAL)
        printf("#%-5" G_GUINT64_FORMAT " %-14s %s/%s  %-10s %-3s confidence %.2f  frames %3u  latency %.1f ms\n",
               ev->seq, pw_event_kind_name(ev->kind), ev->site, ev->lane, ev->plate,
               ev->country[0] ? ev->country : "-", ev->confidence, ev->frames, ev->latency_ms);
    else if (!rc->text)
        printf("%s\n", json);
    fflush(stdout);
    save_state(rc, ev);
    rc->seen++;
}

static void load_state(run_ctx *rc, const char *path)
{
    rc->state = g_key_file_new();
    rc->state_path = path;
    if (!g_key_file_load_from_file(rc->state, path, G_KEY_FILE_NONE, NULL))
        return;
    gchar **keys = g_key_file_get_keys(rc->state, "streams", NULL, NULL);
    for (gchar **k = keys; k && *k; k++) {
        guint64 seq = g_key_file_get_uint64(rc->state, "streams", *k, NULL);
        if (pw_subscriber_resume(rc->sub, *k, seq) != 0)
            fprintf(stderr, "platewatch tail: %s: ignoring stream '%s'\n", path, *k);
    }
    g_strfreev(keys);
}

int pw_cmd_tail(int argc, char **argv)
{
    sub_opts o = {0};
    GOptionContext *ctx = g_option_context_new("- print plate events (one JSON per line) as "
                                               "they arrive, in order, gaps replayed");
    add_sub_entries(ctx, &o, true);
    GError *gerr = NULL;
    gboolean ok = g_option_context_parse(ctx, &argc, &argv, &gerr);
    g_option_context_free(ctx);
    unsigned kinds = 0;
    run_ctx rc = {0};
    int status = 2;
    if (!ok) {
        fprintf(stderr, "platewatch tail: %s\n", gerr->message);
        g_error_free(gerr);
    } else if (parse_kinds(o.kinds, &kinds) == 0 &&
               (status = new_subscriber("tail", &o, kinds, tail_cb, &rc)) == 0) {
        if (o.state)
            load_state(&rc, o.state);
        rc.count = o.count;
        rc.text = o.text;
        status = run_loop(&rc, o.seconds);
    }
    pw_subscriber_destroy(&rc.sub);
    if (rc.state)
        g_key_file_free(rc.state);
    sub_opts_free(&o);
    return status;
}

/* ---- stats ---- */

static gint64 member_int(JsonObject *o, const char *name)
{
    return o ? json_object_get_int_member_with_default(o, name, 0) : 0;
}

static JsonObject *member_object(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static void print_named(JsonObject *group, const char *title, const char *a, const char *b)
{
    if (!group)
        return;
    GList *names = json_object_get_members(group);
    for (GList *l = names; l; l = l->next) {
        JsonObject *e = member_object(group, l->data);
        if (!e)
            continue;
        JsonNode *na = json_object_get_member(e, a), *nb = json_object_get_member(e, b);
        printf("    %-6s %-12s %s %8.2f  %s %8.2f\n", title, (const char *)l->data, a,
               na && JSON_NODE_HOLDS_VALUE(na) ? json_node_get_double(na) : 0.0, b,
               nb && JSON_NODE_HOLDS_VALUE(nb) ? json_node_get_double(nb) : 0.0);
    }
    g_list_free(names);
}

static const char *member_string(JsonObject *o, const char *name, const char *fallback)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n) : fallback;
}

/* The lane's health view: camera state, newest frame, restarts and the latest error. */
static void print_health(JsonObject *h)
{
    if (!h) /* a publisher older than the health view */
        return;
    const char *error = member_string(h, "last_error", "");
    printf("    camera %-8s last frame %s  restarts %" G_GINT64_FORMAT "%s%s\n",
           member_string(h, "state", "?"), member_string(h, "last_frame_at", "never"),
           member_int(h, "restarts"), *error ? "  last error: " : "", error);
}

static void stats_cb(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t n,
                     void *user)
{
    (void)json;
    (void)jpeg;
    (void)n;
    run_ctx *rc = user;
    JsonParser *parser = json_parser_new();
    if (ev->counters_json && json_parser_load_from_data(parser, ev->counters_json, -1, NULL)) {
        JsonObject *c = json_node_get_object(json_parser_get_root(parser));
        JsonObject *p = member_object(c, "publisher");
        printf("%s/%s/%s  frames_in %" G_GINT64_FORMAT "  dropped %" G_GINT64_FORMAT
               "  reads %" G_GINT64_FORMAT "  events %" G_GINT64_FORMAT "  reconnects %"
               G_GINT64_FORMAT "  last_seq %" G_GINT64_FORMAT "  replays %" G_GINT64_FORMAT
               "  auth_denied %" G_GINT64_FORMAT "\n",
               ev->site, ev->lane, ev->camera, member_int(c, "frames_in"),
               member_int(c, "frames_dropped"), member_int(c, "reads"), member_int(c, "events"),
               member_int(c, "reconnects"), member_int(p, "last_seq"),
               member_int(p, "replay_requests"), member_int(p, "auth_denied"));
        print_health(member_object(c, "health"));
        print_named(member_object(c, "stages"), "stage", "p50_ms", "p99_ms");
        print_named(member_object(c, "queues"), "queue", "depth", "capacity");
        fflush(stdout);
    }
    g_object_unref(parser);
    rc->seen++;
}

int pw_cmd_stats(int argc, char **argv)
{
    sub_opts o = {0};
    GOptionContext *ctx = g_option_context_new("- print the periodic per-lane counters "
                                               "(stats events) of lanes or forwarders");
    add_sub_entries(ctx, &o, false);
    GError *gerr = NULL;
    gboolean ok = g_option_context_parse(ctx, &argc, &argv, &gerr);
    g_option_context_free(ctx);
    run_ctx rc = {0};
    int status = 2;
    if (!ok) {
        fprintf(stderr, "platewatch stats: %s\n", gerr->message);
        g_error_free(gerr);
    } else if ((status = new_subscriber("stats", &o, PW_KIND_BIT(PW_EVENT_STATS), stats_cb,
                                        &rc)) == 0) {
        rc.count = o.count;
        rc.text = o.text;
        status = run_loop(&rc, o.seconds);
    }
    pw_subscriber_destroy(&rc.sub);
    sub_opts_free(&o);
    return status;
}
