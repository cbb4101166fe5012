/*
 * pw_settings.c - declarative configuration tables (see pw_settings.h):
 * the line index of a key file, unknown and repeated keys, typed values.
 */
#include "pw_settings.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct pw_settings_file {
    char *path;
    GKeyFile *kf;
    GHashTable *lines; /* "group" or "group\nkey" -> line number */
};

static char *index_key(const char *group, const char *key)
{
    return key ? g_strconcat(group, "\n", key, NULL) : g_strdup(group);
}

/*
 * Records where each group and key is, refusing repeats. GKeyFile has
 * already accepted the syntax, so a line here is blank, a comment, a group
 * header or "key = value" (text before '=' is the key, as GKeyFile reads it).
 */
static int scan_lines(pw_settings_file *f, const char *text, pw_err *err)
{
    gchar **lines = g_strsplit(text, "\n", -1);
    char *group = NULL;
    int rc = 0;
    for (int i = 0; lines[i] && rc == 0; i++) {
        char *l = g_strchug(lines[i]), *end = strrchr(l, ']'), *eq = strchr(l, '=');
        char *key = NULL;
        if (*l == '[' && end) {
            g_free(group);
            group = g_strndup(l + 1, (gsize)(end - l - 1));
        } else if (group && *l != '#' && eq) {
            key = g_strstrip(g_strndup(l, (gsize)(eq - l)));
        } else {
            continue;
        }
        char *k = index_key(group, key);
        int first = GPOINTER_TO_INT(g_hash_table_lookup(f->lines, k));
        if (first) {
            rc = pw_err_set(err, PW_ECONFIG, "%s:%d: [%s]%s%s: repeated %s (first on line %d)", f->path, i + 1,
                            group, key ? " " : "", key ? key : "", key ? "key" : "group", first);
            g_free(k);
        } else {
            g_hash_table_insert(f->lines, k, GINT_TO_POINTER(i + 1));
        }
        g_free(key);
    }
    g_free(group);
    g_strfreev(lines);
    return rc;
}

int pw_settings_file_load(const char *path, pw_settings_file **out, pw_err *err)
{
    if (!path || !out)
        return pw_err_set(err, -EINVAL, "no configuration file given");
    *out = NULL;
    char *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        int code = g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT : PW_ECONFIG;
        pw_err_set(err, code, "%s: %s", path, gerr->message);
        g_error_free(gerr);
        return code;
    }
    pw_settings_file *f = g_new0(pw_settings_file, 1);
    f->path = g_strdup(path);
    f->kf = g_key_file_new();
    f->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int rc = 0;
    if (!g_key_file_load_from_data(f->kf, text, (gsize)-1, G_KEY_FILE_NONE, &gerr)) {
        rc = pw_err_set(err, PW_ECONFIG, "%s: %s", path, gerr->message);
        g_error_free(gerr);
    } else {
        rc = scan_lines(f, text, err);
    }
    g_free(text);
    if (rc < 0) {
        pw_settings_file_destroy(&f);
        return rc;
    }
    *out = f;
    return 0;
}

void pw_settings_file_destroy(pw_settings_file **fp)
{
    if (!fp || !*fp)
        return;
    pw_settings_file *f = *fp;
    g_key_file_free(f->kf);
    g_hash_table_destroy(f->lines);
    g_free(f->path);
    g_free(f);
    *fp = NULL;
}

GKeyFile *pw_settings_file_keyfile(const pw_settings_file *f)
{
    return f->kf;
}

const char *pw_settings_file_path(const pw_settings_file *f)
{
    return f->path;
}

int pw_settings_file_line(const pw_settings_file *f, const char *group, const char *key)
{
    char *k = index_key(group, key);
    int line = GPOINTER_TO_INT(g_hash_table_lookup(f->lines, k));
    g_free(k);
    return line;
}

int pw_settings_bad(const pw_settings_file *f, pw_err *err, const char *group, const char *key, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* An absent key is reported at its group's header. */
    int line = pw_settings_file_line(f, group, key);
    if (!line && key)
        line = pw_settings_file_line(f, group, NULL);
    char at[16] = "";
    if (line)
        g_snprintf(at, sizeof at, ":%d", line);
    pw_err_set(err, PW_ECONFIG, "%s%s: [%s]%s%s: %s", f->path, at, group, key ? " " : "", key ? key : "", why);
    g_free(why);
    return PW_ECONFIG;
}

const pw_setting *pw_settings_find(const pw_setting *table, size_t n, const char *tgroup, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(table[i].group, tgroup) && !strcmp(table[i].key, key))
            return &table[i];
    return NULL;
}

/* Levenshtein distance: insertions, deletions and substitutions each cost 1. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = g_new(size_t, lb + 1);
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t sub = diag + (a[i - 1] != b[j - 1]);
            row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), sub);
            diag = up;
        }
    }
    size_t d = row[lb];
    g_free(row);
    return d;
}

const char *pw_settings_suggest(const pw_setting *table, size_t n, const char *tgroup, const char *key)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].group, tgroup) != 0)
            continue;
        size_t d = edit_distance(key, table[i].key);
        if (d < best_d)
            best = table[i].key, best_d = d;
    }
    /* Farther than a third of the word is another word, not a misspelling of this one. */
    size_t limit = MAX(2, strlen(key) / 3);
    return best_d <= limit ? best : NULL;
}

int pw_settings_check_id(const char *v, pw_err *err)
{
    size_t len = strlen(v);
    if (len == 0 || len > PW_ID_MAX)
        return pw_err_set(err, PW_ECONFIG, "\"%s\" is %zu characters long: use 1 to %d", v, len,
                          PW_ID_MAX);
    for (const char *c = v; *c; c++)
        if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_')
            return pw_err_set(err, PW_ECONFIG, "\"%s\" has '%c': use letters, digits, '-' or '_' "
                              "(it is part of topics and journal rows)", v, *c);
    return 0;
}

static int set_string(const pw_setting *s, const char *v, void *field, GPtrArray *strings, pw_err *err)
{
    int rc = (s->flags & PW_SETTING_ID) ? pw_settings_check_id(v, err) : 0;
    if (rc < 0)
        return rc;
    if (!strings)
        return pw_err_set(err, PW_ECONFIG, "a text value cannot be set here");
    char *copy = g_strdup(v);
    g_ptr_array_add(strings, copy);
    *(const char **)field = copy;
    return 0;
}

static int parse_number(const char *v, double min, double max, double *out)
{
    char *end = NULL;
    double d = g_ascii_strtod(v, &end);
    /* Written as "in range" so that NaN, which compares false, is refused. */
    if (end == v || *end || !(d >= min && d <= max))
        return -1;
    *out = d;
    return 0;
}

static int parse_size(const char *v, double min, double max, int64_t *out)
{
    static const char units[] = "KMG";
    gsize len = strlen(v);
    int shift = 0;
    const char *u = len ? strchr(units, g_ascii_toupper(v[len - 1])) : NULL;
    if (u && *u)
        shift = 10 * (int)(u - units + 1), len--;
    char *digits = g_strndup(v, len);
    guint64 n = 0;
    gboolean ok = g_ascii_string_to_unsigned(digits, 10, 0, G_MAXINT64 >> shift, &n, NULL);
    g_free(digits);
    int64_t bytes = (int64_t)(n << shift);
    if (!ok || bytes < min || bytes > max)
        return -1;
    *out = bytes;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!g_ascii_strcasecmp(v, "true") || !g_ascii_strcasecmp(v, "yes") || !strcmp(v, "1"))
        *out = 1;
    else if (!g_ascii_strcasecmp(v, "false") || !g_ascii_strcasecmp(v, "no") || !strcmp(v, "0"))
        *out = 0;
    else
        return -1;
    return 0;
}

static void expected(const pw_setting *s, GString *out);

static int refuse(const pw_setting *s, const char *v, pw_err *err)
{
    GString *want = g_string_new(NULL);
    expected(s, want);
    pw_err_set(err, PW_ECONFIG, "expected %s, got \"%s\"", want->str, v);
    g_string_free(want, TRUE);
    return PW_ECONFIG;
}

int pw_setting_set(const pw_setting *s, const char *v, void *base, GPtrArray *strings, void *ctx, pw_err *err)
{
    void *field = (char *)base + s->offset;
    double d = 0;
    int b = 0;
    gint64 n = 0;
    if (!*v && s->type != PW_SETTING_STRING)
        return pw_err_set(err, PW_ECONFIG, "empty value");
    switch (s->type) {
    case PW_SETTING_STRING:
        return set_string(s, v, field, strings, err);
    case PW_SETTING_INT:
    case PW_SETTING_INT64:
        if (!g_ascii_string_to_signed(v, 10, (gint64)s->min, (gint64)s->max, &n, NULL))
            return refuse(s, v, err);
        if (s->type == PW_SETTING_INT)
            *(int *)field = (int)n;
        else
            *(int64_t *)field = n * (int64_t)(s->scale > 0 ? s->scale : 1);
        return 0;
    case PW_SETTING_SIZE:
        return parse_size(v, s->min, s->max, field) < 0 ? refuse(s, v, err) : 0;
    case PW_SETTING_FLOAT:
    case PW_SETTING_DOUBLE:
        if (parse_number(v, s->min, s->max, &d) < 0)
            return refuse(s, v, err);
        if (s->type == PW_SETTING_FLOAT)
            *(float *)field = (float)d;
        else
            *(double *)field = d;
        return 0;
    case PW_SETTING_BOOL:
    case PW_SETTING_CBOOL:
        if (parse_bool(v, &b) < 0)
            return refuse(s, v, err);
        b = (s->flags & PW_SETTING_INVERT) ? !b : b;
        if (s->type == PW_SETTING_BOOL)
            *(int *)field = b;
        else
            *(bool *)field = b;
        return 0;
    case PW_SETTING_ENUM:
        for (int i = 0; s->choices[i]; i++)
            if (!strcmp(v, s->choices[i])) {
                *(int *)field = i;
                return 0;
            }
        return refuse(s, v, err);
    case PW_SETTING_CUSTOM:
        return s->parse(s, v, field, ctx, err);
    }
    return pw_err_set(err, -EINVAL, "setting %s has no type", s->key);
}

/* The value, or NULL when the key is absent; a bad escape or encoding is the file's fault. */
static int raw_value(const pw_settings_file *f, const char *group, const char *key, char **out, pw_err *err)
{
    GError *gerr = NULL;
    char *v = g_key_file_get_string(f->kf, group, key, &gerr);
    *out = NULL;
    if (!gerr) {
        *out = g_strstrip(v);
        return 0;
    }
    g_free(v);
    int rc = pw_settings_bad(f, err, group, key, "%s", gerr->message);
    g_error_free(gerr);
    return rc;
}

static int apply_one(const pw_settings_file *f, const pw_setting *s, const char *group, void *base,
                     GPtrArray *strings, void *ctx, pw_err *err)
{
    if (!g_key_file_has_key(f->kf, group, s->key, NULL))
        return (s->flags & PW_SETTING_REQUIRED) ? pw_settings_bad(f, err, group, s->key, "missing (required)") : 0;
    char *v = NULL;
    int rc = raw_value(f, group, s->key, &v, err);
    if (rc < 0)
        return rc;
    pw_err why = {0};
    if (!*v && (s->flags & PW_SETTING_EMPTY_IS_ABSENT))
        rc = (s->flags & PW_SETTING_REQUIRED) ? pw_err_set(&why, PW_ECONFIG, "missing (required)") : 0;
    else if (!*v)
        rc = pw_err_set(&why, PW_ECONFIG, "empty value");
    else
        rc = pw_setting_set(s, v, base, strings, ctx, &why);
    if (rc < 0)
        rc = pw_settings_bad(f, err, group, s->key, "%s", why.msg);
    g_free(v);
    return rc;
}

static int refuse_unknown(const pw_settings_file *f, const pw_setting *table, size_t n, const char *group,
                          const char *tgroup, pw_err *err)
{
    gchar **keys = g_key_file_get_keys(f->kf, group, NULL, NULL);
    int rc = 0;
    for (gchar **k = keys; k && *k && rc == 0; k++) {
        if (pw_settings_find(table, n, tgroup, *k))
            continue;
        const char *near = pw_settings_suggest(table, n, tgroup, *k);
        rc = near ? pw_settings_bad(f, err, group, *k, "unknown key; did you mean %s?", near)
                  : pw_settings_bad(f, err, group, *k, "unknown key (docs/settings.md lists the keys of [%s])",
                                    group);
    }
    g_strfreev(keys);
    return rc;
}

int pw_settings_apply(const pw_settings_file *f, const pw_setting *table, size_t n, const char *group,
                      const char *tgroup, void *base, GPtrArray *strings, void *ctx, pw_err *err)
{
    int rc = refuse_unknown(f, table, n, group, tgroup, err);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!strcmp(table[i].group, tgroup))
            rc = apply_one(f, &table[i], group, base, strings, ctx, err);
    return rc;
}

static void format_size(int64_t v, GString *out)
{
    static const char *const units[] = {"", "K", "M", "G"};
    int u = 0;
    while (u < 3 && v != 0 && v % 1024 == 0)
        v /= 1024, u++;
    g_string_append_printf(out, "%" PRId64 "%s", v, units[u]);
}

void pw_setting_format(const pw_setting *s, const void *base, GString *out)
{
    const void *field = (const char *)base + s->offset;
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    int b;
    switch (s->type) {
    case PW_SETTING_STRING:
        g_string_append(out, *(const char *const *)field ? *(const char *const *)field : "");
        break;
    case PW_SETTING_INT:
        g_string_append_printf(out, "%d", *(const int *)field);
        break;
    case PW_SETTING_INT64:
        g_string_append_printf(out, "%" PRId64, *(const int64_t *)field / (int64_t)(s->scale > 0 ? s->scale : 1));
        break;
    case PW_SETTING_SIZE:
        format_size(*(const int64_t *)field, out);
        break;
    case PW_SETTING_FLOAT:
    case PW_SETTING_DOUBLE:
        g_string_append(out, g_ascii_formatd(num, sizeof num, "%g", s->type == PW_SETTING_FLOAT
                                                                            ? (double)*(const float *)field
                                                                            : *(const double *)field));
        break;
    case PW_SETTING_BOOL:
    case PW_SETTING_CBOOL:
        b = s->type == PW_SETTING_BOOL ? *(const int *)field : *(const bool *)field;
        g_string_append(out, ((s->flags & PW_SETTING_INVERT) ? !b : b) ? "true" : "false");
        break;
    case PW_SETTING_ENUM:
        g_string_append(out, s->choices[*(const int *)field]);
        break;
    case PW_SETTING_CUSTOM:
        s->format(s, field, out);
        break;
    }
}

static void append_bound(GString *out, double v, bool whole)
{
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(out, g_ascii_formatd(num, sizeof num, whole ? "%.0f" : "%g", v));
}

static void append_range(GString *out, const pw_setting *s, bool whole)
{
    if (isinf(s->max)) {
        g_string_append(out, " of at least ");
        append_bound(out, s->min, whole);
        return;
    }
    g_string_append(out, " from ");
    append_bound(out, s->min, whole);
    g_string_append(out, " to ");
    append_bound(out, s->max, whole);
}

/* How a value of s is written, e.g. "a whole number from 1 to 16". */
static void expected(const pw_setting *s, GString *out)
{
    switch (s->type) {
    case PW_SETTING_STRING:
        if (s->flags & PW_SETTING_ID)
            g_string_append_printf(out, "1-%d letters, digits, '-' or '_'", PW_ID_MAX);
        else
            g_string_append(out, "text");
        break;
    case PW_SETTING_INT:
    case PW_SETTING_INT64:
        g_string_append(out, "a whole number");
        append_range(out, s, true);
        break;
    case PW_SETTING_SIZE:
        g_string_append(out, "a size in bytes (K, M or G: powers of 1024) from ");
        format_size((int64_t)s->min, out);
        g_string_append(out, " to ");
        format_size((int64_t)s->max, out);
        break;
    case PW_SETTING_FLOAT:
    case PW_SETTING_DOUBLE:
        if (isinf(s->min) && isinf(s->max)) {
            g_string_append(out, "a number");
            break;
        }
        g_string_append(out, "a number");
        append_range(out, s, false);
        break;
    case PW_SETTING_BOOL:
    case PW_SETTING_CBOOL:
        g_string_append(out, "true or false");
        break;
    case PW_SETTING_ENUM:
        for (int i = 0; s->choices[i]; i++)
            g_string_append_printf(out, "%s%s", i == 0 ? "" : s->choices[i + 1] ? ", " : " or ", s->choices[i]);
        break;
    case PW_SETTING_CUSTOM:
        g_string_append(out, s->type_doc);
        break;
    }
}

void pw_settings_markdown(const pw_setting *table, size_t n, const char *tgroup, const void *defaults,
                          GString *md)
{
    g_string_append(md, "| key | value | default | what |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const pw_setting *s = &table[i];
        if (strcmp(s->group, tgroup) != 0)
            continue;
        g_string_append_printf(md, "| `%s` | ", s->key);
        expected(s, md);
        g_string_append(md, " | ");
        if (s->flags & PW_SETTING_REQUIRED) {
            g_string_append(md, "required");
        } else if (s->doc_default) {
            g_string_append(md, s->doc_default);
        } else {
            GString *v = g_string_new(NULL);
            pw_setting_format(s, defaults, v);
            g_string_append_printf(md, v->len ? "`%s`" : "(none)", v->str);
            g_string_free(v, TRUE);
        }
        g_string_append_printf(md, " | %s%s |\n", s->doc, (s->flags & PW_SETTING_VARIANT) ? " (`--variant`)" : "");
    }
}

int pw_settings_check_ranges(const pw_setting *table, size_t n, const void *base, pw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const pw_setting *s = &table[i];
        const void *field = (const char *)base + s->offset;
        double v;
        switch (s->type) {
        case PW_SETTING_INT:
            v = *(const int *)field;
            break;
        case PW_SETTING_INT64:
            v = (double)*(const int64_t *)field / (s->scale > 0 ? s->scale : 1);
            break;
        case PW_SETTING_SIZE:
            v = (double)*(const int64_t *)field;
            break;
        case PW_SETTING_FLOAT:
            v = *(const float *)field;
            break;
        case PW_SETTING_DOUBLE:
            v = *(const double *)field;
            break;
        default:
            continue;
        }
        if (!(v >= s->min && v <= s->max)) {
            GString *want = g_string_new(NULL);
            expected(s, want);
            pw_err_set(err, PW_ECONFIG, "[%s] %s %g: expected %s", s->group, s->key, v, want->str);
            g_string_free(want, TRUE);
            return PW_ECONFIG;
        }
    }
    return 0;
}
