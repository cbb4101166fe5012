#define _POSIX_C_SOURCE 200809L
#include "motion.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>

struct pw_motion {
    GArray *cur, *ref;   /* of uint16_t: each cell's sum of samples */
    GArray *changed;     /* of uint8_t: 1 where the last check found a cell changed */
    pw_rect cur_area, ref_area;
    int cols, rows;      /* cells of cur_area */
    int has_ref, compared; /* compared: the last check had a reference to compare with */
};

int pw_motion_new(pw_motion **out)
{
    if (!out)
        return -EINVAL;
    pw_motion *m = g_new0(pw_motion, 1);
    m->cur = g_array_new(FALSE, TRUE, sizeof(uint16_t));
    m->ref = g_array_new(FALSE, TRUE, sizeof(uint16_t));
    m->changed = g_array_new(FALSE, TRUE, sizeof(uint8_t));
    *out = m;
    return 0;
}

void pw_motion_destroy(pw_motion **m)
{
    if (!m || !*m)
        return;
    g_array_free((*m)->cur, TRUE);
    g_array_free((*m)->ref, TRUE);
    g_array_free((*m)->changed, TRUE);
    g_free(*m);
    *m = NULL;
}

static pw_rect clip_roi(const pw_plane *p, pw_rect r)
{
    if (r.w <= 0 || r.h <= 0)
        return (pw_rect){0, 0, p->width, p->height};
    int x0 = CLAMP(r.x, 0, p->width), y0 = CLAMP(r.y, 0, p->height);
    int x1 = CLAMP(r.x + r.w, x0, p->width), y1 = CLAMP(r.y + r.h, y0, p->height);
    return (pw_rect){x0, y0, x1 - x0, y1 - y0};
}

/* Sum of the 64 samples of one cell: every other pixel of every other row (at most 64 x 255, fits 16 bits). */
static uint16_t cell_sum(const pw_plane *p, int x, int y)
{
    unsigned sum = 0;
    for (int r = 0; r < PW_MOTION_CELL; r += 2) {
        const uint8_t *row = p->data + (size_t)(y + r) * (size_t)p->stride + x;
        for (int c = 0; c < PW_MOTION_CELL; c += 2)
            sum += row[c];
    }
    return (uint16_t)sum;
}

static void measure(pw_motion *m, const pw_plane *grey, pw_rect area)
{
    int cols = area.w / PW_MOTION_CELL, rows = area.h / PW_MOTION_CELL;
    g_array_set_size(m->cur, (guint)(cols * rows));
    uint16_t *cells = (uint16_t *)(void *)m->cur->data;
    for (int j = 0; j < rows; j++)
        for (int i = 0; i < cols; i++)
            cells[j * cols + i] = cell_sum(grey, area.x + i * PW_MOTION_CELL, area.y + j * PW_MOTION_CELL);
    m->cur_area = area;
    m->cols = cols, m->rows = rows;
}

int pw_motion_check(pw_motion *m, const pw_plane *grey, pw_rect roi, int threshold)
{
    if (!m || !grey || !grey->data || grey->width <= 0 || grey->height <= 0 || grey->stride < grey->width ||
        grey->channels != 1)
        return -EINVAL;
    pw_rect area = clip_roi(grey, roi);
    measure(m, grey, area);
    /* A region smaller than a cell cannot be measured: it always counts as moving. */
    m->compared = m->has_ref && m->cur->len > 0 && m->ref->len == m->cur->len && m->ref_area.x == area.x &&
                  m->ref_area.y == area.y && m->ref_area.w == area.w && m->ref_area.h == area.h;
    if (!m->compared)
        return 1;
    const uint16_t *cur = (const uint16_t *)(void *)m->cur->data, *ref = (const uint16_t *)(void *)m->ref->data;
    g_array_set_size(m->changed, m->cur->len);
    uint8_t *changed = (uint8_t *)m->changed->data;
    /* Sums of 64 samples: a mean differing by more than threshold is a sum differing by more than 64 x threshold. */
    int limit = threshold * (PW_MOTION_CELL / 2) * (PW_MOTION_CELL / 2), n = 0;
    for (guint i = 0; i < m->cur->len; i++)
        n += changed[i] = abs((int)cur[i] - (int)ref[i]) > limit;
    return n >= PW_MOTION_MIN_CELLS;
}

void pw_motion_keep(pw_motion *m)
{
    if (!m)
        return;
    GArray *t = m->ref;
    m->ref = m->cur;
    m->cur = t;
    m->ref_area = m->cur_area;
    m->has_ref = 1;
}

int pw_motion_changed_in(const pw_motion *m, pw_rect r)
{
    if (!m || !m->compared)
        return 1;
    pw_rect a = m->cur_area;
    int x0 = (r.x - a.x) / PW_MOTION_CELL, y0 = (r.y - a.y) / PW_MOTION_CELL;
    int x1 = (r.x + r.w - 1 - a.x) / PW_MOTION_CELL, y1 = (r.y + r.h - 1 - a.y) / PW_MOTION_CELL;
    /* Partly outside the cells measured: nothing is known there. */
    if (r.x < a.x || r.y < a.y || r.w <= 0 || r.h <= 0 || x1 >= m->cols || y1 >= m->rows)
        return 1;
    const uint8_t *changed = (const uint8_t *)m->changed->data;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            if (changed[y * m->cols + x])
                return 1;
    return 0;
}
