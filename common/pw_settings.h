/*
 * pw_settings.h - declarative configuration tables, in the manner of
 * redis's standardConfig table: each program describes its keys once (group,
 * key, type, range, one-line doc, where the value lives in its struct), and
 * the file parser, `platewatchd --check`, `bench video --variant` and the
 * generated reference (docs/settings.md) all work from that one table.
 *
 * Defaults are not written in the table: a key's default is whatever the
 * struct holds before the file is applied, i.e. what the owning module's
 * defaults function put there (pw_read_settings_defaults() for the read
 * settings, pw_lane_config_defaults(), pw_gate_config_defaults() ...). The
 * reference prints them by formatting a struct filled by those functions,
 * so each default is written exactly once.
 *
 * A configuration file is GKeyFile syntax. GKeyFile silently merges
 * repeated groups and keys and keeps no line numbers, so pw_settings_file
 * also scans the text line by line: a repeated group or key is refused, and
 * every message names "PATH:LINE: [GROUP] KEY: why". A key no table entry
 * knows is refused with the closest known key of that group suggested.
 *
 * Ownership: a pw_settings_file owns its GKeyFile and line index
 * (pw_settings_file_destroy() frees it and nulls the pointer). Tables are
 * static and borrowed. Strings set by pw_settings_apply() and
 * pw_setting_set() are allocated into the caller's GPtrArray (which must
 * free with g_free), so string fields may keep pointing at static defaults.
 */
#ifndef PW_SETTINGS_H
#define PW_SETTINGS_H

#include <glib.h>
#include <stddef.h>

#include "pw_common.h"

typedef enum {
    PW_SETTING_STRING, /* const char * */
    PW_SETTING_INT,    /* int, whole number in min..max */
    PW_SETTING_INT64,  /* int64_t holding value * scale (e.g. milliseconds kept as ns) */
    PW_SETTING_SIZE,   /* int64_t bytes; the value may end in K, M or G (powers of 1024) */
    PW_SETTING_FLOAT,  /* float in min..max */
    PW_SETTING_DOUBLE, /* double in min..max (infinite bounds: any number) */
    PW_SETTING_BOOL,   /* int 0/1: true, yes, 1 or false, no, 0 */
    PW_SETTING_CBOOL,  /* bool, spelt as PW_SETTING_BOOL */
    PW_SETTING_ENUM,   /* int: the index of the value in choices */
    PW_SETTING_CUSTOM  /* parsed and formatted by the entry's functions */
} pw_setting_type;

enum {
    PW_SETTING_REQUIRED = 1 << 0,       /* absent is an error */
    PW_SETTING_EMPTY_IS_ABSENT = 1 << 1, /* "key =" keeps the default (else "empty value") */
    PW_SETTING_INVERT = 1 << 2,         /* BOOL stored negated (voting -> disable_voting) */
    PW_SETTING_ID = 1 << 3,             /* STRING of 1-PW_ID_MAX letters, digits, '-' or '_' */
    PW_SETTING_VARIANT = 1 << 4         /* may be changed by `bench video --variant` */
};


typedef struct pw_setting pw_setting;
struct pw_setting {
    const char *group; /* "site", or "lane" for every [lane NAME] group */
    const char *key;
    pw_setting_type type;
    size_t offset;     /* of the field in the table's struct */
    double min, max;   /* numeric range, in the units written in the file */
    double scale;      /* INT64: stored = written * scale; 0 means 1 */
    unsigned flags;    /* PW_SETTING_* */
    const char *const *choices; /* ENUM: NULL-terminated names */
    const char *doc;   /* one line for the reference */
    /* CUSTOM: set the field from value (ctx as given to apply); err holds only the reason. */
    int (*parse)(const pw_setting *s, const char *value, void *field, void *ctx, pw_err *err);
    /* CUSTOM: the field as written in a file (for the reference's defaults). */
    void (*format)(const pw_setting *s, const void *field, GString *out);
    const char *type_doc; /* CUSTOM: how the value is written, for the reference */
    /*
     * The reference's text for a default that is not a fixed value (a path
     * of the installation, "the lane's name"); NULL prints the default.
     */
    const char *doc_default;
};

typedef struct pw_settings_file pw_settings_file;

/*
 * Reads and parses path. A GKeyFile syntax error, a repeated group or a
 * repeated key is PW_ECONFIG naming the line; a missing file is -ENOENT.
 */
int pw_settings_file_load(const char *path, pw_settings_file **out, pw_err *err);
void pw_settings_file_destroy(pw_settings_file **f);

GKeyFile *pw_settings_file_keyfile(const pw_settings_file *f);
const char *pw_settings_file_path(const pw_settings_file *f);
/* The line of [group] (key NULL) or of its key, or 0 when absent. */
int pw_settings_file_line(const pw_settings_file *f, const char *group, const char *key);

/*
 * Fills err with "PATH:LINE: [GROUP] KEY: why" (no key: "PATH:LINE: [GROUP]: why";
 * line unknown: without ":LINE") and returns PW_ECONFIG.
 */
int pw_settings_bad(const pw_settings_file *f, pw_err *err, const char *group, const char *key, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));

/* 0 when v is 1-PW_ID_MAX letters, digits, '-' or '_'; else PW_ECONFIG with the reason. */
int pw_settings_check_id(const char *v, pw_err *err);

/* The entry of table group tgroup named key, or NULL. */
const pw_setting *pw_settings_find(const pw_setting *table, size_t n, const char *tgroup, const char *key);

/* The known key of tgroup closest to key by edit distance, or NULL when none is close. */
const char *pw_settings_suggest(const pw_setting *table, size_t n, const char *tgroup, const char *key);

/*
 * Refuses any key of file group `group` that table group tgroup does not
 * know ("unknown key; did you mean X?"), then sets every field of base
 * whose key is present; absent keys keep base's defaults, and an absent
 * REQUIRED key is an error.
 */
int pw_settings_apply(const pw_settings_file *f, const pw_setting *table, size_t n, const char *group,
                      const char *tgroup, void *base, GPtrArray *strings, void *ctx, pw_err *err);

/* Sets s's field in base from value; err gets only the reason (the caller names where). */
int pw_setting_set(const pw_setting *s, const char *value, void *base, GPtrArray *strings, void *ctx,
                   pw_err *err);

/*
 * Checks that every numeric field of base lies in its entry's range, for
 * configurations built in code; err names "[group] key value" at fault.
 */
int pw_settings_check_ranges(const pw_setting *table, size_t n, const void *base, pw_err *err);

/* Appends s's field in base as it would be written in a file ("" for an unset string). */
void pw_setting_format(const pw_setting *s, const void *base, GString *out);

/*
 * Appends a Markdown table of tgroup's keys (key, type and range, default
 * taken from defaults, doc) to md.
 */
void pw_settings_markdown(const pw_setting *table, size_t n, const char *tgroup, const void *defaults,
                          GString *md);

#endif
