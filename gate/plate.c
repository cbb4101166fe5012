/*
 * plate.c - plate normalisation, the OCR-confusion-aware edit distance and
 * the candidate index keys (docs/gate.md, "Matching" and "Candidate search").
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <errno.h>
#include <string.h>

int pw_plate_normalise(const char *in, char *out, size_t size)
{
    size_t n = 0;
    if (!in || !out || size == 0)
        return -EINVAL;
    for (const char *c = in; *c; c++) {
        if (*c == ' ' || *c == '-' || *c == '.')
            continue;
        if (!g_ascii_isalnum(*c) || n + 1 >= size)
            return -EINVAL;
        out[n++] = g_ascii_toupper(*c);
    }
    out[n] = '\0';
    return n ? (int)n : -EINVAL;
}

/* The symbol a character is read as when OCR confuses it. */
static char fold_char(char c)
{
    switch (c) {
    case 'O': case 'Q': case 'D': return '0';
    case 'I': return '1';
    case 'B': return '8';
    case 'S': return '5';
    case 'Z': return '2';
    case 'G': return '6';
    default: return c;
    }
}

void pw_plate_fold(const char *norm, char *out, size_t size)
{
    size_t n = 0;
    for (; norm[n] && n + 1 < size; n++)
        out[n] = fold_char(norm[n]);
    out[n] = '\0';
}

static double min3(double a, double b, double c)
{
    double m = a < b ? a : b;
    return m < c ? m : c;
}

double pw_plate_distance(const char *a, const char *b, double confusion_cost)
{
    /* Two rows of the Wagner-Fischer table suffice; plates are short. */
    double prev[PW_PLATE_MAX + 2], cur[PW_PLATE_MAX + 2];
    size_t la = strnlen(a, PW_PLATE_MAX), lb = strnlen(b, PW_PLATE_MAX);
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (double)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (double)i;
        for (size_t j = 1; j <= lb; j++) {
            double sub = 1.0;
            if (a[i - 1] == b[j - 1])
                sub = 0.0;
            else if (fold_char(a[i - 1]) == fold_char(b[j - 1]))
                sub = confusion_cost;
            cur[j] = min3(prev[j - 1] + sub, prev[j] + 1.0, cur[j - 1] + 1.0);
        }
        memcpy(prev, cur, sizeof(double) * (lb + 1));
    }
    return prev[lb];
}

/* FNV-1a over a tag, the stored plate length and a slice of the folded plate. */
static int64_t key_hash(char tag, size_t len, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    const unsigned char head[2] = {(unsigned char)tag, (unsigned char)len};
    for (int i = 0; i < 2; i++)
        h = (h ^ head[i]) * 1099511628211ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (int64_t)h;
}

/* FNV-1a continued over more bytes. */
static uint64_t fnv_more(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The key of the folded characters s[0:a] followed by s[len-b:len]. */
static int64_t two_part_key(char tag, size_t m, const char *s, size_t len, size_t a, size_t b)
{
    uint64_t h = (uint64_t)key_hash(tag, m, s, a);
    return (int64_t)fnv_more(h, s + len - b, b);
}

/*
 * A stored plate of length m is cut into three pieces at k1 = m / 3 and
 * k2 = 2m / 3. One edit (substitution, insertion or deletion) breaks at
 * most one piece; the two others survive, those before the edit at their
 * place and those after it shifted to the end. So a read within one edit
 * shares one of three keys: the prefix of length k2 (edit in the last
 * piece), the suffix of length m - k1 (edit in the first), or the first
 * piece followed by the last (edit in the middle). Confusions are folded
 * away before cutting, so they cost nothing here. docs/gate.md has more.
 */
int pw_plate_store_keys(const char *norm, int64_t keys[PW_PLATE_KEYS])
{
    char f[PW_PLATE_MAX + 1];
    pw_plate_fold(norm, f, sizeof f);
    size_t m = strlen(f);
    if (m == 0)
        return 0;
    size_t k1 = m / 3, k2 = 2 * m / 3;
    keys[0] = key_hash('P', m, f, k2);
    keys[1] = key_hash('S', m, f + k1, m - k1);
    keys[2] = two_part_key('X', m, f, m, k1, m - k2);
    return 3;
}

int pw_plate_query_keys(const char *norm, int64_t keys[PW_QUERY_KEYS])
{
    char f[PW_PLATE_MAX + 1];
    pw_plate_fold(norm, f, sizeof f);
    size_t n = strlen(f);
    int count = 0;
    for (size_t m = n > 1 ? n - 1 : 1; m <= n + 1 && m <= PW_PLATE_MAX; m++) {
        size_t k1 = m / 3, k2 = 2 * m / 3;
        if (k2 <= n)
            keys[count++] = key_hash('P', m, f, k2);
        if (m - k1 <= n)
            keys[count++] = key_hash('S', m, f + n - (m - k1), m - k1);
        if (k1 + (m - k2) <= n)
            keys[count++] = two_part_key('X', m, f, n, k1, m - k2);
    }
    return count;
}
