/*
 * daemon_config.h - the lane daemon's configuration: one INI-style file
 * (GKeyFile) with a [site] group, a [security] group, an optional [metrics]
 * group and one [lane NAME] group per lane. Every key is an entry of one table (daemon_config.c,
 * pw_settings.h), from which the parser, `bench video --variant` and the
 * reference docs/settings.md come; config/platewatchd.conf names them all.
 *
 * Every error names the file, the line, the group and the key at fault;
 * unknown and repeated keys are errors.
 *
 * Ownership: pw_daemon_config_load() returns a new configuration that owns
 * all its strings and the loaded plate formats; pw_daemon_config_destroy()
 * frees it and nulls the pointer. Lane configurations inside borrow from it.
 */
#ifndef PW_DAEMON_CONFIG_H
#define PW_DAEMON_CONFIG_H

#include "lane.h"
#include "pw_settings.h"

#define PW_DAEMON_MAX_LANES 16

enum { PW_DETECTOR_PLATEWATCH, PW_DETECTOR_HAAR };

/* Strings point into the configuration's own copies (or static defaults). */
typedef struct {
    const char *group;          /* "lane l01" */
    char *fingerprint;          /* the group's keys and values, to see what changed on reload */
    pw_lane_config lane;        /* pipeline settings */
    const char *direction;      /* "inbound", "outbound" ... informational */
    const char *publish_endpoint; /* PUB bind */
    const char *replay_endpoint;  /* ROUTER bind */
    const char *journal;        /* SQLite journal path */
    int64_t journal_max_bytes;
    int64_t journal_max_age_s;
    int journal_sync_normal;
    int detector;               /* PW_DETECTOR_*: haar is the benchmarks' baseline */
    const char *haar_cascade;   /* the cascade used when detector = haar */
} pw_daemon_lane;

typedef struct {
    const char *path;
    const char *site;
    const char *formats_dir;
    const char *tessdata_dir;
    const char *language;
    int stats_interval_s;
    const char *secret_key;     /* server key pair file */
    const char *allow_list;     /* folder of client .pub files, or one key file */
    int allow_plain;            /* explicit opt-out of CURVE */
    const char *metrics_listen; /* [metrics] listen: /metrics and /healthz; NULL = off */
    pw_formats *formats;
    GPtrArray *strings;         /* owns every string above and in the lanes */
    pw_settings_file *file;     /* the file as read: lines for later messages */
    size_t n_lanes;
    pw_daemon_lane lanes[PW_DAEMON_MAX_LANES];
} pw_daemon_config;

/*
 * Reads and checks the file, and loads the plate formats it names. Returns
 * PW_ECONFIG (or the formats' error) with err naming file, group and key.
 */
int pw_daemon_config_load(const char *path, pw_daemon_config **out, pw_err *err);
void pw_daemon_config_destroy(pw_daemon_config **cfg);

/*
 * The table of every key: entries of group "site" and "security" are fields
 * of pw_daemon_config, entries of group "lane" fields of pw_daemon_lane.
 */
const pw_setting *pw_daemon_settings(size_t *n);

/* The defaults a file's keys are applied to (no strings allocated). */
void pw_daemon_config_defaults(pw_daemon_config *c);
void pw_daemon_lane_defaults(pw_daemon_lane *dl);

/*
 * Sets one lane key marked PW_SETTING_VARIANT (`bench video --variant`) in
 * lane; err names the key and why ("unknown key; did you mean ...").
 */
int pw_daemon_lane_vary(pw_lane_config *lane, const char *key, const char *value, pw_err *err);

/*
 * Probes what the configuration needs without starting a lane (for
 * `platewatchd --check`): every endpoint binds (bound together, then
 * released), every journal can be written, the key files and the OCR model
 * load, file sources and the Haar cascade exist. err names the file, line
 * and key of the first failure.
 */
int pw_daemon_config_probe(const pw_daemon_config *c, pw_err *err);

/* The lane whose group is named group, or NULL. */
const pw_daemon_lane *pw_daemon_config_find(const pw_daemon_config *cfg, const char *group);

#endif
