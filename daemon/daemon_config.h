/*
 * daemon_config.h - the lane daemon's configuration: one INI-style file
 * (GKeyFile) with a [site] group, a [security] group and one [lane NAME]
 * group per lane. Keys are documented in config/platewatchd.conf.
 *
 * Every error names the file, the group and the key at fault.
 *
 * Ownership: pw_daemon_config_load() returns a new configuration that owns
 * all its strings and the loaded plate formats; pw_daemon_config_destroy()
 * frees it and nulls the pointer. Lane configurations inside borrow from it.
 */
#ifndef PW_DAEMON_CONFIG_H
#define PW_DAEMON_CONFIG_H

#include "lane.h"

#define PW_DAEMON_MAX_LANES 16

typedef struct {
    char *group;                /* "lane l01" */
    char *fingerprint;          /* the group's keys and values, to see what changed on reload */
    pw_lane_config lane;        /* pipeline settings; strings point into this config */
    char *direction;            /* "inbound", "outbound" ... informational */
    char *publish_endpoint;     /* PUB bind */
    char *replay_endpoint;      /* ROUTER bind */
    char *journal;              /* SQLite journal path */
    int64_t journal_max_bytes;
    char *haar_cascade;         /* set when detector = haar (the benchmark baseline) */
} pw_daemon_lane;

typedef struct {
    char *path;
    char *site;
    char *formats_dir;
    char *tessdata_dir;
    char *language;
    int stats_interval_s;
    char *secret_key;           /* server key pair file */
    char *allow_list;           /* folder of client .pub files, or one key file */
    int allow_plain;            /* explicit opt-out of CURVE */
    char *metrics_listen;       /* [metrics] listen: /metrics and /healthz; NULL = off */
    pw_formats *formats;
    size_t n_lanes;
    pw_daemon_lane lanes[PW_DAEMON_MAX_LANES];
} pw_daemon_config;

/*
 * Reads and checks the file, and loads the plate formats it names. Returns
 * PW_ECONFIG (or the formats' error) with err naming file, group and key.
 */
int pw_daemon_config_load(const char *path, pw_daemon_config **out, pw_err *err);
void pw_daemon_config_destroy(pw_daemon_config **cfg);

/* The lane whose group is named group, or NULL. */
const pw_daemon_lane *pw_daemon_config_find(const pw_daemon_config *cfg, const char *group);

#endif
