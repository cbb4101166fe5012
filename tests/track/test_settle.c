/*
 * Settled passages: once a plate's reads agree, pw_tracker_seen() lets the
 * lane skip its OCR on most frames and keeps the passage present on them,
 * so that fewer reads still make one vehicle that ends when the plate has
 * left; a disagreeing read or a resized plate asks for reads again.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "track.h"
#include "track_sink.h"

#define MS 1000000LL
#define FRAME_MS 40
#define REAL0 (1700000000000LL * MS)


/* The corners of a plate box of width w centred at (cx, cy). */
static void box(float cx, float cy, float w, float c[4][2])
{
    const float b[4][2] = {{cx - w / 2, cy - w / 8}, {cx + w / 2, cy - w / 8}, {cx + w / 2, cy + w / 8},
                           {cx - w / 2, cy + w / 8}};
    memcpy(c, b, sizeof b);
}

static pw_track_read read_at(const char *text, const float c[4][2], int frame)
{
    pw_track_read r = {.text = text, .confidence = 90, .country = "FR"};
    memcpy(r.corners, c, sizeof r.corners);
    r.capture_mono_ns = (int64_t)frame * FRAME_MS * MS + 1;
    r.capture_real_ns = REAL0 + (int64_t)frame * FRAME_MS * MS;
    return r;
}

/* Settling after 3 reads, a read every 20 frames (800 ms, longer than the 500 ms silence that ends a passage). */
static pw_tracker *settling_tracker(void)
{
    pw_tracker_config cfg = {.new_min_confidence = 70, .final_after_ns = 500 * MS, .settle_reads = 3,
                             .reread_frames = 20, .reread_size_change = 1.25f};
    pw_tracker *t = NULL;
    cr_assert_eq(pw_tracker_new(&cfg, &t), 0);
    return t;
}

/*
 * One frame as a lane runs it: the candidate goes through pw_tracker_seen(),
 * is read (as text) unless its passage is settled, then the tracker ticks.
 * Returns what seen() said.
 */
static pw_seen frame(pw_tracker *t, const char *text, const float c[4][2], int f, sink *s)
{
    pw_seen seen = PW_SEEN_NONE;
    int64_t clock = (int64_t)f * FRAME_MS * MS + 1;
    cr_assert_eq(pw_tracker_seen(t, (const float (*)[4][2])c, 1, clock, REAL0 + (int64_t)f * FRAME_MS * MS, &seen), 0);
    if (seen != PW_SEEN_SETTLED) {
        pw_track_read r = read_at(text, c, f);
        cr_assert_eq(pw_tracker_add(t, &r, collect, s), 0);
    }
    pw_tracker_tick(t, clock, collect, s);
    return seen;
}

Test(settle, a_settled_passage_is_read_now_and_then_and_stays_one_vehicle)
{
    pw_tracker *t = settling_tracker();
    sink s = {0};
    int reads = 0, frames = 100;
    float c[4][2];
    for (int f = 0; f < frames; f++) {
        box(300 + 2.0f * f, 200 + 1.0f * f, 120, c);
        reads += frame(t, "AB123CD", c, f, &s) != PW_SEEN_SETTLED;
    }
    cr_assert_lt(reads, frames / 4, "%d of %d frames were read", reads, frames);
    cr_assert_eq(s.n, 1, "NEW only while the plate is in view, got %d events", s.n);
    cr_assert_eq(s.ev[0].kind, PW_TRACK_NEW);
    /* The plate left after frame 99: the passage ends 500 ms after it was last seen, not after its last read. */
    int64_t last = (int64_t)(frames - 1) * FRAME_MS * MS + 1;
    pw_tracker_tick(t, last + 499 * MS, collect, &s);
    cr_assert_eq(s.n, 1, "ended before 500 ms of silence after the plate was last seen");
    pw_tracker_tick(t, last + 501 * MS, collect, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.ev[1].kind, PW_TRACK_FINAL);
    cr_assert_str_eq(s.ev[1].text, "AB123CD");
    cr_assert_eq(s.ev[1].frames, reads);
    cr_assert_eq(s.ev[1].last_seen_ns, REAL0 + (int64_t)(frames - 1) * FRAME_MS * MS);
    pw_tracker_destroy(&t);
}

/* Settles the passage over three agreeing reads at frames 0-2; returns the frame after. */
static int settle(pw_tracker *t, sink *s, float c[4][2])
{
    box(300, 200, 120, c);
    for (int f = 0; f < 3; f++)
        cr_assert_neq(frame(t, "AB123CD", c, f, s), PW_SEEN_SETTLED, "not settled before 3 reads");
    cr_assert_eq(frame(t, "AB123CD", c, 3, s), PW_SEEN_SETTLED, "settled after 3 agreeing reads");
    return 4;
}

Test(settle, a_disagreeing_read_asks_for_reads_on_every_frame)
{
    pw_tracker *t = settling_tracker();
    sink s = {0};
    float c[4][2];
    int f = settle(t, &s, c);
    /* Frames until the re-read: settled, then one read of the passage three characters off. */
    while (frame(t, "AB123CD", c, f, &s) == PW_SEEN_SETTLED)
        f++;
    pw_track_read r = read_at("AB987CD", c, f);
    cr_assert_eq(pw_tracker_add(t, &r, collect, &s), 0);
    for (int k = 1; k <= 3; k++)
        cr_assert_eq(frame(t, "AB123CD", c, f + k, &s), PW_SEEN_FOLLOWED, "frame %d after the disagreement is read", k);
    /* Three agreeing reads in a row settle it again. */
    cr_assert_eq(frame(t, "AB123CD", c, f + 4, &s), PW_SEEN_SETTLED);
    pw_tracker_destroy(&t);
}

/*
 * On a moving plate most reads miss a character somewhere; the vote still
 * holds the plate's text. Such reads settle the passage (each within one
 * edit, the consensus unchanged and clear at every position), so that its
 * other boxes and re-reads stop costing OCR on every frame. No three reads
 * in a row here equal the plate.
 */
Test(settle, reads_one_character_off_settle_a_passage_whose_vote_holds)
{
    pw_tracker *t = settling_tracker();
    sink s = {0};
    float c[4][2];
    box(300, 200, 120, c);
    const char *reads[] = {"AB123CD", "AB123CD", "XB123CD", "AB123CD", "AB123CD", "AB1Z3CD", "AB123CD"};
    for (int f = 0; f < 7; f++)
        cr_assert_neq(frame(t, reads[f], c, f, &s), PW_SEEN_SETTLED, "read %d", f);
    cr_assert_eq(frame(t, "AB123CD", c, 7, &s), PW_SEEN_SETTLED,
                 "three reads within one edit of a clear, unchanged vote settle it");
    cr_assert_str_eq(s.ev[0].text, "AB123CD");
    pw_tracker_destroy(&t);
}

/* A position the reads keep disagreeing on keeps the plate read on every frame, however close the reads. */
Test(settle, a_contested_character_keeps_the_plate_read)
{
    pw_tracker *t = settling_tracker();
    sink s = {0};
    float c[4][2];
    box(300, 200, 120, c);
    for (int f = 0; f < 16; f++)
        cr_assert_neq(frame(t, f % 2 ? "AB128CD" : "AB123CD", c, f, &s), PW_SEEN_SETTLED, "frame %d", f);
    pw_tracker_destroy(&t);
}

Test(settle, a_plate_whose_box_grows_a_lot_is_read_again)
{
    pw_tracker *t = settling_tracker();
    sink s = {0};
    float c[4][2];
    int f = settle(t, &s, c);
    box(300, 200, 140, c); /* 1.17x: not a change */
    cr_assert_eq(frame(t, "AB123CD", c, f++, &s), PW_SEEN_SETTLED);
    box(300, 200, 160, c); /* 1.33x the last read's width */
    cr_assert_eq(frame(t, "AB123CD", c, f++, &s), PW_SEEN_FOLLOWED, "a box 1.33x wider is read");
    cr_assert_eq(frame(t, "AB123CD", c, f++, &s), PW_SEEN_SETTLED, "the read agreed: settled at the new size");
    pw_tracker_destroy(&t);
}

Test(settle, a_candidate_that_is_never_read_does_not_hold_a_passage)
{
    pw_tracker *t = settling_tracker();
    sink s = {0};
    float c[4][2];
    int f = settle(t, &s, c);
    /* Something stays where the plate was, and its reads never come: present for 2 x 20 frames at most. */
    int64_t last_present = 0;
    for (int end = f + 200; f < end && s.n < 2; f++) {
        int64_t clock = (int64_t)f * FRAME_MS * MS + 1;
        pw_seen seen;
        cr_assert_eq(pw_tracker_seen(t, (const float (*)[4][2])c, 1, clock, REAL0, &seen), 0);
        if (seen == PW_SEEN_SETTLED)
            last_present = clock;
        pw_tracker_tick(t, clock, collect, &s);
    }
    cr_assert_eq(s.n, 2, "the passage ended");
    cr_assert_eq(s.ev[1].kind, PW_TRACK_FINAL);
    cr_assert_leq(f, 3 + 2 * 20 + 500 / FRAME_MS + 2, "ended at frame %d", f);
    cr_assert_gt(last_present, 0);
    pw_tracker_destroy(&t);
}

Test(settle, settling_off_reads_every_frame)
{
    pw_tracker_config cfg = {.new_min_confidence = 70, .final_after_ns = 500 * MS, .settle_reads = 0};
    pw_tracker *t = NULL;
    cr_assert_eq(pw_tracker_new(&cfg, &t), 0);
    sink s = {0};
    float c[4][2];
    box(300, 200, 120, c);
    for (int f = 0; f < 30; f++)
        cr_assert_neq(frame(t, "AB123CD", c, f, &s), PW_SEEN_SETTLED);
    pw_tracker_destroy(&t);
}

Test(settle, bad_arguments_are_refused)
{
    pw_tracker *t = settling_tracker();
    pw_seen seen[PW_TRACK_SEEN_MAX + 1];
    float c[PW_TRACK_SEEN_MAX + 1][4][2];
    memset(c, 0, sizeof c);
    cr_assert_eq(pw_tracker_seen(NULL, (const float (*)[4][2])c, 1, 1, 1, seen), -EINVAL);
    cr_assert_eq(pw_tracker_seen(t, NULL, 1, 1, 1, seen), -EINVAL);
    cr_assert_eq(pw_tracker_seen(t, (const float (*)[4][2])c, 1, 1, 1, NULL), -EINVAL);
    cr_assert_eq(pw_tracker_seen(t, (const float (*)[4][2])c, PW_TRACK_SEEN_MAX + 1, 1, 1, seen), -E2BIG);
    cr_assert_eq(pw_tracker_seen(t, NULL, 0, 1, 1, NULL), 0);
    pw_tracker_destroy(&t);
}
