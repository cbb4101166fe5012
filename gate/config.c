/*
 * config.c - the controller's configuration: defaults, its table of keys
 * (pw_settings.h), checks, and loading from a file (config/gate.conf).
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "pw_settings.h"

struct pw_gate_settings {
    pw_gate_config cfg;
    GPtrArray *strings;        /* owns every string cfg points at */
};

void pw_gate_config_defaults(pw_gate_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->heartbeat_ms = 1000;
    cfg->th.confusion_cost = 0.3;
    cfg->th.release_distance = 0.35;
    cfg->th.manual_distance = 1.0;
    cfg->th.ambiguity_margin = 0.75;
    cfg->th.alternative_penalty = 0.3;
    cfg->th.min_confidence = 0.6;
    cfg->th.window_grace_s = 0;
    pw_web_config_defaults(&cfg->console);
}

void pw_web_config_defaults(pw_web_config *wc)
{
    memset(wc, 0, sizeof *wc);
    wc->session_timeout_s = 8 * 3600;
    wc->login_attempts = 5;
    wc->login_window_s = 300;
}

/*
 * The table of the gate's keys (docs/settings.md is generated from it;
 * config/gate.conf names them all). Defaults come from
 * pw_gate_config_defaults(). The gate has always read "key =" as the key
 * left out (e.g. "decision_endpoint =" to only print and audit), so its
 * strings keep that meaning.
 */
#define STR(group, key, field, what)                                                                          \
    {group, key, PW_SETTING_STRING, offsetof(pw_gate_config, field), .flags = PW_SETTING_EMPTY_IS_ABSENT,   \
     .doc = what}
#define TH(key, field, lo, hi, what)                                                                         \
    {"thresholds", key, PW_SETTING_DOUBLE, offsetof(pw_gate_config, th.field), .min = lo, .max = hi, .doc = what}

static const pw_setting table[] = {
    STR("gate", "store", store_path, "SQLite file of declarations, decisions audit and stream positions (required)"),
    STR("gate", "decision_endpoint", decision_endpoint, "ZeroMQ PUB for decisions; left out: only print and audit"),
    {"gate", "heartbeat_ms", PW_SETTING_INT, offsetof(pw_gate_config, heartbeat_ms), .min = 1, .max = 60000,
     .doc = "A gate.heartbeat message this often on the PUB"},
    STR("events", "endpoint", events_endpoint, "The lane daemon's (or forwarder's) PUB"),
    STR("events", "replay_endpoint", replay_endpoint, "Its replay ROUTER"),
    STR("events", "prefix", prefix, "Topic prefix, e.g. plate.dover.l03. for one lane"),
    STR("events", "server_public_key", server_public_key_file, "CURVE: the publisher's public key file"),
    STR("events", "client_secret_key", client_secret_key_file, "CURVE: this controller's key pair file"),
    {"events", "allow_plain", PW_SETTING_CBOOL, offsetof(pw_gate_config, allow_plain),
     .doc = "Turn CURVE off (loopback tests only)"},
    {"events", "plain_input", PW_SETTING_CBOOL, offsetof(pw_gate_config, plain_input),
     .doc = "A plain SUB socket instead of the subscriber library: no gap detection, no replay"},
    {"events", "backfill", PW_SETTING_CBOOL, offsetof(pw_gate_config, backfill),
     .doc = "Replay a publisher's whole journal the first time its stream is seen"},
    TH("confusion_cost", confusion_cost, 0, 1, "Cost of substituting one OCR-confusable character"),
    TH("release_distance", release_distance, 0, 2, "The best declaration may release at this distance or closer "
                                                   "(at most manual_distance)"),
    /* The candidate index finds everything within one folded edit, i.e. below 2. */
    TH("manual_distance", manual_distance, 0, 2, "Declarations up to this distance (below 2) are MANUAL/HOLD candidates"),
    TH("ambiguity_margin", ambiguity_margin, 0, INFINITY, "A runner-up closer than this to the best makes the match MANUAL"),
    TH("alternative_penalty", alternative_penalty, 0, INFINITY,
       "Added to the distance of a match through one of the read's alternatives"),
    TH("min_confidence", min_confidence, 0, 1, "Reads below this confidence never release (MANUAL instead)"),
    {"thresholds", "window_grace_s", PW_SETTING_INT64, offsetof(pw_gate_config, th.window_grace_s), .min = 0,
     .max = INT_MAX, .doc = "Arrival window widened by this many seconds on both sides"},
    /* The console's addresses and files are checked together by pw_web_config_check() (docs/console.md). */
    STR("console", "listen", console.listen, "The officer's web console, ADDRESS:PORT with a literal IP; "
                                             "left out: no console. Plain HTTP only on loopback"),
    STR("console", "certificate", console.certificate, "PEM certificate: the console then speaks HTTPS only"),
    STR("console", "key", console.key, "PEM private key of the certificate"),
    {"console", "session_timeout_s", PW_SETTING_INT, offsetof(pw_gate_config, console.session_timeout_s),
     .min = 60, .max = 7 * 86400, .doc = "An idle session ends after this many seconds"},
    {"console", "login_attempts", PW_SETTING_INT, offsetof(pw_gate_config, console.login_attempts), .min = 1,
     .max = 1000, .doc = "Failed logins from one address or for one name per window before logins are refused (429)"},
    {"console", "login_window_s", PW_SETTING_INT, offsetof(pw_gate_config, console.login_window_s), .min = 1,
     .max = 86400, .doc = "Seconds over which failed logins are counted"},
    STR("console", "assets_dir", console.assets_dir, "Serve the pages from this folder instead of the built-in copy"),
    STR("metrics", "listen", console.metrics_listen, "Plain HTTP with only /metrics and /healthz (docs/metrics.md), "
                                                     "ADDRESS:PORT; left out: none"),
};

static const char *const groups[] = {"gate", "events", "thresholds", "console", "metrics"};

const pw_setting *pw_gate_settings_table(size_t *n)
{
    *n = G_N_ELEMENTS(table);
    return table;
}

int pw_gate_config_check(const pw_gate_config *cfg, pw_err *err)
{
    const pw_gate_thresholds *t = &cfg->th;
    if (!cfg->store_path || !*cfg->store_path)
        return pw_err_set(err, PW_ECONFIG, "[gate] store: no declarations store path");
    int rc = pw_settings_check_ranges(table, G_N_ELEMENTS(table), cfg, err);
    if (rc < 0)
        return rc;
    if (!(t->manual_distance < 2.0))
        return pw_err_set(err, PW_ECONFIG, "[thresholds] manual_distance %g is not below 2 "
                          "(the index finds plates within one edit)", t->manual_distance);
    if (!(t->release_distance <= t->manual_distance))
        return pw_err_set(err, PW_ECONFIG, "[thresholds] release_distance %g is not in "
                          "0..manual_distance", t->release_distance);
    if (cfg->events_endpoint && !cfg->allow_plain &&
        (!cfg->server_public_key_file || !cfg->client_secret_key_file))
        return pw_err_set(err, PW_ECONFIG, "[events] needs server_public_key and "
                          "client_secret_key, or allow_plain=true");
    return 0;
}

static int load_file(pw_gate_settings *s, const char *path, pw_err *err)
{
    pw_settings_file *f = NULL;
    int rc = pw_settings_file_load(path, &f, err);
    gchar **present = rc == 0 ? g_key_file_get_groups(pw_settings_file_keyfile(f), NULL) : NULL;
    for (gchar **g = present; g && *g && rc == 0; g++) {
        gboolean known = FALSE;
        for (size_t i = 0; i < G_N_ELEMENTS(groups); i++)
            known |= !strcmp(*g, groups[i]);
        if (!known)
            rc = pw_settings_bad(f, err, *g, NULL, "unknown group (expected [gate], [events], [thresholds], [console] or [metrics])");
    }
    for (size_t i = 0; i < G_N_ELEMENTS(groups) && rc == 0; i++)
        rc = pw_settings_apply(f, table, G_N_ELEMENTS(table), groups[i], groups[i], &s->cfg, s->strings, NULL, err);
    g_strfreev(present);
    pw_settings_file_destroy(&f);
    return rc;
}

int pw_gate_settings_load(const char *path, pw_gate_settings **out, pw_err *err)
{
    *out = NULL;
    pw_gate_settings *s = g_new0(pw_gate_settings, 1);
    s->strings = g_ptr_array_new_with_free_func(g_free);
    pw_gate_config_defaults(&s->cfg);
    int rc = load_file(s, path, err);
    if (rc) {
        pw_gate_settings_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

pw_gate_config *pw_gate_settings_config(pw_gate_settings *s)
{
    return &s->cfg;
}

void pw_gate_settings_destroy(pw_gate_settings **sp)
{
    if (!sp || !*sp)
        return;
    g_ptr_array_unref((*sp)->strings);
    g_free(*sp);
    *sp = NULL;
}
