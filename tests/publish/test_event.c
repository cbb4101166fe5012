/*
 * test_event.c - the event JSON: round trip, refusal of malformed events,
 * and validation of real published events against docs/event.schema.json
 * with python3-jsonschema (Debian package; see scripts/packages.txt).
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers.h"
#include "publish_internal.h"

#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <string.h>

static const char *validator =
    "import json, sys\n"
    "import jsonschema\n"
    "schema = json.load(open(sys.argv[1]))\n"
    "cls = jsonschema.validators.validator_for(schema)\n"
    "cls.check_schema(schema)\n"
    "v = cls(schema)\n"
    "bad = 0\n"
    "for p in sys.argv[2:]:\n"
    "    for e in v.iter_errors(json.load(open(p))):\n"
    "        print(p, '/'.join(map(str, e.path)), e.message)\n"
    "        bad += 1\n"
    "sys.exit(1 if bad else 0)\n";

/* Validates each JSON text; returns the validator's exit status (0 = all valid). */
static int validate(GPtrArray *jsons, char **output)
{
    char *dir = tmp_dir();
    const char *src = g_getenv("PW_SOURCE_DIR") ? g_getenv("PW_SOURCE_DIR") : PW_SOURCE_ROOT;
    char *schema = g_build_filename(src, "docs", "event.schema.json", NULL);
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup("/usr/bin/python3"));
    g_ptr_array_add(argv, g_strdup("-c"));
    g_ptr_array_add(argv, g_strdup(validator));
    g_ptr_array_add(argv, g_strdup(schema));
    for (guint i = 0; i < jsons->len; i++) {
        char *path = g_strdup_printf("%s/ev%u.json", dir, i);
        cr_assert(g_file_set_contents(path, g_ptr_array_index(jsons, i), -1, NULL));
        g_ptr_array_add(argv, path);
    }
    g_ptr_array_add(argv, NULL);
    int status = -1;
    GError *gerr = NULL;
    char *err_text = NULL;
    cr_assert(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                           output, &err_text, &status, &gerr),
              "cannot run /usr/bin/python3 (install python3-jsonschema): %s",
              gerr ? gerr->message : "?");
    cr_assert(!strstr(err_text, "No module named"), "python3-jsonschema is missing: %s",
              err_text);
    g_free(err_text);
    g_ptr_array_unref(argv);
    g_free(schema);
    rm_tree(dir);
    g_free(dir);
    return g_spawn_check_wait_status(status, NULL) ? 0 : 1;
}

/* make_event() with the fields the publisher fills, so that it can be written as it is. */
static pw_event addressed_event(pw_event_kind kind, const char *plate, uint64_t seq)
{
    pw_event ev = make_event(kind, plate);
    g_strlcpy(ev.event_id, "0b5c7e52-3c6f-4b8e-9d1e-2f7f0c0e9a11", sizeof ev.event_id);
    g_strlcpy(ev.stream_id, "7d0f1a8e-2b43-4a59-8f0e-5b0a6c9d2e31", sizeof ev.stream_id);
    g_strlcpy(ev.instance_id, "c3f8e1d2-9a7b-4c6d-8e5f-1a2b3c4d5e6f", sizeof ev.instance_id);
    g_strlcpy(ev.site, "dover", sizeof ev.site);
    g_strlcpy(ev.lane, "l03", sizeof ev.lane);
    ev.seq = seq;
    return ev;
}

Test(event, json_round_trip, .timeout = 30)
{
    pw_event ev = addressed_event(PW_EVENT_VEHICLE_UPDATE, "AB12 CDE", 42);
    ev.published_us = 1795000000123456;
    ev.latency_ms = 81.5;
    char *json = NULL;
    cr_assert_eq(pw_event_to_json(&ev, &json, NULL), 0);
    pw_event back;
    pw_err err;
    cr_assert_eq(pw_event_from_json(json, strlen(json), &back, &err), 0, "%s", err.msg);
    cr_expect_eq(back.kind, PW_EVENT_VEHICLE_UPDATE);
    cr_expect_eq(back.seq, 42);
    cr_expect_str_eq(back.plate, "AB12 CDE");
    cr_expect_str_eq(back.event_id, ev.event_id);
    cr_expect_eq(back.published_us, ev.published_us);
    cr_expect_eq(back.first_seen_us, ev.first_seen_us);
    cr_expect_eq(back.best_capture_us, ev.best_capture_us);
    cr_expect_eq(back.frames, 12);
    cr_expect_float_eq(back.corners[2][1], 260.0f, 1e-3);
    cr_expect_float_eq(back.confidence, 0.93, 1e-9);
    /* The optional members survive the round trip. */
    cr_assert_eq(back.n_char_conf, strlen("AB12 CDE"));
    for (size_t i = 0; i < back.n_char_conf; i++)
        cr_expect_float_eq(back.char_conf[i], ev.char_conf[i], 1e-6, "char %zu", i);
    cr_assert_eq(back.n_alts, 2);
    cr_expect_str_eq(back.alts[0].text, "AB12CDF");
    cr_expect_float_eq(back.alts[0].confidence, 0.41f, 1e-6);
    cr_expect_str_eq(back.alts[1].text, "A812CDE");
    cr_expect_float_eq(back.alts[1].confidence, 0.2f, 1e-6);
    char topic[128];
    cr_assert_eq(pw_event_topic(&back, topic, sizeof topic), 0);
    cr_expect_str_eq(topic, "plate.dover.l03.vehicle.update");
    cr_expect_eq(pw_event_topic(&back, topic, 8), -ENOSPC);
    pw_event_clear(&back);
    g_free(json);
    ev.kind = PW_EVENT_HEARTBEAT;
    cr_expect_eq(pw_event_to_json(&ev, &json, NULL), -EINVAL);
}

Test(event, malformed_json_is_refused_with_a_reason, .timeout = 30)
{
    const char *bad[] = {
        "", "{", "[]", "null", "{\"schema_version\":\"1\"}",
        "{\"schema_version\":1,\"kind\":\"vehicle.exploded\"}",
        "{\"schema_version\":1,\"kind\":\"heartbeat\",\"stream_id\":\"7d0f1a8e-2b43-4a59-8f0e-"
        "5b0a6c9d2e31\",\"instance_id\":\"7d0f1a8e-2b43-4a59-8f0e-5b0a6c9d2e31\",\"site\":"
        "\"a.b\",\"lane\":\"l\",\"published_at\":\"2026-01-01T00:00:00.000000Z\"}",
        "{\"schema_version\":1,\"kind\":\"heartbeat\",\"stream_id\":\"7d0f1a8e-2b43-4a59-8f0e-"
        "5b0a6c9d2e31\",\"instance_id\":\"7d0f1a8e-2b43-4a59-8f0e-5b0a6c9d2e31\",\"site\":"
        "\"a\",\"lane\":\"l\",\"published_at\":\"yesterday\",\"last_seq\":1,\"first_seq\":1}",
        "{\"schema_version\":1,\"kind\":\"heartbeat\",\"stream_id\":\"7d0f1a8e-2b43-4a59-8f0e-"
        "5b0a6c9d2e31\",\"instance_id\":\"7d0f1a8e-2b43-4a59-8f0e-5b0a6c9d2e31\",\"site\":"
        "\"a\",\"lane\":\"l\",\"published_at\":\"2026-01-01T00:00:00.000000Z\",\"last_seq\":-4,"
        "\"first_seq\":1}",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        pw_event ev;
        pw_err err;
        pw_err_clear(&err);
        cr_expect_eq(pw_event_from_json(bad[i], strlen(bad[i]), &ev, &err), PW_EMSG,
                     "accepted: %s", bad[i]);
        cr_expect_neq(err.msg[0], '\0', "no reason for: %s", bad[i]);
    }
    /* Not NUL-terminated at len: only len bytes are read. */
    cr_expect_eq(pw_event_from_json("{}garbage", 2, &(pw_event){0}, NULL), PW_EMSG);
}

/* Nesting beyond the bound is refused before json-glib's recursive parser sees it. */
Test(event, deeply_nested_json_is_refused_with_a_reason, .timeout = 30)
{
    GString *s = g_string_new("{\"schema_version\":1,\"kind\":\"stats\",\"counters\":");
    for (int i = 0; i < 60000; i++)
        g_string_append(s, "[");
    pw_event ev;
    pw_err err;
    pw_err_clear(&err);
    cr_assert_eq(pw_event_from_json(s->str, s->len, &ev, &err), PW_EMSG);
    cr_expect(strstr(err.msg, "nest deeper than"), "%s", err.msg);
    g_string_free(s, TRUE);
}

/* Real events of every kind, as a subscriber receives them, validate. */
Test(event, published_events_match_the_schema, .timeout = 60)
{
    char *dir = tmp_dir();
    char *journal = g_build_filename(dir, "j.db", NULL);
    pw_publisher_config cfg = plain_pub_config(journal);
    pw_publisher *pub = NULL;
    cr_assert_eq(pw_publisher_new(&cfg, &pub, NULL), 0);
    collector c;
    collector_init(&c);
    pw_subscriber_config scfg = plain_sub_config(pw_publisher_endpoint(pub, "pub"),
                                                 pw_publisher_endpoint(pub, "replay"));
    scfg.backfill_new_streams = true;
    pw_subscriber *sub = NULL;
    cr_assert_eq(pw_subscriber_new(&scfg, collector_cb, &c, &sub, NULL), 0);
    uint8_t jpeg[64] = {0xff, 0xd8};
    for (int k = PW_EVENT_VEHICLE_NEW; k <= PW_EVENT_VEHICLE_FINAL; k++) {
        pw_event ev = make_event(k, "SCH3MA");
        cr_assert_eq(pw_publisher_publish(pub, &ev, k == 3 ? jpeg : NULL, sizeof jpeg, NULL), 0);
    }
    pw_stage_latency stages[] = {{"detect", 4, 9}};
    pw_queue_depth queues[] = {{"ocr_in", 3, 16}};
    pw_lane_health health = {.state = "retrying", .last_frame_us = 1795000000000001, .restarts = 3,
                             .last_error = "source 'rtsp://cam1/' cannot start: refused"};
    pw_lane_stats st = {.frames_in = 10, .stages = stages, .n_stages = 1, .queues = queues,
                        .n_queues = 1, .health = &health};
    int64_t end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while ((c.seqs->len < 3 || c.stats == 0 || c.heartbeats == 0) &&
           g_get_monotonic_time() < end) {
        pw_publisher_publish_stats(pub, "cam1", &st, NULL);
        pw_subscriber_run(sub, 100);
    }
    cr_assert_eq(c.seqs->len, 3);
    cr_assert_gt(c.stats, 0);
    GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < c.jsons->len; i++)
        g_ptr_array_add(all, g_strdup(g_ptr_array_index(c.jsons, i)));
    g_ptr_array_add(all, g_strdup(c.last_stats));
    char *hb = pw_event_heartbeat_json(&(pw_event){.kind = PW_EVENT_HEARTBEAT,
        .stream_id = "7d0f1a8e-2b43-4a59-8f0e-5b0a6c9d2e31",
        .instance_id = "c3f8e1d2-9a7b-4c6d-8e5f-1a2b3c4d5e6f", .site = "dover", .lane = "l03",
        .published_us = 1795000000000001, .last_seq = 7, .first_seq = 1});
    g_ptr_array_add(all, hb);
    char *out = NULL;
    cr_expect_eq(validate(all, &out), 0, "schema violations:\n%s", out);
    g_free(out);

    /* The validator does reject: a confidence above 1 and a missing seq. */
    GPtrArray *bad = g_ptr_array_new_with_free_func(g_free);
    char *one = g_strdup(g_ptr_array_index(c.jsons, 0));
    char *conf = strstr(one, "\"confidence\":");
    cr_assert_not_null(conf);
    conf[strlen("\"confidence\":")] = '7';
    g_ptr_array_add(bad, one);
    char *noseq = g_strdup(g_ptr_array_index(c.jsons, 1));
    char *seq = strstr(noseq, "\"seq\"");
    cr_assert_not_null(seq);
    seq[1] = 'X';
    g_ptr_array_add(bad, noseq);
    /* ... and a stats event whose camera state is not one of the four. */
    char *state = g_strdup(c.last_stats);
    char *at = strstr(state, "\"retrying\"");
    cr_assert_not_null(at, "the health view is in the stats event: %s", state);
    memcpy(at + 1, "sleeping", 8);
    g_ptr_array_add(bad, state);
    cr_expect_neq(validate(bad, &out), 0, "the validator accepted broken events");
    cr_expect(strstr(out, "ev0.json") && strstr(out, "ev1.json") && strstr(out, "ev2.json"), "%s", out);
    g_free(out);
    g_ptr_array_unref(bad);
    g_ptr_array_unref(all);
    pw_subscriber_destroy(&sub);
    collector_clear(&c);
    pw_publisher_destroy(&pub);
    rm_tree(dir);
    g_free(dir);
    g_free(journal);
}

/* A vehicle event's JSON with member name removed, or replaced by "name":value when value is set. */
static char *edit_member(const char *json, const char *name, const char *value)
{
    JsonParser *p = json_parser_new();
    cr_assert(json_parser_load_from_data(p, json, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    json_object_remove_member(o, name);
    char *text = json_to_string(json_parser_get_root(p), FALSE);
    g_object_unref(p);
    if (!value)
        return text;
    /* Appended textually so that the value can be any JSON, right or wrong. */
    text[strlen(text) - 1] = '\0';
    char *edited = g_strdup_printf("%s,\"%s\":%s}", text, name, value);
    g_free(text);
    return edited;
}

static char *sample_json(void)
{
    pw_event ev = addressed_event(PW_EVENT_VEHICLE_FINAL, "AB12CDE", 7);
    char *json = NULL;
    cr_assert_eq(pw_event_to_json(&ev, &json, NULL), 0);
    cr_assert(strstr(json, "\"alternatives\":[{") && strstr(json, "\"char_confidences\":["),
              "%s", json);
    return json;
}

/* Subscribers of events from older publishers, which have neither member, are unaffected. */
Test(event, events_without_alternatives_or_char_confidences_still_parse, .timeout = 30)
{
    char *json = sample_json();
    char *no_alts = edit_member(json, "alternatives", NULL);
    char *old = edit_member(no_alts, "char_confidences", NULL);
    cr_assert(!strstr(old, "alternatives") && !strstr(old, "char_confidences"), "%s", old);
    pw_event ev;
    pw_err err = {0};
    cr_assert_eq(pw_event_from_json(old, strlen(old), &ev, &err), 0, "%s", err.msg);
    cr_expect_str_eq(ev.plate, "AB12CDE");
    cr_expect_eq(ev.n_alts, 0);
    cr_expect_eq(ev.n_char_conf, 0);
    pw_event_clear(&ev);
    /* Written again, such an event leaves the unknown per-character confidences out. */
    char *again = NULL;
    cr_assert_eq(pw_event_from_json(old, strlen(old), &ev, &err), 0, "%s", err.msg);
    cr_assert_eq(pw_event_to_json(&ev, &again, NULL), 0);
    cr_expect(!strstr(again, "char_confidences") && strstr(again, "\"alternatives\":[]"), "%s",
              again);
    g_free(again);
    g_free(old);
    g_free(no_alts);
    g_free(json);
}

Test(event, malformed_alternatives_and_char_confidences_are_refused, .timeout = 30)
{
    char *json = sample_json();
    const struct {
        const char *name, *value, *says;
    } bad[] = {
        {"alternatives", "{}", "\"alternatives\" is not an array"},
        {"alternatives", "[3]", "\"alternatives\"[0] is not an object"},
        {"alternatives", "[{\"confidence\":0.5}]", "\"alternatives\"[0]: event lacks"},
        {"alternatives", "[{\"text\":\"AB12CDF\",\"confidence\":1.5}]", "out of range"},
        {"alternatives", "[{\"text\":\"AB12CDF\"}]", "confidence is not a number"},
        {"alternatives", "[{\"text\":\"ABCDEFGHIJKLMNOPQRS\",\"confidence\":0.5}]", "longer than 16"},
        {"char_confidences", "[0.9,0.9]", "2 entries for a plate of 7 characters"},
        {"char_confidences", "[0.9,0.9,0.9,0.9,0.9,0.9,\"x\"]", "[6] is not a number"},
        {"char_confidences", "[0.9,0.9,0.9,0.9,0.9,0.9,-1]", "[6] is out of range"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *text = edit_member(json, bad[i].name, bad[i].value);
        pw_event ev;
        pw_err err = {0};
        cr_expect_eq(pw_event_from_json(text, strlen(text), &ev, &err), PW_EMSG, "accepted: %s",
                     text);
        cr_expect(strstr(err.msg, bad[i].says), "for %s: %s, want \"%s\"", bad[i].value, err.msg,
                  bad[i].says);
        g_free(text);
    }
    /* More alternatives than an event carries: the first ones are kept, the rest ignored. */
    char *many = edit_member(json, "alternatives",
                             "[{\"text\":\"A1\",\"confidence\":0.5},{\"text\":\"A2\",\"confidence\":0.4},"
                             "{\"text\":\"A3\",\"confidence\":0.3},{\"text\":\"A4\",\"confidence\":0.2},"
                             "{\"text\":\"A5\",\"confidence\":0.1}]");
    pw_event ev;
    pw_err err = {0};
    cr_assert_eq(pw_event_from_json(many, strlen(many), &ev, &err), 0, "%s", err.msg);
    cr_expect_eq(ev.n_alts, PW_VEHICLE_MAX_ALTS);
    cr_expect_str_eq(ev.alts[PW_VEHICLE_MAX_ALTS - 1].text, "A4");
    g_free(many);
    g_free(json);
}

/* Numbers are written in the shortest form that reads back: 0.952682, not 0.95268200000000003. */
Test(event, numbers_are_written_in_their_shortest_form, .timeout = 30)
{
    pw_event ev = addressed_event(PW_EVENT_VEHICLE_NEW, "AB12CDE", 1);
    ev.confidence = 0.952682;
    ev.latency_ms = 32.6;
    ev.char_conf[0] = 0.93f;
    ev.corners[0][0] = 100.25f;
    char *json = NULL;
    cr_assert_eq(pw_event_to_json(&ev, &json, NULL), 0);
    cr_expect(strstr(json, "\"confidence\":0.952682,"), "%s", json);
    cr_expect(strstr(json, "\"latency_ms\":32.6,"), "%s", json);
    cr_expect(strstr(json, "\"char_confidences\":[0.93,"), "%s", json);
    cr_expect(strstr(json, "\"corners\":[[100.25,200.0],"), "%s", json);
    cr_expect(strstr(json, "{\"text\":\"AB12CDF\",\"confidence\":0.41}"), "%s", json);
    /* No number anywhere carries the 17-digit tail of a double printed with %.17g. */
    GRegex *long_number = g_regex_new("[0-9]\\.[0-9]{12,}", 0, 0, NULL);
    cr_expect(!g_regex_match(long_number, json, 0, NULL), "%s", json);
    g_regex_unref(long_number);
    g_free(json);
}
