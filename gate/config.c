/*
 * config.c - the controller's configuration: defaults, checks, and loading
 * from a GKeyFile (config/gate.conf documents every key).
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "pw_keyfile.h"

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
}

int pw_gate_config_check(const pw_gate_config *cfg, pw_err *err)
{
    const pw_gate_thresholds *t = &cfg->th;
    if (!cfg->store_path || !*cfg->store_path)
        return pw_err_set(err, PW_ECONFIG, "[gate] store: no declarations store path");
    if (!(t->confusion_cost >= 0.0 && t->confusion_cost <= 1.0))
        return pw_err_set(err, PW_ECONFIG, "[thresholds] confusion_cost %g is not in 0..1",
                          t->confusion_cost);
    /* The candidate index finds everything within one folded edit, i.e. below 2. */
    if (!(t->manual_distance >= 0.0 && t->manual_distance < 2.0))
        return pw_err_set(err, PW_ECONFIG, "[thresholds] manual_distance %g is not in 0..2 "
                          "(the index finds plates within one edit)", t->manual_distance);
    if (!(t->release_distance >= 0.0 && t->release_distance <= t->manual_distance))
        return pw_err_set(err, PW_ECONFIG, "[thresholds] release_distance %g is not in "
                          "0..manual_distance", t->release_distance);
    if (!(t->ambiguity_margin >= 0.0) || !(t->alternative_penalty >= 0.0))
        return pw_err_set(err, PW_ECONFIG, "[thresholds] ambiguity_margin and "
                          "alternative_penalty must be >= 0");
    if (!(t->min_confidence >= 0.0 && t->min_confidence <= 1.0))
        return pw_err_set(err, PW_ECONFIG, "[thresholds] min_confidence %g is not in 0..1",
                          t->min_confidence);
    if (t->window_grace_s < 0)
        return pw_err_set(err, PW_ECONFIG, "[thresholds] window_grace_s is negative");
    if (cfg->events_endpoint && !cfg->allow_plain &&
        (!cfg->server_public_key_file || !cfg->client_secret_key_file))
        return pw_err_set(err, PW_ECONFIG, "[events] needs server_public_key and "
                          "client_secret_key, or allow_plain=true");
    return 0;
}

/*
 * An optional string, owned by the settings; absent keys leave *dst alone.
 * Unlike the daemon, the gate has always read "key=" as the key left out
 * (e.g. "decision_endpoint=" to only print and audit), so existing files
 * keep that meaning.
 */
static int get_string(pw_gate_settings *s, const pw_keyfile *k, const char *group,
                      const char *key, const char **dst)
{
    char *v = NULL;
    int rc = pw_keyfile_string(k, group, key, NULL, PW_KEYFILE_EMPTY_IS_ABSENT, &v);
    if (v) {
        g_ptr_array_add(s->strings, v);
        *dst = v;
    }
    return rc;
}

/*
 * The distance and confidence ranges are checked in one place,
 * pw_gate_config_check(), which also sees configurations built in code, so
 * here a threshold only needs to be a number.
 */
static int get_threshold(const pw_keyfile *k, const char *key, double *dst)
{
    return pw_keyfile_double(k, "thresholds", key, *dst, -INFINITY, INFINITY, dst);
}

/* [console] and [metrics] (docs/console.md); checked by pw_web_config_check(). */
static int load_console_keys(pw_gate_settings *s, const pw_keyfile *k)
{
    pw_web_config *w = &s->cfg.console;
    int rc;
    if ((rc = get_string(s, k, "console", "listen", &w->listen)) ||
        (rc = get_string(s, k, "console", "certificate", &w->certificate)) ||
        (rc = get_string(s, k, "console", "key", &w->key)) ||
        (rc = get_string(s, k, "console", "assets_dir", &w->assets_dir)) ||
        (rc = pw_keyfile_int(k, "console", "session_timeout_s", 28800, 60, 7 * 86400,
                             &w->session_timeout_s)) ||
        (rc = pw_keyfile_int(k, "console", "login_attempts", 5, 1, 1000,
                             &w->login_attempts)) ||
        (rc = pw_keyfile_int(k, "console", "login_window_s", 300, 1, 86400,
                             &w->login_window_s)) ||
        (rc = get_string(s, k, "metrics", "listen", &w->metrics_listen)))
        return rc;
    return 0;
}

static int load_keys(pw_gate_settings *s, const pw_keyfile *k)
{
    pw_gate_config *c = &s->cfg;
    pw_gate_thresholds *t = &c->th;
    int grace = (int)t->window_grace_s;
    int rc;
    if ((rc = get_string(s, k, "gate", "store", &c->store_path)) ||
        (rc = get_string(s, k, "gate", "decision_endpoint", &c->decision_endpoint)) ||
        (rc = pw_keyfile_int(k, "gate", "heartbeat_ms", c->heartbeat_ms, 1, 60000,
                             &c->heartbeat_ms)) ||
        (rc = get_string(s, k, "events", "endpoint", &c->events_endpoint)) ||
        (rc = get_string(s, k, "events", "replay_endpoint", &c->replay_endpoint)) ||
        (rc = get_string(s, k, "events", "prefix", &c->prefix)) ||
        (rc = get_string(s, k, "events", "server_public_key", &c->server_public_key_file)) ||
        (rc = get_string(s, k, "events", "client_secret_key", &c->client_secret_key_file)) ||
        (rc = pw_keyfile_bool(k, "events", "allow_plain", c->allow_plain, &c->allow_plain)) ||
        (rc = pw_keyfile_bool(k, "events", "plain_input", c->plain_input, &c->plain_input)) ||
        (rc = pw_keyfile_bool(k, "events", "backfill", c->backfill, &c->backfill)) ||
        (rc = get_threshold(k, "confusion_cost", &t->confusion_cost)) ||
        (rc = get_threshold(k, "release_distance", &t->release_distance)) ||
        (rc = get_threshold(k, "manual_distance", &t->manual_distance)) ||
        (rc = get_threshold(k, "ambiguity_margin", &t->ambiguity_margin)) ||
        (rc = get_threshold(k, "alternative_penalty", &t->alternative_penalty)) ||
        (rc = get_threshold(k, "min_confidence", &t->min_confidence)) ||
        (rc = pw_keyfile_int(k, "thresholds", "window_grace_s", grace, 0, INT_MAX, &grace)))
        return rc;
    t->window_grace_s = grace;
    return load_console_keys(s, k);
}

int pw_gate_settings_load(const char *path, pw_gate_settings **out, pw_err *err)
{
    *out = NULL;
    pw_gate_settings *s = g_new0(pw_gate_settings, 1);
    s->strings = g_ptr_array_new_with_free_func(g_free);
    pw_gate_config_defaults(&s->cfg);
    GKeyFile *kf = g_key_file_new();
    GError *gerr = NULL;
    int rc = 0;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
        rc = pw_err_set(err, gerr->domain == G_FILE_ERROR ? -ENOENT : PW_ECONFIG,
                        "%s: %s", path, gerr->message);
        g_error_free(gerr);
    } else {
        rc = load_keys(s, &(pw_keyfile){kf, path, err});
    }
    g_key_file_free(kf);
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
