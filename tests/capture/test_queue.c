/* test_queue.c - the bounded frame queue on its own: latest-frame-wins,
 * blocking for recordings, closing and aborting. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>

#include "capture_internal.h"

static pw_frame *frame_tagged(int64_t tag)
{
    pw_frame *f = pw_frame_new_owned();
    f->info.pts_ns = tag;
    pw_frame_stamp(f);
    return f;
}

Test(queue, latest_frame_wins_and_counts)
{
    pw_fqueue *q = pw_fqueue_new(3);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(pw_fqueue_push(q, frame_tagged(i)), 0);
    pw_fqueue_counts c;
    pw_fqueue_counts_get(q, &c);
    cr_assert_eq(c.frames, 10);
    cr_assert_eq(c.dropped, 7);
    cr_assert_eq(c.queued, 3);
    for (int i = 7; i < 10; i++) {
        pw_frame *f = NULL;
        cr_assert_eq(pw_fqueue_pop(q, 0, &f), 0);
        cr_assert_eq(f->info.pts_ns, i, "the newest frames remain");
        cr_assert_eq(f->info.seq, (uint64_t)i);
        pw_frame_release(&f);
    }
    pw_frame *f = NULL;
    cr_assert_eq(pw_fqueue_pop(q, 10, &f), -ETIMEDOUT);
    cr_assert_null(f);
    pw_fqueue_counts_get(q, &c);
    cr_assert_eq(c.frames, c.delivered + c.dropped + (uint64_t)c.queued);
    pw_fqueue_free(q);
}

static gpointer push_five(gpointer data)
{
    pw_fqueue *q = data;
    for (int i = 0; i < 5; i++)
        if (pw_fqueue_push(q, frame_tagged(i)))
            return GINT_TO_POINTER(1);
    pw_fqueue_close(q, PW_EEOS);
    return NULL;
}

Test(queue, blocking_mode_loses_nothing_then_ends)
{
    pw_fqueue *q = pw_fqueue_new(1);
    pw_fqueue_set_dropping(q, 0);
    GThread *t = g_thread_new("producer", push_five, q);
    for (int i = 0; i < 5; i++) {
        g_usleep(20000);
        pw_frame *f = NULL;
        cr_assert_eq(pw_fqueue_pop(q, 10000, &f), 0);
        cr_assert_eq(f->info.pts_ns, i);
        pw_frame_release(&f);
    }
    pw_frame *f = NULL;
    cr_assert_eq(pw_fqueue_pop(q, 10000, &f), PW_EEOS);
    cr_assert_null(g_thread_join(t));
    pw_fqueue_counts c;
    pw_fqueue_counts_get(q, &c);
    cr_assert_eq(c.dropped, 0);
    pw_fqueue_free(q);
}

Test(queue, abort_frees_a_blocked_producer)
{
    pw_fqueue *q = pw_fqueue_new(1);
    pw_fqueue_set_dropping(q, 0);
    GThread *t = g_thread_new("producer", push_five, q);
    g_usleep(50000);
    pw_fqueue_abort(q);
    cr_assert_eq(g_thread_join(t), GINT_TO_POINTER(1));
    pw_frame *f = NULL;
    cr_assert_eq(pw_fqueue_pop(q, 1000, &f), -ECANCELED);
    pw_fqueue_free(q);
}

Test(queue, frame_release_accepts_null)
{
    pw_frame_release(NULL);
    pw_frame *f = NULL;
    pw_frame_release(&f);
    cr_assert_null(pw_frame_get_info(NULL));
}
