/*
 * test_decide.c - the decision table: read/declaration pairs with the
 * expected decision, through pw_gate_handle_json() on a real store file.
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_test_util.h"

#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <string.h>

typedef struct {
    const char *ref, *vehicle, *trailer, *country, *lane;
} decl_spec;

typedef struct {
    const char *name;
    decl_spec decls[3];
    gt_event ev;
    pw_gate_verdict want;
    const char *reason;
    const char *want_ref;    /* the matched declaration, NULL for none */
} row;

#define T_OUT (GT_NOW_US + 3 * GT_HOUR_US)

static const row table[] = {
    {"exact", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "AB12CDE"},
     PW_GATE_RELEASE, "match", "M1"},
    {"spaces and case in the read", {{"M1", "AB12CDE", NULL, "GB", NULL}},
     {.plate = "ab12 cde"}, PW_GATE_RELEASE, "match", "M1"},
    {"one confusion B/8", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "A812CDE"},
     PW_GATE_RELEASE, "match", "M1"},
    {"two confusions", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "A812C0E"},
     PW_GATE_MANUAL, "uncertain_match", "M1"},
    {"one other substitution", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "AB12CDF"},
     PW_GATE_MANUAL, "uncertain_match", "M1"},
    {"one character missing", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "AB12CE"},
     PW_GATE_MANUAL, "uncertain_match", "M1"},
    {"one character too many", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "AB123CDE"},
     PW_GATE_MANUAL, "uncertain_match", "M1"},
    {"two other edits", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "AB12CXY"},
     PW_GATE_HOLD, "no_declaration", NULL},
    {"wrong country", {{"M1", "AB12CDE", NULL, "GB", NULL}},
     {.plate = "AB12CDE", .country = "FR"}, PW_GATE_HOLD, "country_mismatch", NULL},
    {"read without country", {{"M1", "AB12CDE", NULL, "GB", NULL}},
     {.plate = "AB12CDE", .country = ""}, PW_GATE_RELEASE, "match", "M1"},
    {"outside the window", {{"M1", "AB12CDE", NULL, "GB", NULL}},
     {.plate = "AB12CDE", .first_seen_us = T_OUT}, PW_GATE_HOLD, "outside_window", NULL},
    {"no declaration", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "ZZ99XYW"},
     PW_GATE_HOLD, "no_declaration", NULL},
    {"empty store", {{NULL}}, {.plate = "AB12CDE"}, PW_GATE_HOLD, "no_declaration", NULL},
    {"two candidates", {{"M1", "AB12CDE", NULL, "GB", NULL}, {"M2", "XX11XXX", "AB12CDE",
                                                              "GB", NULL}},
     {.plate = "AB12CDE"}, PW_GATE_HOLD, "conflicting_declarations", NULL},
    {"two candidates, one confusion apart", {{"M1", "AB12CDE", NULL, "GB", NULL},
                                             {"M2", "A812CDE", NULL, "GB", NULL}},
     {.plate = "AB12CDE"}, PW_GATE_HOLD, "conflicting_declarations", NULL},
    {"runner-up too close", {{"M1", "AB12CDE", NULL, "GB", NULL},
                             {"M2", "A812CDF", NULL, "GB", NULL}},
     {.plate = "A812CDE"}, PW_GATE_MANUAL, "ambiguous_match", "M1"},
    {"runner-up far enough", {{"M1", "AB12CDE", NULL, "GB", NULL},
                              {"M2", "AB12CDF", NULL, "GB", NULL}},
     {.plate = "AB12CDE"}, PW_GATE_RELEASE, "match", "M1"},
    {"declaration for another lane", {{"M1", "AB12CDE", NULL, "GB", "l04"}},
     {.plate = "AB12CDE"}, PW_GATE_HOLD, "other_lane", NULL},
    {"declaration for this lane", {{"M1", "AB12CDE", NULL, "GB", "l03"}},
     {.plate = "AB12CDE"}, PW_GATE_RELEASE, "match", "M1"},
    {"trailer plate", {{"M1", "AB12CDE", "XY99 ZZ", "GB", NULL}}, {.plate = "XY992Z"},
     PW_GATE_RELEASE, "match", "M1"},
    {"low confidence", {{"M1", "AB12CDE", NULL, "GB", NULL}},
     {.plate = "AB12CDE", .confidence = 0.4}, PW_GATE_MANUAL, "low_confidence", "M1"},
    {"alternative reading", {{"M1", "AB12CDE", NULL, "GB", NULL}},
     {.plate = "AB12CDF", .alt = "AB12CDE"}, PW_GATE_RELEASE, "match", "M1"},
    {"unreadable plate", {{"M1", "AB12CDE", NULL, "GB", NULL}}, {.plate = "#?"},
     PW_GATE_HOLD, "unreadable_plate", NULL},
};

static pw_gate *open_gate(const char *dir, pw_gate_config *cfg)
{
    char *path = g_build_filename(dir, "gate.db", NULL);
    pw_gate_config_defaults(cfg);
    cfg->store_path = path;
    pw_gate *g = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_new(cfg, &g, &err), 0, "%s", err.msg);
    g_free(path);
    return g;
}

static void add_decls(const char *dir, const decl_spec *ds, int n)
{
    char *path = g_build_filename(dir, "gate.db", NULL);
    pw_declstore *st = NULL;
    cr_assert_eq(pw_declstore_new(path, &st, NULL), 0);
    for (int i = 0; i < n && ds[i].ref; i++)
        gt_add(st, ds[i].ref, ds[i].vehicle, ds[i].trailer, ds[i].country, ds[i].lane);
    pw_declstore_destroy(&st);
    g_free(path);
}

static JsonObject *parse_obj(JsonParser *p, const char *json)
{
    cr_assert(json_parser_load_from_data(p, json, -1, NULL), "not JSON: %s", json);
    return json_node_get_object(json_parser_get_root(p));
}

static void check_row(const row *r)
{
    char *dir = gt_tmpdir();
    add_decls(dir, r->decls, 3);
    pw_gate_config cfg;
    pw_gate *g = open_gate(dir, &cfg);
    char *json = gt_event_json(&r->ev);
    pw_gate_result res;
    pw_err err = {0};
    cr_assert_eq(pw_gate_handle_json(g, json, strlen(json), &res, &err), 0, "%s: %s",
                 r->name, err.msg);
    JsonParser *p = json_parser_new();
    JsonObject *o = parse_obj(p, res.json);
    cr_expect_eq(res.verdict, r->want, "%s: got %s (%s), want %s", r->name,
                 pw_gate_verdict_name(res.verdict),
                 json_object_get_string_member(o, "reason"), pw_gate_verdict_name(r->want));
    cr_expect_str_eq(json_object_get_string_member(o, "reason"), r->reason, "%s", r->name);
    JsonNode *decl = json_object_get_member(o, "declaration");
    if (r->want_ref) {
        JsonObject *d = json_node_get_object(decl);
        cr_expect_str_eq(json_object_get_string_member(d, "reference"), r->want_ref, "%s", r->name);
        /* A released declaration was neither excluded nor used before: both members are null. */
        if (r->want == PW_GATE_RELEASE)
            cr_expect(JSON_NODE_HOLDS_NULL(json_object_get_member(d, "excluded")) &&
                          JSON_NODE_HOLDS_NULL(json_object_get_member(d, "used_by")),
                      "%s: excluded or used_by is not null", r->name);
    } else
        cr_expect(JSON_NODE_HOLDS_NULL(decl), "%s: a declaration was matched", r->name);
    cr_expect(json_object_has_member(o, "thresholds"), "%s", r->name);
    g_object_unref(p);
    pw_gate_result_clear(&res);
    g_free(json);
    pw_gate_destroy(&g);
    cr_assert_null(g);
    gt_rmdir(dir);
}

Test(decide, table)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        check_row(&table[i]);
}

static int64_t audit_rows(const char *dir)
{
    char *path = g_build_filename(dir, "gate.db", NULL);
    sqlite3 *db;
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM decisions", -1, &s, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    g_free(path);
    return n;
}

static void decide(pw_gate *g, const char *json, pw_gate_verdict want, bool dup,
                   const char *reason)
{
    pw_gate_result res;
    pw_err err = {0};
    cr_assert_eq(pw_gate_handle_json(g, json, strlen(json), &res, &err), 0, "%s", err.msg);
    cr_assert_eq(res.verdict, want, "got %s in %s", pw_gate_verdict_name(res.verdict),
                 res.json);
    cr_assert_eq(res.duplicate, dup);
    if (reason)
        cr_assert(strstr(res.json, reason), "want %s in %s", reason, res.json);
    pw_gate_result_clear(&res);
}

Test(decide, duplicate_event_is_decided_once)
{
    char *dir = gt_tmpdir();
    decl_spec d[] = {{"M1", "AB12CDE", NULL, "GB", NULL}};
    add_decls(dir, d, 1);
    pw_gate_config cfg;
    pw_gate *g = open_gate(dir, &cfg);
    char *json = gt_event_json(&(gt_event){.plate = "AB12CDE"});
    decide(g, json, PW_GATE_RELEASE, false, NULL);
    decide(g, json, PW_GATE_RELEASE, true, NULL);
    pw_gate_destroy(&g);
    /* Also after a restart of the controller. */
    g = open_gate(dir, &cfg);
    decide(g, json, PW_GATE_RELEASE, true, NULL);
    pw_gate_counters c;
    pw_gate_get_counters(g, &c);
    cr_assert_eq(c.duplicates, 1);
    cr_assert_eq(c.decisions, 0);
    pw_gate_destroy(&g);
    cr_assert_eq(audit_rows(dir), 1);
    g_free(json);
    gt_rmdir(dir);
}

Test(decide, second_vehicle_same_plate_goes_to_manual)
{
    char *dir = gt_tmpdir();
    decl_spec d[] = {{"M1", "AB12CDE", NULL, "GB", NULL}};
    add_decls(dir, d, 1);
    pw_gate_config cfg;
    pw_gate *g = open_gate(dir, &cfg);
    char *first = gt_event_json(&(gt_event){.plate = "AB12CDE", .seq = 1});
    /* The same vehicle's final event (same camera and first_seen) may release again. */
    char *final = gt_event_json(&(gt_event){.kind = "vehicle.final", .plate = "AB12CDE",
                                            .seq = 2});
    char *second = gt_event_json(&(gt_event){.plate = "AB12CDE", .seq = 3,
                                             .first_seen_us = GT_NOW_US + 60 * G_USEC_PER_SEC});
    char *update = gt_event_json(&(gt_event){.kind = "vehicle.update", .plate = "AB12CDE",
                                             .seq = 4});
    decide(g, first, PW_GATE_RELEASE, false, NULL);
    decide(g, final, PW_GATE_RELEASE, false, NULL);
    decide(g, second, PW_GATE_MANUAL, false, "declaration_already_used");
    pw_gate_result res;
    cr_assert_eq(pw_gate_handle_json(g, update, strlen(update), &res, NULL), 0);
    cr_assert_eq(res.verdict, 0, "vehicle.update is not decided");
    pw_gate_result_clear(&res);
    pw_gate_destroy(&g);
    cr_assert_eq(audit_rows(dir), 3);
    g_free(first);
    g_free(final);
    g_free(second);
    g_free(update);
    gt_rmdir(dir);
}

Test(decide, malformed_events_are_refused)
{
    char *dir = gt_tmpdir();
    pw_gate_config cfg;
    pw_gate *g = open_gate(dir, &cfg);
    const char *bad[] = {"not json", "[]", "{\"kind\":\"vehicle.new\"}",
                         "{\"kind\":\"bogus\"}"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        pw_gate_result res;
        pw_err err = {0};
        cr_assert_eq(pw_gate_handle_json(g, bad[i], strlen(bad[i]), &res, &err), PW_EMSG,
                     "%s", bad[i]);
        cr_assert_neq(err.msg[0], '\0');
        pw_gate_result_clear(&res);
    }
    char *json = gt_event_json(&(gt_event){.plate = "AB12CDE", .confidence = 1.5});
    cr_assert_eq(pw_gate_handle_json(g, json, strlen(json), &(pw_gate_result){0}, NULL),
                 PW_EMSG);
    g_free(json);
    pw_gate_destroy(&g);
    cr_assert_eq(audit_rows(dir), 0);
    gt_rmdir(dir);
}

Test(decide, config_checks)
{
    pw_gate_config cfg;
    pw_gate_config_defaults(&cfg);
    pw_err err = {0};
    cr_assert_eq(pw_gate_config_check(&cfg, &err), PW_ECONFIG, "no store");
    cfg.store_path = "/tmp/x.db";
    cr_assert_eq(pw_gate_config_check(&cfg, &err), 0, "%s", err.msg);
    cfg.th.manual_distance = 2.5;
    cr_assert_eq(pw_gate_config_check(&cfg, &err), PW_ECONFIG);
    cr_assert(strstr(err.msg, "manual_distance"));
    pw_gate_config_defaults(&cfg);
    cfg.store_path = "/tmp/x.db";
    cfg.events_endpoint = "tcp://127.0.0.1:1";
    cr_assert_eq(pw_gate_config_check(&cfg, &err), PW_ECONFIG, "keys or allow_plain");
}

Test(decide, settings_file)
{
    char *dir = gt_tmpdir();
    char *path = g_build_filename(dir, "gate.conf", NULL);
    cr_assert(g_file_set_contents(path, "[gate]\nstore=/var/lib/x.db\n"
                                        "[thresholds]\nrelease_distance=0.2\n"
                                        "window_grace_s=600\n", -1, NULL));
    pw_gate_settings *s = NULL;
    pw_err err = {0};
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), 0, "%s", err.msg);
    pw_gate_config *c = pw_gate_settings_config(s);
    cr_assert_str_eq(c->store_path, "/var/lib/x.db");
    cr_assert_float_eq(c->th.release_distance, 0.2, 1e-9);
    cr_assert_eq(c->th.window_grace_s, 600);
    cr_assert_float_eq(c->th.min_confidence, 0.6, 1e-9, "default kept");
    pw_gate_settings_destroy(&s);
    cr_assert(g_file_set_contents(path, "[thresholds]\nmin_confidence=high\n", -1, NULL));
    cr_assert_eq(pw_gate_settings_load(path, &s, &err), PW_ECONFIG);
    cr_assert(strstr(err.msg, "min_confidence"), "%s", err.msg);
    cr_assert_null(s);
    g_free(path);
    gt_rmdir(dir);
}
