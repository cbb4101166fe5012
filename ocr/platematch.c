/*
 * platematch.c - matches OCR readings against the loaded plate formats.
 *
 * Each position of a reading carries the OCR engine's alternatives. A
 * fixed-length pattern is aligned with the positions by a small dynamic
 * programme: every slot takes one position, choosing the best alternative
 * the slot admits, or a confusable correction (O/0, I/1, B/8, S/5, Z/2, G/6,
 * D/0, Q/0); positions that fit nowhere may be dropped at a cost, since
 * frame lines, screws and the blue country band are often read as
 * characters. The cheapest alignments over all patterns win.
 */
#include <errno.h>
#include <float.h>
#include <string.h>

#include "plateformat_internal.h"

/* Costs of the alignment steps, in units of "one certain character". */
#define COST_ALT_BASE 0.15f      /* taking an alternative instead of the best choice */
#define COST_CORRECTION 0.3f     /* replacing a character by its confusable twin */
#define COST_COUNTRY_RANK 0.2f   /* per place down the camera's country list (most likely first) */
#define COST_DROP_EDGE 0.25f     /* dropping a position before or after the plate text */
#define COST_DROP_MIDDLE 0.6f    /* dropping a position inside the plate text */
#define COST_DROP_CONF 0.5f      /* extra per 100 confidence of a dropped position */
#define COST_NONE FLT_MAX

/* The confusable twin of c, or of digit c the twins in order of likelihood. */
static const char *twins(char c)
{
    switch (c) {
    case 'O': case 'D': case 'Q': return "0";
    case 'I': return "1";
    case 'B': return "8";
    case 'S': return "5";
    case 'Z': return "2";
    case 'G': return "6";
    case '0': return "ODQ";
    case '1': return "I";
    case '8': return "B";
    case '5': return "S";
    case '2': return "Z";
    case '6': return "G";
    default: return "";
    }
}

/* How one position fills one slot: the character used, its cost and whether it was corrected. */
typedef struct {
    float cost;
    char ch;
    float conf;
    int corrected;
} slot_fill;

static slot_fill fill_slot(const pw_char_choices *p, pw_slot_mask mask)
{
    slot_fill best = {COST_NONE, 0, 0, 0};
    for (int k = 0; k < p->n; k++) {
        if (pw_char_mask(p->ch[k]) & mask) {
            float cost = k == 0 ? 0.0f : COST_ALT_BASE + (p->conf[0] - p->conf[k]) / 100.0f;
            if (cost < best.cost)
                best = (slot_fill){cost, p->ch[k], p->conf[k], 0};
            break;
        }
    }
    for (int k = 0; k < p->n && best.cost > COST_CORRECTION; k++) {
        for (const char *t = twins(p->ch[k]); *t; t++) {
            if (pw_char_mask(*t) & mask) {
                float cost = COST_CORRECTION + (k ? COST_ALT_BASE + (p->conf[0] - p->conf[k]) / 100.0f : 0);
                if (cost < best.cost)
                    best = (slot_fill){cost, *t, p->conf[k], 1};
                break;
            }
        }
    }
    return best;
}

static float drop_cost(const pw_char_choices *p, int edge)
{
    return (edge ? COST_DROP_EDGE : COST_DROP_MIDDLE) + COST_DROP_CONF * p->conf[0] / 100.0f;
}

#define N1 (PW_PLATE_MAX * 2 + 1)

/* Aligns one pattern with the positions; returns its cost and fills r, or COST_NONE. */
static float align(const pw_fixed_pattern *pat, const pw_char_choices *pos, int n, int allow_drop,
                   pw_choice_match *r)
{
    static const float inf = COST_NONE;
    float dp[N1][PW_PLATE_MAX + 1];
    signed char step[N1][PW_PLATE_MAX + 1]; /* 1: slot filled by position, 0: position dropped */
    slot_fill fills[N1][PW_PLATE_MAX];
    int m = pat->len;
    for (int i = 0; i <= n; i++)
        for (int j = 0; j <= m; j++)
            dp[i][j] = inf;
    dp[0][0] = 0;
    for (int i = 0; i <= n; i++) {
        for (int j = 0; j <= m; j++) {
            if (dp[i][j] == inf || i == n)
                continue;
            if (allow_drop) {
                float c = dp[i][j] + drop_cost(&pos[i], j == 0 || j == m);
                if (c < dp[i + 1][j]) {
                    dp[i + 1][j] = c;
                    step[i + 1][j] = 0;
                }
            }
            if (j < m) {
                slot_fill f = fill_slot(&pos[i], pat->slot[j]);
                if (f.cost == COST_NONE)
                    continue;
                fills[i][j] = f;
                float c = dp[i][j] + f.cost;
                if (c < dp[i + 1][j + 1]) {
                    dp[i + 1][j + 1] = c;
                    step[i + 1][j + 1] = 1;
                }
            }
        }
    }
    if (dp[n][m] == inf)
        return COST_NONE;
    memset(r, 0, sizeof *r);
    for (int i = n, j = m; i > 0;) {
        if (step[i][j] == 1) {
            const slot_fill *f = &fills[i - 1][j - 1];
            r->m.text[j - 1] = f->ch;
            r->char_conf[j - 1] = f->conf;
            r->m.corrections += f->corrected;
            j--;
        } else {
            r->dropped++;
        }
        i--;
    }
    r->m.text[m] = '\0';
    r->cost = dp[n][m];
    return r->cost;
}

static int wanted(const pw_country *c, const char (*countries)[PW_COUNTRY_MAX], size_t n)
{
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(countries[i], c->code) == 0)
            return 1;
    return 0;
}

/* Keeps results sorted by cost with distinct texts, at most max of them. */
static void keep(pw_choice_match *results, size_t max, size_t *n, const pw_choice_match *r)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(results[i].m.text, r->m.text) == 0) {
            if (r->cost >= results[i].cost)
                return;
            memmove(&results[i], &results[i + 1], (*n - i - 1) * sizeof *results);
            (*n)--;
            break;
        }
    }
    size_t at = *n;
    while (at > 0 && results[at - 1].cost > r->cost)
        at--;
    if (at >= max)
        return;
    size_t move = (*n < max ? *n : max - 1) - at;
    memmove(&results[at + 1], &results[at], move * sizeof *results);
    results[at] = *r;
    if (*n < max)
        (*n)++;
}

static void match_country(const pw_country *c, float rank_cost, const pw_char_choices *pos, int n,
                          int allow_drop, pw_choice_match *results, size_t max, size_t *n_res)
{
    for (guint k = 0; k < c->patterns->len; k++) {
        const pw_fixed_pattern *pat = &g_array_index(c->patterns, pw_fixed_pattern, k);
        if (pat->len > n || (!allow_drop && pat->len != n))
            continue;
        pw_choice_match r;
        if (align(pat, pos, n, allow_drop, &r) == COST_NONE)
            continue;
        r.cost += rank_cost;
        g_strlcpy(r.m.country, c->code, sizeof r.m.country);
        g_strlcpy(r.m.format, g_ptr_array_index(c->formats, pat->format), sizeof r.m.format);
        keep(results, max, n_res, &r);
    }
}

int pw_formats_match_choices(const pw_formats *f, const pw_char_choices *pos, size_t n_pos,
                             const char (*countries)[PW_COUNTRY_MAX], size_t n_countries,
                             int allow_drop, pw_choice_match *results, size_t max, size_t *n)
{
    if (!f || (!pos && n_pos) || !results || !n || max == 0 || (n_countries && !countries))
        return -EINVAL;
    *n = 0;
    if (n_pos == 0 || n_pos > 2 * PW_PLATE_MAX)
        return 0;
    for (size_t i = 0; i < n_pos; i++)
        if (pos[i].n < 1 || pos[i].n > PW_CHOICES_MAX)
            return -EINVAL;
    /*
     * Countries are tried in the caller's order: a lane lists its most likely
     * countries first, so each place down the list costs a little, and ties
     * go to the first listed. With no list, all countries rank equal.
     */
    size_t nc = n_countries ? n_countries : f->countries->len;
    for (size_t ci = 0; ci < nc; ci++) {
        for (guint k = 0; k < f->countries->len; k++) {
            const pw_country *c = g_ptr_array_index(f->countries, k);
            int hit = n_countries ? wanted(c, &countries[ci], 1) : k == ci;
            if (hit)
                match_country(c, n_countries ? COST_COUNTRY_RANK * (float)ci : 0.0f, pos, (int)n_pos,
                              allow_drop, results, max, n);
        }
    }
    return 0;
}

int pw_formats_match(const pw_formats *f, const char *reading, const char (*countries)[PW_COUNTRY_MAX],
                     size_t n_countries, pw_format_match *out)
{
    if (!f || !reading || !out || (n_countries && !countries))
        return -EINVAL;
    memset(out, 0, sizeof *out);
    char text[PW_PLATE_MAX + 1];
    size_t n = pw_plate_chars(reading, text, sizeof text);
    g_strlcpy(out->text, text, sizeof out->text);
    pw_char_choices pos[PW_PLATE_MAX];
    for (size_t i = 0; i < n; i++)
        pos[i] = (pw_char_choices){.ch = {text[i]}, .conf = {100.0f}, .n = 1};
    pw_choice_match best;
    size_t found = 0;
    int rc = pw_formats_match_choices(f, pos, n, countries, n_countries, 0, &best, 1, &found);
    if (rc < 0)
        return rc;
    if (found == 0)
        return PW_ENOPLATE;
    *out = best.m;
    return 0;
}
