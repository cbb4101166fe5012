/*
 * pattern.c - parses one plate-format pattern ("LL-NNN-LL", "L{1,3} N{1,4}",
 * "[A-HJ-NP-Z]N{3}") into slots and expands it into fixed-length sequences.
 * The syntax is documented in models/formats/README.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plateformat_internal.h"

/* A parsed slot: the characters it admits and how often it repeats. */
typedef struct {
    pw_slot_mask mask;
    int min, max;
} slot_rep;

/* More expansions than this means the pattern is a mistake, not a plate format. */
#define MAX_EXPANSIONS 512
#define MAX_SLOTS 32

static int is_separator(char c)
{
    return c == '-' || c == ' ' || c == '.' || c == '/' || c == '\t';
}

int pw_pattern_set(const char *s, const char **end, pw_slot_mask *mask, const char **why)
{
    pw_slot_mask m = 0;
    if (*s++ != '[') {
        *why = "a character set must start with '['";
        return PW_EFORMATFILE;
    }
    while (*s && *s != ']') {
        char lo = *s, hi = *s;
        if (s[1] == '-' && s[2] && s[2] != ']') {
            hi = s[2];
            s += 3;
        } else {
            s++;
        }
        int same_kind = (lo >= 'A' && hi <= 'Z') || (lo >= '0' && hi <= '9');
        if (!pw_char_mask(lo) || !pw_char_mask(hi) || hi < lo || !same_kind) {
            *why = "a character set holds something other than A-Z, 0-9 and ranges such as A-H";
            return PW_EFORMATFILE;
        }
        for (char c = lo; c <= hi; c++)
            m |= pw_char_mask(c);
    }
    if (*s != ']') {
        *why = "a '[' has no closing ']'";
        return PW_EFORMATFILE;
    }
    if (!m) {
        *why = "a character set is empty";
        return PW_EFORMATFILE;
    }
    *end = s + 1;
    *mask = m;
    return 0;
}

/* Parses an optional "{n}", "{m,n}" or "?" after a slot. */
static int parse_quantifier(const char *s, const char **end, int *min, int *max, const char **why)
{
    *min = *max = 1;
    *end = s;
    if (*s == '?') {
        *min = 0;
        *end = s + 1;
        return 0;
    }
    if (*s != '{')
        return 0;
    int a = 0, b = 0, n = 0;
    if (sscanf(s, "{%d,%d}%n", &a, &b, &n) == 2 && n > 0) {
        /* "{m,n}" */
    } else if (sscanf(s, "{%d}%n", &a, &n) == 1 && n > 0) {
        b = a;
    } else {
        *why = "a repeat count is not of the form {n} or {m,n}";
        return PW_EFORMATFILE;
    }
    if (a < 0 || b < a || b > PW_PLATE_MAX || b == 0) {
        *why = "a repeat count is out of range (0 <= m <= n <= 16, n > 0)";
        return PW_EFORMATFILE;
    }
    *min = a;
    *max = b;
    *end = s + n;
    return 0;
}

static int parse_slots(const char *p, const pw_slot_mask classes[26], slot_rep *slots, int *n_slots,
                       const char **why)
{
    int n = 0;
    while (*p) {
        if (is_separator(*p)) {
            p++;
            continue;
        }
        pw_slot_mask mask;
        if (*p == 'L') {
            mask = PW_MASK_LETTERS;
            p++;
        } else if (*p == 'N') {
            mask = PW_MASK_DIGITS;
            p++;
        } else if (*p == 'A') {
            mask = PW_MASK_LETTERS | PW_MASK_DIGITS;
            p++;
        } else if (*p == '[') {
            int rc = pw_pattern_set(p, &p, &mask, why);
            if (rc < 0)
                return rc;
        } else if (*p >= '0' && *p <= '9') {
            mask = pw_char_mask(*p); /* a digit stands for itself: "97N" */
            p++;
        } else if (*p >= 'A' && *p <= 'Z' && classes[*p - 'A']) {
            mask = classes[*p - 'A'];
            p++;
        } else {
            *why = "unknown slot letter (use L, N, A, a [set], a digit, a letter defined by "
                   "'class', and separators - . / space)";
            return PW_EFORMATFILE;
        }
        if (n == MAX_SLOTS) {
            *why = "the pattern has too many slots";
            return PW_EFORMATFILE;
        }
        int rc = parse_quantifier(p, &p, &slots[n].min, &slots[n].max, why);
        if (rc < 0)
            return rc;
        slots[n++].mask = mask;
    }
    *n_slots = n;
    return 0;
}

typedef struct {
    const slot_rep *slots;
    int n_slots;
    int format;
    GArray *out;
    int count;
} expansion;

static int expand(expansion *e, int slot, pw_fixed_pattern *cur)
{
    if (slot == e->n_slots) {
        if (cur->len == 0)
            return 0;
        if (++e->count > MAX_EXPANSIONS)
            return -E2BIG;
        g_array_append_val(e->out, *cur);
        return 0;
    }
    const slot_rep *s = &e->slots[slot];
    int len0 = cur->len;
    for (int k = s->min; k <= s->max; k++) {
        if (len0 + k > PW_PLATE_MAX)
            break;
        for (int i = 0; i < k; i++)
            cur->slot[len0 + i] = s->mask;
        cur->len = len0 + k;
        int rc = expand(e, slot + 1, cur);
        if (rc < 0)
            return rc;
    }
    cur->len = len0;
    return 0;
}

int pw_pattern_expand(const char *pattern, const pw_slot_mask classes[26], int format_index,
                      GArray *patterns, const char **why)
{
    slot_rep slots[MAX_SLOTS];
    int n_slots = 0;
    int rc = parse_slots(pattern, classes, slots, &n_slots, why);
    if (rc < 0)
        return rc;
    int min_len = 0;
    for (int i = 0; i < n_slots; i++)
        min_len += slots[i].min;
    if (min_len > PW_PLATE_MAX) {
        *why = "the pattern is longer than 16 characters";
        return PW_EFORMATFILE;
    }
    guint before = patterns->len;
    pw_fixed_pattern cur = {.len = 0, .format = format_index};
    expansion e = {slots, n_slots, format_index, patterns, 0};
    rc = expand(&e, 0, &cur);
    if (rc == -E2BIG) {
        g_array_set_size(patterns, before);
        *why = "the pattern allows more than 512 lengths and combinations";
        return PW_EFORMATFILE;
    }
    if (patterns->len == before) {
        *why = "the pattern admits no characters";
        return PW_EFORMATFILE;
    }
    return 0;
}
