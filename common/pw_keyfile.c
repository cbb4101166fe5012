/*
 * pw_keyfile.c - typed getters for GKeyFile values (see pw_keyfile.h).
 */
#include "pw_keyfile.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

int pw_keyfile_bad(const pw_keyfile *k, const char *group, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    int rc = pw_err_set(k->err, PW_ECONFIG, "%s: [%s] %s: %s", k->path, group, key, why);
    g_free(why);
    return rc;
}

/*
 * The stripped value, or NULL when the key or its group is absent. Other
 * GLib errors (a bad escape, invalid UTF-8) are the file's fault, so they
 * are reported rather than taken for absence. GLib 2.74 returns a value
 * together with the error for a bad escape, hence the test on gerr alone.
 */
static int raw(const pw_keyfile *k, const char *group, const char *key, char **out)
{
    GError *gerr = NULL;
    char *v = g_key_file_get_string(k->kf, group, key, &gerr);
    *out = NULL;
    if (!gerr) {
        *out = g_strstrip(v);
        return 0;
    }
    g_free(v);
    bool absent = g_error_matches(gerr, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
                  g_error_matches(gerr, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND);
    int rc = absent ? 0 : pw_keyfile_bad(k, group, key, "%s", gerr->message);
    g_error_free(gerr);
    return rc;
}

int pw_keyfile_string(const pw_keyfile *k, const char *group, const char *key, const char *def,
                      unsigned flags, char **out)
{
    char *v = NULL;
    int rc = raw(k, group, key, &v);
    if (rc < 0)
        return rc;
    if (v && !*v && (flags & PW_KEYFILE_EMPTY_IS_ABSENT))
        g_clear_pointer(&v, g_free);
    if (!v && (flags & PW_KEYFILE_REQUIRED))
        return pw_keyfile_bad(k, group, key, "missing (required)");
    if (v && !*v) {
        g_free(v);
        return pw_keyfile_bad(k, group, key, "empty value");
    }
    *out = v ? v : g_strdup(def);
    return 0;
}

int pw_keyfile_int(const pw_keyfile *k, const char *group, const char *key, int def, int min,
                   int max, int *out)
{
    char *v = NULL;
    int rc = pw_keyfile_string(k, group, key, NULL, 0, &v);
    if (!v) {
        if (rc == 0)
            *out = def;
        return rc;
    }
    gint64 n = 0;
    if (g_ascii_string_to_signed(v, 10, min, max, &n, NULL))
        *out = (int)n;
    else
        rc = pw_keyfile_bad(k, group, key, "expected a whole number from %d to %d, got \"%s\"",
                            min, max, v);
    g_free(v);
    return rc;
}

int pw_keyfile_double(const pw_keyfile *k, const char *group, const char *key, double def,
                      double min, double max, double *out)
{
    char *v = NULL;
    int rc = pw_keyfile_string(k, group, key, NULL, 0, &v);
    if (!v) {
        if (rc == 0)
            *out = def;
        return rc;
    }
    char *end = NULL;
    double d = g_ascii_strtod(v, &end);
    /* Written as "in range" so that NaN, which compares false, is refused. */
    if (end != v && *end == '\0' && d >= min && d <= max)
        *out = d;
    else if (isinf(min) && isinf(max))
        rc = pw_keyfile_bad(k, group, key, "expected a number, got \"%s\"", v);
    else
        rc = pw_keyfile_bad(k, group, key, "expected a number from %g to %g, got \"%s\"", min,
                            max, v);
    g_free(v);
    return rc;
}

int pw_keyfile_bool(const pw_keyfile *k, const char *group, const char *key, bool def, bool *out)
{
    char *v = NULL;
    int rc = pw_keyfile_string(k, group, key, NULL, 0, &v);
    if (!v) {
        if (rc == 0)
            *out = def;
        return rc;
    }
    if (!g_ascii_strcasecmp(v, "true") || !g_ascii_strcasecmp(v, "yes") || !strcmp(v, "1"))
        *out = true;
    else if (!g_ascii_strcasecmp(v, "false") || !g_ascii_strcasecmp(v, "no") || !strcmp(v, "0"))
        *out = false;
    else
        rc = pw_keyfile_bad(k, group, key, "expected true or false, got \"%s\"", v);
    g_free(v);
    return rc;
}
