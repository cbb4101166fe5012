/* pw_json.c - see pw_json.h. */
#define _POSIX_C_SOURCE 200809L
#include "pw_json.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* 17 significant digits always read back exactly for an IEEE double. */
#define MAX_DIGITS 17

static int reads_back(const char *s, double v)
{
    return g_ascii_strtod(s, NULL) == v;
}

/* The %g conversions by significant digits, written out so that no format is built per number. */
static const char *const g_formats[MAX_DIGITS + 1] = {
    "%.0g", "%.1g", "%.2g", "%.3g", "%.4g", "%.5g", "%.6g", "%.7g", "%.8g",
    "%.9g", "%.10g", "%.11g", "%.12g", "%.13g", "%.14g", "%.15g", "%.16g", "%.17g"};

static void format_g(char *buf, int digits, double v)
{
    g_ascii_formatd(buf, PW_JSON_NUMBER_MAX, g_formats[digits], v);
}

/*
 * Fewest significant digits with which %g reads back as v. Reading back is
 * monotonic in the digits (more digits are never farther from v), so a
 * binary search finds it with 4 or 5 conversions instead of up to 17.
 */
static int fewest_digits(double v, char buf[PW_JSON_NUMBER_MAX])
{
    int lo = 1, hi = MAX_DIGITS;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        format_g(buf, mid, v);
        if (reads_back(buf, v))
            hi = mid;
        else
            lo = mid + 1;
    }
    format_g(buf, lo, v);
    return lo;
}

size_t pw_json_number(double v, char buf[PW_JSON_NUMBER_MAX])
{
    if (!isfinite(v))
        return (size_t)g_strlcpy(buf, "null", PW_JSON_NUMBER_MAX);
    int p = fewest_digits(v, buf);
    char *e = strchr(buf, 'e');
    int exp10 = e ? atoi(e + 1) : 0;
    /* %g chose an exponent; plain decimals read better for magnitudes people read as such. */
    if (e && exp10 >= -5 && exp10 < MAX_DIGITS) {
        char fixed[PW_JSON_NUMBER_MAX], f[16];
        snprintf(f, sizeof f, "%%.%df", MAX(0, p - 1 - exp10));
        g_ascii_formatd(fixed, sizeof fixed, f, v);
        if (reads_back(fixed, v))
            g_strlcpy(buf, fixed, PW_JSON_NUMBER_MAX);
    }
    if (!strpbrk(buf, ".e"))
        g_strlcat(buf, ".0", PW_JSON_NUMBER_MAX);
    return strlen(buf);
}

/* Length of the number token at s (sign, digits, fraction, exponent). */
static size_t number_token(const char *s, int *floating)
{
    size_t n = 0;
    *floating = 0;
    while (s[n] && strchr("+-0123456789.eE", s[n])) {
        if (strchr(".eE", s[n]))
            *floating = 1;
        n++;
    }
    return n;
}

char *pw_json_shorten_numbers(const char *json)
{
    if (!json)
        return NULL;
    GString *out = g_string_sized_new(strlen(json));
    int in_string = 0;
    for (const char *s = json; *s;) {
        if (in_string) {
            /* An escaped character (\" in particular) never ends the string. */
            size_t n = (*s == '\\' && s[1]) ? 2 : 1;
            if (*s == '"')
                in_string = 0;
            g_string_append_len(out, s, (gssize)n);
            s += n;
        } else if (*s == '"') {
            in_string = 1;
            g_string_append_c(out, *s++);
        } else if (*s == '-' || g_ascii_isdigit(*s)) {
            int floating;
            size_t n = number_token(s, &floating);
            char num[PW_JSON_NUMBER_MAX];
            /* strtod stops where the token ends: the text after it is not copied. */
            if (floating)
                g_string_append_len(out, num, (gssize)pw_json_number(g_ascii_strtod(s, NULL), num));
            else
                g_string_append_len(out, s, (gssize)n);
            s += n;
        } else {
            g_string_append_c(out, *s++);
        }
    }
    return g_string_free(out, FALSE);
}

char *pw_json_to_string(JsonNode *root, gboolean pretty)
{
    char *raw = json_to_string(root, pretty);
    char *text = pw_json_shorten_numbers(raw);
    g_free(raw);
    return text;
}

char *pw_json_builder_to_string(JsonBuilder *b, gboolean pretty)
{
    JsonNode *root = json_builder_get_root(b);
    char *text = pw_json_to_string(root, pretty);
    json_node_unref(root);
    return text;
}

/* A linear scan, so that json-glib's recursive parser never sees input deep enough to overflow the stack. */
int pw_json_check_depth(const char *text, size_t len, pw_err *err)
{
    int depth = 0;
    long line = 1, col = 0;
    int in_string = 0, escaped = 0;
    for (size_t i = 0; text && i < len; i++) {
        char c = text[i];
        col++;
        if (c == '\n') {
            line++;
            col = 0;
        }
        if (in_string) {
            /* Only a quote that is not escaped ends the string. */
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > PW_JSON_MAX_DEPTH)
                return pw_err_set(err, PW_EMSG, "line %ld column %ld: arrays and objects "
                                  "nest deeper than %d levels", line, col, PW_JSON_MAX_DEPTH);
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}
