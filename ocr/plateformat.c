/*
 * plateformat.c - loads the per-country plate-format files (models/formats/
 * *.fmt, syntax in models/formats/README.md) and parses country lists.
 * Matching lives in platematch.c.
 */
#include <errno.h>
#include <string.h>

#include "plateformat_internal.h"

static void country_free(gpointer p)
{
    pw_country *c = p;
    if (!c)
        return;
    g_free(c->name);
    g_strfreev(c->regions);
    if (c->formats)
        g_ptr_array_unref(c->formats);
    if (c->patterns)
        g_array_unref(c->patterns);
    g_free(c);
}

static pw_country *country_new(void)
{
    pw_country *c = g_new0(pw_country, 1);
    c->formats = g_ptr_array_new_with_free_func(g_free);
    c->patterns = g_array_new(FALSE, FALSE, sizeof(pw_fixed_pattern));
    return c;
}

/* A country code is 1-3 upper-case letters, as on the international oval sticker. */
static int valid_code(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n >= PW_COUNTRY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return 1;
}

/* A region groups countries under one name usable in country lists ("EU"). */
static int valid_region(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 8)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return 1;
}

/* "class S [A-HJ-NP-TV-Z]" names a character set for use as a slot letter. */
static int define_class(pw_country *c, const char *value, const char **why)
{
    char letter = value[0];
    if (letter < 'A' || letter > 'Z' || letter == 'L' || letter == 'N' || letter == 'A' ||
        !g_ascii_isspace(value[1])) {
        *why = "a class needs one upper-case letter other than L, N and A, then a [set]";
        return PW_EFORMATFILE;
    }
    const char *set = value + 1;
    while (g_ascii_isspace(*set))
        set++;
    pw_slot_mask mask;
    const char *end = NULL;
    int rc = pw_pattern_set(set, &end, &mask, why);
    if (rc < 0)
        return rc;
    if (*end) {
        *why = "unexpected text after the class's [set]";
        return PW_EFORMATFILE;
    }
    c->classes[letter - 'A'] = mask;
    return 0;
}

/* Applies one "keyword value" line to c; why receives the problem. */
static int apply_line(pw_country *c, const char *key, const char *value, const char **why)
{
    if (!*value) {
        *why = "the keyword has no value";
        return PW_EFORMATFILE;
    }
    if (strcmp(key, "country") == 0) {
        if (c->code[0]) {
            *why = "a second 'country' line (one country per file)";
            return PW_EFORMATFILE;
        }
        if (!valid_code(value)) {
            *why = "the country code must be 1 to 3 upper-case letters";
            return PW_EFORMATFILE;
        }
        g_strlcpy(c->code, value, sizeof c->code);
        return 0;
    }
    if (strcmp(key, "name") == 0) {
        g_free(c->name);
        c->name = g_strdup(value);
        return 0;
    }
    if (strcmp(key, "region") == 0) {
        char **names = g_strsplit_set(value, ", \t", -1);
        for (int i = 0; names[i]; i++) {
            if (*names[i] && !valid_region(names[i])) {
                g_strfreev(names);
                *why = "a region must be 1 to 8 upper-case letters, such as EU";
                return PW_EFORMATFILE;
            }
        }
        g_strfreev(c->regions);
        c->regions = names;
        return 0;
    }
    if (strcmp(key, "format") == 0) {
        if (strlen(value) >= sizeof(((pw_format_match *)0)->format)) {
            *why = "the format is longer than 23 characters";
            return PW_EFORMATFILE;
        }
        int rc = pw_pattern_expand(value, c->classes, (int)c->formats->len, c->patterns, why);
        if (rc < 0)
            return rc;
        g_ptr_array_add(c->formats, g_strdup(value));
        return 0;
    }
    if (strcmp(key, "class") == 0)
        return define_class(c, value, why);
    *why = "unknown keyword (expected country, name, region, class or format)";
    return PW_EFORMATFILE;
}

/* Splits "keyword   value  # comment" into its two parts, in place. */
static void split_line(char *line, char **key, char **value)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    g_strstrip(line);
    char *sp = line;
    while (*sp && !g_ascii_isspace(*sp))
        sp++;
    if (*sp)
        *sp++ = '\0';
    *key = line;
    *value = g_strstrip(sp);
}

static int parse_text(const char *path, char *text, pw_country *c, pw_err *err)
{
    char **lines = g_strsplit(text, "\n", -1);
    int rc = 0;
    for (int i = 0; lines[i] && rc == 0; i++) {
        char *key, *value;
        split_line(lines[i], &key, &value);
        if (!*key)
            continue;
        const char *why = NULL;
        rc = apply_line(c, key, value, &why);
        if (rc < 0)
            pw_err_set(err, rc, "%s:%d: %s", path, i + 1, why);
    }
    g_strfreev(lines);
    if (rc == 0 && !c->code[0])
        rc = pw_err_set(err, PW_EFORMATFILE, "%s: no 'country' line", path);
    if (rc == 0 && c->formats->len == 0)
        rc = pw_err_set(err, PW_EFORMATFILE, "%s: no 'format' line", path);
    return rc;
}

static int errno_of(const GError *e)
{
    if (e->domain != G_FILE_ERROR)
        return -EIO;
    switch (e->code) {
    case G_FILE_ERROR_NOENT: return -ENOENT;
    case G_FILE_ERROR_ACCES: return -EACCES;
    case G_FILE_ERROR_NOTDIR: return -ENOTDIR;
    case G_FILE_ERROR_NOMEM: return -ENOMEM;
    default: return -EIO;
    }
}

static int load_file(const char *path, pw_country **out, pw_err *err)
{
    char *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        int rc = pw_err_set(err, errno_of(gerr), "%s: %s", path, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    int rc = 0;
    if (memchr(text, '\0', len) || !g_utf8_validate(text, (gssize)len, NULL))
        rc = pw_err_set(err, PW_EFORMATFILE, "%s: not a text file (binary or invalid UTF-8)", path);
    pw_country *c = country_new();
    if (rc == 0)
        rc = parse_text(path, text, c, err);
    g_free(text);
    if (rc < 0)
        country_free(c);
    else
        *out = c;
    return rc;
}

static gint by_code(gconstpointer a, gconstpointer b)
{
    const pw_country *ca = *(pw_country *const *)a, *cb = *(pw_country *const *)b;
    return strcmp(ca->code, cb->code);
}

/* Adds c to f unless its code is already there. */
static int add_country(pw_formats *f, pw_country *c, const char *path, pw_err *err)
{
    for (guint i = 0; i < f->countries->len; i++) {
        const pw_country *o = g_ptr_array_index(f->countries, i);
        if (strcmp(o->code, c->code) == 0) {
            country_free(c);
            return pw_err_set(err, PW_EFORMATFILE, "%s: country %s is defined by another file too",
                              path, o->code);
        }
    }
    g_ptr_array_add(f->countries, c);
    return 0;
}

static int load_files(pw_formats *f, const char *dir, pw_err *err)
{
    GError *gerr = NULL;
    GDir *d = g_dir_open(dir, 0, &gerr);
    if (!d) {
        int rc = pw_err_set(err, errno_of(gerr), "%s: %s", dir, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (const char *name; (name = g_dir_read_name(d));)
        if (g_str_has_suffix(name, ".fmt"))
            g_ptr_array_add(names, g_build_filename(dir, name, NULL));
    g_dir_close(d);
    int rc = 0;
    for (guint i = 0; i < names->len && rc == 0; i++) {
        pw_country *c = NULL;
        rc = load_file(g_ptr_array_index(names, i), &c, err);
        if (rc == 0)
            rc = add_country(f, c, g_ptr_array_index(names, i), err);
    }
    if (rc == 0 && names->len == 0)
        rc = pw_err_set(err, -ENOENT, "%s: holds no plate-format (*.fmt) files", dir);
    g_ptr_array_unref(names);
    return rc;
}

int pw_formats_load_dir(const char *dir, pw_formats **out, pw_err *err)
{
    if (!dir || !out)
        return pw_err_set(err, -EINVAL, "pw_formats_load_dir: no folder or result pointer");
    *out = NULL;
    pw_formats *f = g_new0(pw_formats, 1);
    f->countries = g_ptr_array_new_with_free_func(country_free);
    int rc = load_files(f, dir, err);
    if (rc < 0) {
        pw_formats_destroy(&f);
        return rc;
    }
    g_ptr_array_sort(f->countries, by_code);
    *out = f;
    return 0;
}

void pw_formats_destroy(pw_formats **f)
{
    if (!f || !*f)
        return;
    g_ptr_array_unref((*f)->countries);
    g_free(*f);
    *f = NULL;
}

size_t pw_formats_country_count(const pw_formats *f)
{
    return f ? f->countries->len : 0;
}

const char *pw_formats_country(const pw_formats *f, size_t i)
{
    if (!f || i >= f->countries->len)
        return NULL;
    return ((const pw_country *)g_ptr_array_index(f->countries, i))->code;
}

const char *pw_formats_country_name(const pw_formats *f, size_t i)
{
    if (!f || i >= f->countries->len)
        return NULL;
    const pw_country *c = g_ptr_array_index(f->countries, i);
    return c->name ? c->name : "";
}

/* Appends code to codes unless it is there already. */
static int add_code(char codes[][PW_COUNTRY_MAX], size_t max, size_t *n, const char *code, pw_err *err)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(codes[i], code) == 0)
            return 0;
    if (*n >= max)
        return pw_err_set(err, -E2BIG, "more than %zu countries in the list", max);
    g_strlcpy(codes[(*n)++], code, PW_COUNTRY_MAX);
    return 0;
}

/* Adds the country named token, or every country of the region named token. */
static int add_token(const pw_formats *f, const char *token, char codes[][PW_COUNTRY_MAX], size_t max,
                     size_t *n, pw_err *err)
{
    int found = 0, rc = 0;
    for (guint i = 0; i < f->countries->len && rc == 0; i++) {
        const pw_country *c = g_ptr_array_index(f->countries, i);
        int in_region = c->regions && g_strv_contains((const char *const *)c->regions, token);
        if (strcmp(c->code, token) == 0 || in_region) {
            found = 1;
            rc = add_code(codes, max, n, c->code, err);
        }
    }
    if (rc == 0 && !found)
        rc = pw_err_set(err, -ENOENT, "unknown country or region '%s' (no plate-format file defines it)",
                        token);
    return rc;
}

int pw_formats_parse_countries(const pw_formats *f, const char *list, char codes[][PW_COUNTRY_MAX],
                               size_t max, size_t *n, pw_err *err)
{
    if (!f || !list || !codes || !n)
        return pw_err_set(err, -EINVAL, "pw_formats_parse_countries: missing argument");
    *n = 0;
    char **tokens = g_strsplit_set(list, ", ", -1);
    int rc = 0;
    for (int i = 0; tokens[i] && rc == 0; i++) {
        char *t = g_ascii_strup(g_strstrip(tokens[i]), -1);
        if (*t)
            rc = add_token(f, t, codes, max, n, err);
        g_free(t);
    }
    g_strfreev(tokens);
    return rc;
}
