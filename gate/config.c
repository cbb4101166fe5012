/*
 * config.c - the controller's configuration: defaults, checks, and loading
 * from a GKeyFile (config/gate.conf documents every key).
 */
#define _POSIX_C_SOURCE 200809L
#include "gate_internal.h"

#include <errno.h>
#include <string.h>

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

/* Copies an optional string key into the settings; absent keys leave *dst alone. */
static int get_string(pw_gate_settings *s, GKeyFile *kf, const char *group,
                      const char *key, const char **dst, const char *path, pw_err *err)
{
    GError *gerr = NULL;
    char *v = g_key_file_get_string(kf, group, key, &gerr);
    if (!v) {
        bool absent = g_error_matches(gerr, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
                      g_error_matches(gerr, G_KEY_FILE_ERROR,
                                      G_KEY_FILE_ERROR_GROUP_NOT_FOUND);
        int rc = absent ? 0 : pw_err_set(err, PW_ECONFIG, "%s: [%s] %s: %s", path, group,
                                         key, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    g_ptr_array_add(s->strings, v);
    *dst = *g_strstrip(v) ? v : NULL;
    return 0;
}

static int get_double(GKeyFile *kf, const char *key, double *dst, const char *path,
                      pw_err *err)
{
    GError *gerr = NULL;
    if (!g_key_file_has_key(kf, "thresholds", key, NULL))
        return 0;
    double v = g_key_file_get_double(kf, "thresholds", key, &gerr);
    if (gerr) {
        int rc = pw_err_set(err, PW_ECONFIG, "%s: [thresholds] %s: %s", path, key,
                            gerr->message);
        g_error_free(gerr);
        return rc;
    }
    *dst = v;
    return 0;
}

static int get_int(GKeyFile *kf, const char *group, const char *key, int64_t *dst,
                   const char *path, pw_err *err)
{
    GError *gerr = NULL;
    if (!g_key_file_has_key(kf, group, key, NULL))
        return 0;
    gint64 v = g_key_file_get_int64(kf, group, key, &gerr);
    if (gerr) {
        int rc = pw_err_set(err, PW_ECONFIG, "%s: [%s] %s: %s", path, group, key,
                            gerr->message);
        g_error_free(gerr);
        return rc;
    }
    *dst = v;
    return 0;
}

static int get_bool(GKeyFile *kf, const char *group, const char *key, bool *dst,
                    const char *path, pw_err *err)
{
    GError *gerr = NULL;
    if (!g_key_file_has_key(kf, group, key, NULL))
        return 0;
    gboolean v = g_key_file_get_boolean(kf, group, key, &gerr);
    if (gerr) {
        int rc = pw_err_set(err, PW_ECONFIG, "%s: [%s] %s: %s", path, group, key,
                            gerr->message);
        g_error_free(gerr);
        return rc;
    }
    *dst = v;
    return 0;
}

static int load_keys(pw_gate_settings *s, GKeyFile *kf, const char *path, pw_err *err)
{
    pw_gate_config *c = &s->cfg;
    pw_gate_thresholds *t = &c->th;
    int64_t hb = c->heartbeat_ms;
    int rc;
    if ((rc = get_string(s, kf, "gate", "store", &c->store_path, path, err)) ||
        (rc = get_string(s, kf, "gate", "decision_endpoint", &c->decision_endpoint, path,
                         err)) ||
        (rc = get_int(kf, "gate", "heartbeat_ms", &hb, path, err)) ||
        (rc = get_string(s, kf, "events", "endpoint", &c->events_endpoint, path, err)) ||
        (rc = get_string(s, kf, "events", "replay_endpoint", &c->replay_endpoint, path,
                         err)) ||
        (rc = get_string(s, kf, "events", "prefix", &c->prefix, path, err)) ||
        (rc = get_string(s, kf, "events", "server_public_key", &c->server_public_key_file,
                         path, err)) ||
        (rc = get_string(s, kf, "events", "client_secret_key", &c->client_secret_key_file,
                         path, err)) ||
        (rc = get_bool(kf, "events", "allow_plain", &c->allow_plain, path, err)) ||
        (rc = get_bool(kf, "events", "plain_input", &c->plain_input, path, err)) ||
        (rc = get_bool(kf, "events", "backfill", &c->backfill, path, err)) ||
        (rc = get_double(kf, "confusion_cost", &t->confusion_cost, path, err)) ||
        (rc = get_double(kf, "release_distance", &t->release_distance, path, err)) ||
        (rc = get_double(kf, "manual_distance", &t->manual_distance, path, err)) ||
        (rc = get_double(kf, "ambiguity_margin", &t->ambiguity_margin, path, err)) ||
        (rc = get_double(kf, "alternative_penalty", &t->alternative_penalty, path, err)) ||
        (rc = get_double(kf, "min_confidence", &t->min_confidence, path, err)) ||
        (rc = get_int(kf, "thresholds", "window_grace_s", &t->window_grace_s, path, err)))
        return rc;
    if (hb < 1 || hb > 60000)
        return pw_err_set(err, PW_ECONFIG, "%s: [gate] heartbeat_ms %" G_GINT64_FORMAT
                          " is not in 1..60000", path, hb);
    c->heartbeat_ms = (int)hb;
    return 0;
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
        rc = load_keys(s, kf, path, err);
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
