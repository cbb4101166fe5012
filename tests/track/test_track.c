/* Vehicle tracking: association, voting, and the NEW / UPDATE / FINAL events. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <string.h>

#include "track.h"
#include "track_sink.h"

#define MS 1000000LL


/* A read of text at centre (cx, cy), 120 px wide, at time t ms. */
static pw_track_read make_read(const char *text, float conf, float cx, float cy, int64_t t_ms)
{
    pw_track_read r = {.text = text, .confidence = conf, .country = "FR"};
    const float c[4][2] = {{cx - 60, cy - 15}, {cx + 60, cy - 15}, {cx + 60, cy + 15}, {cx - 60, cy + 15}};
    memcpy(r.corners, c, sizeof c);
    r.capture_mono_ns = t_ms * MS;
    r.capture_real_ns = 1700000000000LL * MS + t_ms * MS;
    return r;
}

static pw_tracker *new_tracker(void)
{
    pw_tracker_config cfg = {.new_min_confidence = 70, .final_after_ns = 500 * MS};
    pw_tracker *t = NULL;
    cr_assert_eq(pw_tracker_new(&cfg, &t), 0);
    return t;
}

/* The texts of the FINAL events collected, in order; returns how many. */
static int finals_of(const sink *s, const char *texts[], int max)
{
    int n = 0;
    for (int i = 0; i < s->n && n < max; i++)
        if (s->ev[i].kind == PW_TRACK_FINAL)
            texts[n++] = s->ev[i].text;
    return n;
}

Test(track, one_passage_gives_new_then_final_with_voted_text)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    const char *reads[] = {"AB123CD", "AB123CD", "A8123CD", "AB123CD", "AB128CD"};
    for (int i = 0; i < 5; i++) {
        pw_track_read r = make_read(reads[i], i == 2 ? 60.0f : 85.0f, 300 + 10.0f * i, 400 + 5.0f * i, 40 * i);
        cr_assert_eq(pw_tracker_add(t, &r, collect, &s), 0);
    }
    cr_assert_eq(s.n, 1, "only NEW so far");
    cr_assert_eq(s.ev[0].kind, PW_TRACK_NEW);
    cr_assert_str_eq(s.ev[0].text, "AB123CD");
    cr_assert_eq(s.ev[0].frames, 1);
    pw_tracker_tick(t, 160 * MS + 400 * MS, collect, &s);
    cr_assert_eq(s.n, 1, "not silent long enough yet");
    pw_tracker_tick(t, 160 * MS + 501 * MS, collect, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.ev[1].kind, PW_TRACK_FINAL);
    cr_assert_str_eq(s.ev[1].text, "AB123CD", "voting outweighs the two misreads");
    cr_assert_eq(s.ev[1].frames, 5);
    cr_assert_eq(s.ev[1].track_id, s.ev[0].track_id);
    cr_assert_eq(s.ev[1].first_seen_ns, 1700000000000LL * MS);
    cr_assert_eq(s.ev[1].last_seen_ns, 1700000000000LL * MS + 160 * MS);
    cr_assert_str_eq(s.ev[1].country, "FR");
    cr_assert_eq(pw_tracker_active(t), 0);
    pw_tracker_destroy(&t);
    cr_assert_null(t);
}

Test(track, consensus_change_gives_update)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    pw_track_read first = make_read("XY1Z345", 80, 500, 300, 0);
    pw_tracker_add(t, &first, collect, &s);
    for (int i = 1; i <= 3; i++) {
        pw_track_read r = make_read("XY12345", 90, 500, 300 + i, 40 * i);
        pw_tracker_add(t, &r, collect, &s);
    }
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.ev[0].kind, PW_TRACK_NEW);
    cr_assert_str_eq(s.ev[0].text, "XY1Z345");
    cr_assert_eq(s.ev[1].kind, PW_TRACK_UPDATE);
    cr_assert_str_eq(s.ev[1].text, "XY12345");
    pw_tracker_flush(t, collect, &s);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(s.ev[2].text, "XY12345");
    pw_tracker_destroy(&t);
}

Test(track, two_plates_in_one_frame_are_two_vehicles)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    for (int i = 0; i < 3; i++) {
        pw_track_read a = make_read("AA111AA", 88, 200, 400, 40 * i);
        pw_track_read b = make_read("BB222BB", 88, 1000, 420, 40 * i);
        pw_tracker_add(t, &a, collect, &s);
        pw_tracker_add(t, &b, collect, &s);
    }
    cr_assert_eq(pw_tracker_active(t), 2);
    pw_tracker_flush(t, collect, &s);
    int finals = 0;
    for (int i = 0; i < s.n; i++)
        if (s.ev[i].kind == PW_TRACK_FINAL) {
            finals++;
            cr_assert_eq(s.ev[i].frames, 3);
        }
    cr_assert_eq(finals, 2);
    pw_tracker_destroy(&t);
}

Test(track, vehicles_one_after_another_are_separate_passages)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    pw_track_read a = make_read("AA111AA", 90, 400, 400, 0);
    pw_tracker_add(t, &a, collect, &s);
    pw_tracker_tick(t, 600 * MS, collect, &s);
    pw_track_read b = make_read("AA111AB", 90, 400, 400, 700);
    pw_tracker_add(t, &b, collect, &s);
    pw_tracker_flush(t, collect, &s);
    cr_assert_eq(s.n, 4);
    cr_assert_str_eq(s.ev[1].text, "AA111AA");
    cr_assert_str_eq(s.ev[3].text, "AA111AB");
    cr_assert_neq(s.ev[1].track_id, s.ev[3].track_id);
    pw_tracker_destroy(&t);
}

Test(track, unconfident_passage_is_never_reported)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    for (int i = 0; i < 4; i++) {
        pw_track_read r = make_read(i % 2 ? "QW12" : "OW12", 40, 100, 100, 40 * i);
        pw_tracker_add(t, &r, collect, &s);
    }
    pw_tracker_tick(t, 10000 * MS, collect, &s);
    cr_assert_eq(s.n, 0);
    cr_assert_eq(pw_tracker_active(t), 0);
    pw_tracker_destroy(&t);
}

static void check_crop(const pw_track_event *ev, void *user)
{
    int *calls = user;
    (*calls)++;
    cr_assert_not_null(ev->jpeg);
    gsize len = 0;
    const char *data = g_bytes_get_data(ev->jpeg, &len);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(data, "high", 4), 0, "the crop of the most confident read is kept");
}

Test(track, best_read_keeps_its_crop)
{
    pw_tracker *t = new_tracker();
    GBytes *low = g_bytes_new("low", 3), *high = g_bytes_new("high", 4);
    pw_track_read a = make_read("AB123CD", 75, 300, 300, 0);
    a.jpeg = low;
    pw_track_read b = make_read("AB123CD", 95, 310, 300, 40);
    b.jpeg = high;
    pw_tracker_add(t, &a, NULL, NULL);
    pw_tracker_add(t, &b, NULL, NULL);
    /* The tracker holds its own reference to the best crop. */
    g_bytes_unref(low);
    g_bytes_unref(high);
    int calls = 0;
    pw_tracker_flush(t, check_crop, &calls);
    cr_assert_eq(calls, 1);
    pw_tracker_destroy(&t);
}

Test(track, invalid_reads_are_refused)
{
    pw_tracker *t = new_tracker();
    pw_track_read r = make_read("", 90, 0, 0, 0);
    cr_assert_eq(pw_tracker_add(t, &r, NULL, NULL), -EINVAL);
    r.text = "ABCDEFGHIJKLMNOPQRS";
    cr_assert_eq(pw_tracker_add(t, &r, NULL, NULL), -EINVAL);
    cr_assert_eq(pw_tracker_add(NULL, &r, NULL, NULL), -EINVAL);
    pw_tracker_destroy(&t);
    pw_tracker_destroy(NULL);
}

Test(track, without_voting_the_most_confident_read_wins)
{
    pw_tracker_config cfg = {.new_min_confidence = 70, .final_after_ns = 500 * MS, .disable_voting = 1};
    pw_tracker *t = NULL;
    cr_assert_eq(pw_tracker_new(&cfg, &t), 0);
    sink s = {0};
    const char *reads[] = {"AB123CD", "AB123CD", "A8123CD"};
    const float conf[] = {80, 82, 95};
    for (int i = 0; i < 3; i++) {
        pw_track_read r = make_read(reads[i], conf[i], 300, 400, 40 * i);
        pw_tracker_add(t, &r, collect, &s);
    }
    pw_tracker_flush(t, collect, &s);
    cr_assert_str_eq(s.ev[s.n - 1].text, "A8123CD", "one confident misread decides without voting");
    pw_tracker_destroy(&t);
}

/*
 * Alternatives are voted over the passage: each read adds its own text and
 * the OCR's other readings; the event ranks them by summed confidence,
 * reports means over the reads and leaves the consensus out.
 */
Test(track, alternatives_are_voted_over_the_passage)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    /* Read 0 and 1 see AB123CD first; each also offers other readings. */
    const pw_reading alts0[] = {{"AB123CD", 85}, {"A8123CD", 60}, {"AB123C0", 30}};
    const pw_reading alts1[] = {{"AB123CD", 85}, {"AB123C0", 50}, {"A8123CD", 20}, {"A8123CD", 19}};
    const pw_reading alts2[] = {{"A8123CD", 70}, {"AB123CD", 65}, {"", 99}};
    const struct {
        const char *text;
        float conf;
        const pw_reading *alts;
        size_t n;
    } reads[] = {{"AB123CD", 85, alts0, 3}, {"AB123CD", 85, alts1, 4}, {"A8123CD", 70, alts2, 3}};
    const float char_conf[3][7] = {{90, 80, 90, 90, 90, 90, 90}, {70, 80, 90, 90, 90, 90, 90},
                                   {50, 40, 90, 90, 90, 90, 90}};
    for (int i = 0; i < 3; i++) {
        pw_track_read r = make_read(reads[i].text, reads[i].conf, 300, 400, 40 * i);
        r.alts = reads[i].alts;
        r.n_alts = reads[i].n;
        r.char_conf = char_conf[i];
        cr_assert_eq(pw_tracker_add(t, &r, collect, &s), 0);
    }
    pw_tracker_flush(t, collect, &s);
    const pw_track_event *fin = &s.ev[s.n - 1];
    cr_assert_eq(fin->kind, PW_TRACK_FINAL);
    cr_assert_str_eq(fin->text, "AB123CD");
    /* A8123CD: 60 + 20 (its repeat in read 1 counts once) + 70; AB123C0: 30 + 50. */
    cr_assert_eq(fin->n_alts, 2, "the consensus and the empty reading are not alternatives");
    cr_expect_str_eq(fin->alts[0].text, "A8123CD");
    cr_expect_float_eq(fin->alts[0].confidence, (60 + 20 + 70) / 3.0f, 1e-4);
    cr_expect_str_eq(fin->alts[1].text, "AB123C0");
    cr_expect_float_eq(fin->alts[1].confidence, (30 + 50) / 3.0f, 1e-4);
    /* The consensus's characters: the mean over reads of that length of the votes for the winner. */
    cr_expect_float_eq(fin->char_conf[0], (90 + 70 + 50) / 3.0f, 1e-4, "all three read A");
    cr_expect_float_eq(fin->char_conf[1], (80 + 80) / 3.0f, 1e-4, "read 2 voted 8, not B");
    cr_expect_float_eq(fin->char_conf[6], 90, 1e-4);
    pw_tracker_destroy(&t);
}

/* A passage with more distinct readings than it remembers keeps the strongest. */
Test(track, the_weakest_readings_give_way)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    char texts[40][8];
    pw_reading alts[40];
    for (int i = 0; i < 40; i++) {
        g_snprintf(texts[i], sizeof texts[i], "AB1%02dCD", i);
        alts[i] = (pw_reading){{0}, (float)(i + 1)};
        g_strlcpy(alts[i].text, texts[i], sizeof alts[i].text);
    }
    pw_track_read r = make_read("AB123CD", 90, 300, 400, 0);
    r.alts = alts;
    r.n_alts = 40;
    cr_assert_eq(pw_tracker_add(t, &r, collect, &s), 0);
    pw_tracker_flush(t, collect, &s);
    const pw_track_event *fin = &s.ev[s.n - 1];
    cr_assert_eq(fin->n_alts, PW_VEHICLE_MAX_ALTS);
    for (size_t i = 0; i < fin->n_alts; i++)
        cr_expect_str_eq(fin->alts[i].text, texts[39 - i], "rank %zu", i);
    pw_tracker_destroy(&t);
}

/*
 * The country is the consensus's: a more confident misread that fits
 * another country's format does not lend the vehicle its country, and a
 * consensus no read matched a format with has none.
 */
Test(track, the_vehicle_s_country_is_that_of_its_consensus)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    for (int i = 0; i < 4; i++) {
        pw_track_read r = make_read("7FKM294", 88, 300, 400, 40 * i);
        r.country = "US";
        cr_assert_eq(pw_tracker_add(t, &r, collect, &s), 0);
    }
    pw_track_read misread = make_read("7FKM29", 97, 300, 400, 200);
    misread.country = "FR";
    cr_assert_eq(pw_tracker_add(t, &misread, collect, &s), 0);
    pw_tracker_flush(t, collect, &s);
    const pw_track_event *fin = &s.ev[s.n - 1];
    cr_assert_eq(fin->kind, PW_TRACK_FINAL);
    cr_assert_str_eq(fin->text, "7FKM294");
    cr_expect_str_eq(fin->country, "US");

    /* Two reads that disagree in different places vote a text neither of them read. */
    s.n = 0;
    pw_track_read a = make_read("AB123CX", 90, 300, 400, 5000), b = make_read("AB123CX", 90, 300, 400, 5040),
                  c = make_read("XB123CD", 95, 300, 400, 5080), d = make_read("XB123CD", 80, 300, 400, 5120),
                  e = make_read("AB199CD", 99, 300, 400, 5160);
    const pw_track_read *votes[] = {&a, &b, &c, &d, &e};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(pw_tracker_add(t, votes[i], collect, &s), 0);
    pw_tracker_flush(t, collect, &s);
    fin = &s.ev[s.n - 1];
    cr_assert_str_eq(fin->text, "AB123CD", "the vote");
    cr_expect_str_eq(fin->country, "", "no read of AB123CD matched a format");
    pw_tracker_destroy(&t);
}

/*
 * Stills of a manifest, or two trucks minutes apart at one gate: a read after
 * the passage's silence starts a vehicle of its own, even when its text is
 * close to the old one and no tick has ended the old passage yet.
 */
Test(track, a_read_after_the_silence_is_a_new_vehicle_however_alike)
{
    pw_tracker *t = new_tracker();
    sink s = {0};
    pw_track_read first = make_read("RK019AF", 90, 300, 400, 0);
    cr_assert_eq(pw_tracker_add(t, &first, collect, &s), 0);
    pw_track_read later = make_read("RK026AJ", 90, 300, 400, 30000);
    cr_assert_eq(pw_tracker_add(t, &later, collect, &s), 0);
    pw_tracker_flush(t, collect, &s);
    const char *finals[4];
    cr_expect_eq(finals_of(&s, finals, 4), 2, "two vehicles, not one voted from both");
    cr_expect_str_eq(s.ev[s.n - 1].text, "RK026AJ");
    pw_tracker_destroy(&t);
}

/*
 * Clips of the dev photographs: RK019AF drives out of view and, a second
 * later but within the silence, RK026AJ of the same series enters near
 * where it was last seen. Three substitutions were close enough to vote
 * the second into the first, and both were lost; a read that follows the
 * plate closely, however garbled, still joins it.
 */
Test(track, the_next_plate_of_a_series_is_a_new_vehicle_but_a_garbled_read_of_a_followed_one_is_not)
{
    pw_tracker_config cfg = {.new_min_confidence = 70, .final_after_ns = 1500 * MS};
    pw_tracker *t = NULL;
    cr_assert_eq(pw_tracker_new(&cfg, &t), 0);
    sink s = {0};
    for (int i = 0; i < 4; i++) {
        pw_track_read r = make_read(i == 3 ? "RK0I9AE" : "RK019AF", 90, 400, 300 + 20.0f * i, 40 * i);
        cr_assert_eq(pw_tracker_add(t, &r, collect, &s), 0);
    }
    cr_assert_eq(pw_tracker_active(t), 1, "the garbled read 40 ms on is the same plate");
    for (int i = 0; i < 4; i++) {
        pw_track_read r = make_read("RK026AJ", 90, 400, 280 + 20.0f * i, 1120 + 40 * i);
        cr_assert_eq(pw_tracker_add(t, &r, collect, &s), 0);
    }
    cr_assert_eq(pw_tracker_active(t), 2, "a plate a second after the last sighting is another vehicle");
    pw_tracker_flush(t, collect, &s);
    const char *finals[4];
    cr_assert_eq(finals_of(&s, finals, 4), 2);
    cr_expect_str_eq(finals[0], "RK019AF");
    cr_expect_str_eq(finals[1], "RK026AJ");
    pw_tracker_destroy(&t);
}
