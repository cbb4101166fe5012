/*
 * pw_keyfile.h - typed getters for GKeyFile configuration values, shared by
 * every program that reads a configuration file, so that all of them accept
 * the same spellings and word their errors the same way.
 *
 * Each getter returns 0, or PW_ECONFIG with k->err set to
 * "PATH: [GROUP] KEY: why". A key that is absent (or whose group is absent)
 * gives the caller's default; a key that is present is stripped of
 * surrounding blanks and must then hold a valid value.
 *
 * Ownership: pw_keyfile only borrows its key file, path and error buffer,
 * so it is a plain struct that lives on the caller's stack for one load.
 * Strings returned through char **out are newly allocated (also the copy
 * of a default) and the caller frees them with g_free(); on error *out is
 * left untouched.
 */
#ifndef PW_KEYFILE_H
#define PW_KEYFILE_H

#include <glib.h>
#include <stdbool.h>

#include "pw_common.h"

typedef struct {
    GKeyFile *kf;     /* borrowed, already loaded */
    const char *path; /* the file's name, first in every message */
    pw_err *err;      /* may be NULL */
} pw_keyfile;

/* Flags for pw_keyfile_string(). */
enum {
    PW_KEYFILE_REQUIRED = 1 << 0,       /* absent is an error: "missing (required)" */
    PW_KEYFILE_EMPTY_IS_ABSENT = 1 << 1 /* "key =" gives the default instead of "empty value" */
};

/* Sets k->err to "PATH: [GROUP] KEY: " followed by the formatted reason; returns PW_ECONFIG. */
int pw_keyfile_bad(const pw_keyfile *k, const char *group, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A string; absent gives a copy of def (NULL when def is NULL). flags: PW_KEYFILE_*. */
int pw_keyfile_string(const pw_keyfile *k, const char *group, const char *key, const char *def,
                      unsigned flags, char **out);

/* A whole number in min..max (decimal, no unit); absent gives def. */
int pw_keyfile_int(const pw_keyfile *k, const char *group, const char *key, int def, int min,
                   int max, int *out);

/* A number in min..max (NaN never is; infinite bounds mean no limit); absent gives def. */
int pw_keyfile_double(const pw_keyfile *k, const char *group, const char *key, double def,
                      double min, double max, double *out);

/* true, yes, 1 or false, no, 0 (letters in any case); absent gives def. */
int pw_keyfile_bool(const pw_keyfile *k, const char *group, const char *key, bool def, bool *out);

#endif
