#include "latency.h"

#include <stdlib.h>
#include <string.h>

void pw_latency_init(pw_latency *l)
{
    memset(l, 0, sizeof *l);
    g_mutex_init(&l->lock);
}

void pw_latency_clear(pw_latency *l)
{
    g_mutex_clear(&l->lock);
}

void pw_latency_add(pw_latency *l, double ms)
{
    g_mutex_lock(&l->lock);
    l->samples[l->next] = ms;
    l->next = (l->next + 1) % PW_LATENCY_WINDOW;
    l->total++;
    pw_histogram_observe(&l->hist, ms / 1000.0);
    g_mutex_unlock(&l->lock);
}

void pw_latency_histogram(pw_latency *l, pw_histogram *out)
{
    g_mutex_lock(&l->lock);
    *out = l->hist;
    g_mutex_unlock(&l->lock);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void pw_latency_summary(pw_latency *l, double *p50, double *p95, double *p99, uint64_t *total)
{
    double copy[PW_LATENCY_WINDOW];
    g_mutex_lock(&l->lock);
    size_t n = l->total < PW_LATENCY_WINDOW ? (size_t)l->total : PW_LATENCY_WINDOW;
    memcpy(copy, l->samples, n * sizeof copy[0]);
    *total = l->total;
    g_mutex_unlock(&l->lock);
    if (n == 0) {
        *p50 = *p95 = *p99 = 0;
        return;
    }
    qsort(copy, n, sizeof copy[0], cmp_double);
    *p50 = copy[(size_t)(0.50 * (double)(n - 1) + 0.5)];
    *p95 = copy[(size_t)(0.95 * (double)(n - 1) + 0.5)];
    *p99 = copy[(size_t)(0.99 * (double)(n - 1) + 0.5)];
}
