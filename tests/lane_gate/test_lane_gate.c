/*
 * A real lane's events at the gate: platewatchd reads a generated drive-by
 * recording and publishes vehicle events with the alternatives its tracker
 * voted; the lane controller, subscribed through the subscriber library,
 * decides them. The declaration is made from an alternative the lane
 * actually published and far from its consensus, so that only the
 * alternative can match it: the release, its evidence ("via":"alternative",
 * the distance alternative_penalty) and the control (the same event without
 * alternatives is not released) show the gate's alternative matching at
 * work on what a lane sends. Paths of the programs come from the
 * environment (PW_PLATEWATCHD, PW_SYNTH).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "declstore.h"
#include "gate.h"
#include "pwtest.h"
#include "subscriber.h"

#define PLATES "AB-123-CD:FR,WX 48213:PL"
#define N_PLATES 2

static char *tmpdir;

static void setup(void)
{
    tmpdir = pwtest_tmpdir("pw-lane-gate");
}

static void teardown(void)
{
    pwtest_rmtree(&tmpdir);
}

/* Starts platewatchd on the clip; it keeps serving replay after the clip ends. */
static GSubprocess *start_daemon(const char *clip, int pub_port, int replay_port)
{
    gchar *config = g_build_filename(tmpdir, "d.conf", NULL);
    gchar *text = g_strdup_printf("[site]\nid = test\n\n[security]\nallow_plain = true\n\n"
                                  "[lane l01]\nsource = file://%s\ncountries = FR,PL\n"
                                  "publish = tcp://127.0.0.1:%d\nreplay = tcp://127.0.0.1:%d\n"
                                  "journal = %s/l01.journal\nfinal_after_ms = 600\npace = false\n",
                                  clip, pub_port, replay_port, tmpdir);
    cr_assert(g_file_set_contents(config, text, -1, NULL));
    GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    gchar *log = g_build_filename(tmpdir, "d.log", NULL);
    g_subprocess_launcher_set_stderr_file_path(l, log);
    const char *argv[] = {g_getenv("PW_PLATEWATCHD"), "--config", config, NULL};
    cr_assert_not_null(argv[0], "PW_PLATEWATCHD is not set");
    GError *gerr = NULL;
    GSubprocess *p = g_subprocess_launcher_spawnv(l, argv, &gerr);
    cr_assert_not_null(p, "spawn: %s", gerr ? gerr->message : "");
    g_object_unref(l);
    g_free(log);
    g_free(text);
    g_free(config);
    return p;
}

/* The vehicle events the lane published, as the subscriber library parsed them. */
typedef struct {
    GArray *events; /* of pw_event */
    int finals;
} inbox;

static void inbox_cb(const pw_event *ev, const char *json, const uint8_t *jpeg, size_t jpeg_len, void *user)
{
    inbox *in = user;
    (void)json, (void)jpeg, (void)jpeg_len;
    if (ev->kind != PW_EVENT_VEHICLE_NEW && ev->kind != PW_EVENT_VEHICLE_FINAL)
        return;
    pw_event copy = *ev; /* vehicle events own nothing outside the struct */
    g_array_append_val(in->events, copy);
    in->finals += ev->kind == PW_EVENT_VEHICLE_FINAL;
}

static void collect_events(const char *pub, const char *replay, inbox *in)
{
    pw_subscriber_config sc = {.pub_endpoint = pub, .replay_endpoint = replay, .backfill_new_streams = true,
                               .allow_plain = true};
    pw_subscriber *sub = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_subscriber_new(&sc, inbox_cb, in, &sub, &err), 0, "%s", err.msg);
    gint64 end = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    while (in->finals < N_PLATES && g_get_monotonic_time() < end)
        pw_subscriber_run(sub, 100);
    pw_subscriber_destroy(&sub);
}

/*
 * An event and one of its alternatives that the consensus alone would not
 * release (farther than release_distance), on a confident read, so that a
 * release can only come through the alternative.
 */
static const pw_event *pick(const inbox *in, const pw_gate_thresholds *th, char *alt, size_t size)
{
    const pw_event *found = NULL;
    for (guint i = 0; i < in->events->len; i++) {
        const pw_event *ev = &g_array_index(in->events, pw_event, i);
        char plate[PW_PLATE_MAX + 1];
        if (ev->confidence < th->min_confidence || pw_plate_normalise(ev->plate, plate, sizeof plate) < 0)
            continue;
        for (size_t k = 0; k < ev->n_alts; k++) {
            char norm[PW_PLATE_MAX + 1];
            if (pw_plate_normalise(ev->alts[k].text, norm, sizeof norm) < 0 ||
                pw_plate_distance(plate, norm, th->confusion_cost) <= th->release_distance)
                continue;
            /* A vehicle.final is the passage's last word: preferred when there is one. */
            if (!found || (found->kind != PW_EVENT_VEHICLE_FINAL && ev->kind == PW_EVENT_VEHICLE_FINAL)) {
                found = ev;
                g_strlcpy(alt, norm, size);
            }
            break;
        }
    }
    return found;
}

static char *store_with_declaration(const char *name, const char *plate, const char *country)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    pw_declstore *st = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_declstore_new(path, &st, &err), 0, "%s", err.msg);
    pw_decl d = {0};
    g_strlcpy(d.reference, "ALT-1", sizeof d.reference);
    g_strlcpy(d.vehicle_plate, plate, sizeof d.vehicle_plate);
    /* Declarations name ISO 3166 alpha-2 countries; any other code is left open. */
    g_strlcpy(d.country, strlen(country) == 2 ? country : "", sizeof d.country);
    d.window_start_us = g_get_real_time() - INT64_C(3600) * G_USEC_PER_SEC;
    d.window_end_us = g_get_real_time() + INT64_C(3600) * G_USEC_PER_SEC;
    cr_assert_eq(pw_declstore_add(st, &d, &err), 0, "%s", err.msg);
    pw_declstore_destroy(&st);
    return path;
}

typedef struct {
    const char *event_id;
    char *json; /* the decision for event_id */
} wanted;

static void on_decision(pw_gate_verdict v, const char *json, void *user)
{
    wanted *w = user;
    (void)v;
    if (!w->json && strstr(json, w->event_id))
        w->json = g_strdup(json);
}

/* The gate's decision for the chosen event, received through the subscriber library. */
static char *gate_decision(const char *store, const char *pub, const char *replay, const char *event_id)
{
    pw_gate_config cfg;
    pw_gate_config_defaults(&cfg);
    wanted w = {event_id, NULL};
    cfg.store_path = store;
    cfg.events_endpoint = pub;
    cfg.replay_endpoint = replay;
    cfg.allow_plain = true;
    cfg.backfill = true; /* the events were published before the gate started */
    cfg.on_decision = on_decision;
    cfg.user = &w;
    pw_gate *g = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_new(&cfg, &g, &err), 0, "%s", err.msg);
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (!w.json && g_get_monotonic_time() < end)
        cr_assert_geq(pw_gate_run(g, 200, &err), 0, "%s", err.msg);
    pw_gate_counters c;
    pw_gate_get_counters(g, &c);
    cr_expect_eq(c.malformed, 0, "the gate refused events the lane published");
    pw_gate_destroy(&g);
    cr_assert_not_null(w.json, "no decision for event %s within 60 s", event_id);
    return w.json;
}

static JsonObject *member_object(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    cr_assert(n && JSON_NODE_HOLDS_OBJECT(n), "no object \"%s\"", name);
    return json_node_get_object(n);
}

static int has_alternative(JsonObject *read, const char *text)
{
    JsonArray *a = json_object_get_array_member(read, "alternatives");
    for (guint i = 0; i < json_array_get_length(a); i++)
        if (!strcmp(json_object_get_string_member(json_array_get_object_element(a, i), "text"), text))
            return 1;
    return 0;
}

Test(lane_gate, a_declaration_matching_only_an_alternative_is_released, .init = setup, .fini = teardown,
     .timeout = 300)
{
    gchar *clip = pwtest_drive_clip(tmpdir, "lane.avi", PLATES);
    int pub_port = pwtest_free_port(), replay_port = pwtest_free_port();
    gchar *pub = g_strdup_printf("tcp://127.0.0.1:%d", pub_port);
    gchar *replay = g_strdup_printf("tcp://127.0.0.1:%d", replay_port);
    GSubprocess *d = start_daemon(clip, pub_port, replay_port);
    inbox in = {g_array_new(FALSE, FALSE, sizeof(pw_event)), 0};
    collect_events(pub, replay, &in);
    cr_assert_geq(in.finals, 1, "the lane published no vehicle.final");

    pw_gate_config defaults;
    pw_gate_config_defaults(&defaults);
    char alt[PW_PLATE_MAX + 1];
    const pw_event *ev = pick(&in, &defaults.th, alt, sizeof alt);
    cr_assert_not_null(ev, "no confident event with an alternative farther than %g from its consensus",
                       defaults.th.release_distance);
    cr_assert_eq(ev->n_char_conf, strlen(ev->plate), "per-character confidences of %s", ev->plate);

    char *store = store_with_declaration("gate.db", alt, ev->country);
    char *json = gate_decision(store, pub, replay, ev->event_id);
    cr_log_info("declared %s; decision: %s", alt, json);
    JsonParser *p = json_parser_new();
    cr_assert(json_parser_load_from_data(p, json, -1, NULL), "%s", json);
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    cr_expect_str_eq(json_object_get_string_member(o, "decision"), "RELEASE", "%s", json);
    cr_expect_str_eq(json_object_get_string_member(o, "reason"), "match", "%s", json);
    JsonObject *decl = member_object(o, "declaration");
    cr_expect_str_eq(json_object_get_string_member(decl, "reference"), "ALT-1");
    cr_expect_str_eq(json_object_get_string_member(decl, "via"), "alternative", "%s", json);
    cr_expect_float_eq(json_object_get_double_member(decl, "distance"), defaults.th.alternative_penalty, 1e-9,
                       "%s", json);
    JsonObject *read = member_object(o, "read");
    cr_expect(has_alternative(read, alt), "the evidence lists the alternative %s: %s", alt, json);
    cr_expect_eq(json_array_get_length(json_object_get_array_member(read, "char_confidences")),
                 strlen(ev->plate), "%s", json);

    /* Control: the same event without its alternatives, as an older publisher sent it, is not released. */
    pw_event bare = *ev;
    bare.n_alts = 0;
    char *store2 = store_with_declaration("control.db", alt, ev->country);
    pw_gate_config cfg;
    pw_gate_config_defaults(&cfg);
    cfg.store_path = store2;
    pw_gate *g = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_new(&cfg, &g, &err), 0, "%s", err.msg);
    pw_gate_result res;
    cr_assert_eq(pw_gate_handle_event(g, &bare, NULL, 0, &res, &err), 0, "%s", err.msg);
    cr_expect_neq(res.verdict, PW_GATE_RELEASE, "released without the alternative: %s", res.json);
    pw_gate_result_clear(&res);
    pw_gate_destroy(&g);

    g_subprocess_send_signal(d, SIGTERM);
    g_subprocess_wait(d, NULL, NULL);
    g_object_unref(d);
    g_object_unref(p);
    g_free(json);
    g_free(store);
    g_free(store2);
    g_array_free(in.events, TRUE);
    g_free(pub);
    g_free(replay);
    g_free(clip);
}
