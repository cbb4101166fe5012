/*
 * fqueue.c - the bounded frame queue between a producer and one consumer.
 *
 * Live sources must never make the producer wait (a camera does not wait),
 * so when the queue is full the oldest frame is dropped and counted: the
 * consumer always gets the newest picture and memory stays bounded by the
 * depth. Recorded sources block the producer instead, so no frame is lost.
 * Sequence numbers are given here, at arrival, so that a dropped frame
 * leaves a visible gap.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>

#include "capture_internal.h"

struct pw_fqueue {
    GMutex lock;
    GCond changed;
    GQueue frames;
    int depth;
    int dropping;
    int closed_code; /* 0 while open */
    int aborted;
    uint64_t next_seq;
    uint64_t delivered, dropped;
    int64_t last_push_mono_ns;
};

pw_fqueue *pw_fqueue_new(int depth)
{
    pw_fqueue *q = g_new0(pw_fqueue, 1);
    g_mutex_init(&q->lock);
    g_cond_init(&q->changed);
    g_queue_init(&q->frames);
    q->depth = depth > 0 ? depth : 1;
    q->dropping = 1;
    return q;
}

static void release_all(GQueue *frames)
{
    pw_frame *f;
    while ((f = g_queue_pop_head(frames)))
        pw_frame_release(&f);
}

void pw_fqueue_free(pw_fqueue *q)
{
    if (!q)
        return;
    release_all(&q->frames);
    g_mutex_clear(&q->lock);
    g_cond_clear(&q->changed);
    g_free(q);
}

void pw_fqueue_set_dropping(pw_fqueue *q, int dropping)
{
    g_mutex_lock(&q->lock);
    q->dropping = dropping;
    g_cond_broadcast(&q->changed);
    g_mutex_unlock(&q->lock);
}

int pw_fqueue_push(pw_fqueue *q, pw_frame *f)
{
    pw_frame *old = NULL;
    g_mutex_lock(&q->lock);
    while (!q->aborted && !q->dropping && (int)q->frames.length >= q->depth)
        g_cond_wait(&q->changed, &q->lock);
    if (q->aborted) {
        g_mutex_unlock(&q->lock);
        pw_frame_release(&f);
        return -ECANCELED;
    }
    f->info.seq = q->next_seq++;
    if ((int)q->frames.length >= q->depth) {
        old = g_queue_pop_head(&q->frames);
        q->dropped++;
    }
    g_queue_push_tail(&q->frames, f);
    q->last_push_mono_ns = f->info.monotonic_ns ? f->info.monotonic_ns
                                                : pw_clock_ns(CLOCK_MONOTONIC);
    g_cond_broadcast(&q->changed);
    g_mutex_unlock(&q->lock);
    /* Released outside the lock: unmapping a GstBuffer may take a while. */
    pw_frame_release(&old);
    return 0;
}

int pw_fqueue_pop(pw_fqueue *q, int timeout_ms, pw_frame **out)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int rc = 0;
    *out = NULL;
    g_mutex_lock(&q->lock);
    for (;;) {
        if (q->aborted) {
            rc = -ECANCELED;
            break;
        }
        if (q->frames.length > 0) {
            *out = g_queue_pop_head(&q->frames);
            q->delivered++;
            g_cond_broadcast(&q->changed);
            break;
        }
        if (q->closed_code) {
            rc = q->closed_code;
            break;
        }
        if (timeout_ms < 0) {
            g_cond_wait(&q->changed, &q->lock);
        } else if (!g_cond_wait_until(&q->changed, &q->lock, deadline)) {
            rc = -ETIMEDOUT;
            break;
        }
    }
    g_mutex_unlock(&q->lock);
    return rc;
}

void pw_fqueue_close(pw_fqueue *q, int code)
{
    g_mutex_lock(&q->lock);
    q->closed_code = code;
    g_cond_broadcast(&q->changed);
    g_mutex_unlock(&q->lock);
}

void pw_fqueue_reopen(pw_fqueue *q)
{
    g_mutex_lock(&q->lock);
    q->closed_code = 0;
    g_mutex_unlock(&q->lock);
}

void pw_fqueue_abort(pw_fqueue *q)
{
    GQueue doomed = G_QUEUE_INIT;
    g_mutex_lock(&q->lock);
    q->aborted = 1;
    doomed = q->frames;
    g_queue_init(&q->frames);
    g_cond_broadcast(&q->changed);
    g_mutex_unlock(&q->lock);
    release_all(&doomed);
}

void pw_fqueue_counts_get(pw_fqueue *q, pw_fqueue_counts *c)
{
    g_mutex_lock(&q->lock);
    c->frames = q->next_seq;
    c->delivered = q->delivered;
    c->dropped = q->dropped;
    c->queued = (int)q->frames.length;
    c->last_push_mono_ns = q->last_push_mono_ns;
    g_mutex_unlock(&q->lock);
}
