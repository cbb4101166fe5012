/*
 * platewatch bench video - runs the lane daemon's pipeline, configured by
 * platewatchd configuration files, over recordings with ground truth, and
 * reports accuracy and speed as a table, JSON and an HTML page.
 *
 * Each configuration runs in a child process (this program re-executed
 * with the hidden --child option), so that its peak resident memory is its
 * own and one configuration's warm caches do not flatter the next.
 * docs/bench-video.md describes the options and every figure.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "pw_json.h"
#include "video.h"

typedef struct {
    gchar **configs, **variants, **truths, **inputs;
    gchar *lane, *manifest, *sets, *json, *html;
    gboolean realtime, quiet;
    gint child; /* >= 0: run only this configuration and print its JSON (internal) */
} options;

static void options_free(options *o)
{
    g_strfreev(o->configs), g_strfreev(o->variants), g_strfreev(o->truths), g_strfreev(o->inputs);
    g_free(o->lane), g_free(o->manifest), g_free(o->sets), g_free(o->json), g_free(o->html);
}

static int parse_options(int *argc, char ***argv, options *o)
{
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME_ARRAY, &o->configs,
         "platewatchd configuration (repeat to compare configurations)", "FILE"},
        {"lane", 'l', 0, G_OPTION_ARG_STRING, &o->lane, "Lane group to use (default: the first)", "NAME"},
        {"variant", 'V', 0, G_OPTION_ARG_STRING_ARRAY, &o->variants,
         "Named variant of each configuration, e.g. scalar:simd=scalar (repeat)", "LABEL:KEY=VALUE,..."},
        {"truth", 't', 0, G_OPTION_ARG_FILENAME_ARRAY, &o->truths,
         "Ground-truth file (default: CLIP.truth.csv or truth.csv beside each recording)", "FILE"},
        {"manifest", 'm', 0, G_OPTION_ARG_FILENAME, &o->manifest, "Image manifest: each image a one-frame vehicle",
         "FILE"},
        {"sets", 's', 0, G_OPTION_ARG_STRING, &o->sets, "Manifest sets to use (default: all)", "a,b"},
        {"realtime", 'r', 0, G_OPTION_ARG_NONE, &o->realtime, "Play recordings at their own rate, dropping frames "
         "like a camera", NULL},
        {"json", 'j', 0, G_OPTION_ARG_FILENAME, &o->json, "Write the full report as JSON", "FILE"},
        {"html", 0, 0, G_OPTION_ARG_FILENAME, &o->html, "Write a self-contained HTML report", "FILE"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "No progress bar", NULL},
        {"child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &o->child, "internal", NULL},
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->inputs, "", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("RECORDING|FOLDER... - the lane pipeline over recordings");
    g_option_context_set_help_enabled(ctx, TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    o->child = -1;
    gboolean ok = g_option_context_parse(ctx, argc, argv, &gerr);
    g_option_context_free(ctx);
    if (!ok) {
        fprintf(stderr, "bench video: %s\n", gerr->message);
        g_error_free(gerr);
        return -1;
    }
    if (!o->configs || (!o->inputs && !o->manifest)) {
        fprintf(stderr, "usage: platewatch bench video --config FILE [--config FILE2] [--variant LABEL:KEY=VALUE,...] "
                        "[--realtime] [--json FILE] [--html FILE] RECORDING|FOLDER... | --manifest FILE\n");
        return -1;
    }
    return 0;
}

/* Configuration files times variants, in the order given; labels name both when both vary. */
static GPtrArray *build_configs(const options *o, pw_err *err)
{
    GPtrArray *out = g_ptr_array_new();
    guint nc = g_strv_length(o->configs), nv = o->variants ? g_strv_length(o->variants) : 0;
    for (guint c = 0; c < nc; c++)
        for (guint v = 0; v < MAX(nv, 1u); v++) {
            pw_vconfig *vc = g_new0(pw_vconfig, 1);
            gchar *base = g_path_get_basename(o->configs[c]);
            if (g_str_has_suffix(base, ".conf"))
                base[strlen(base) - 5] = '\0';
            gchar *vlabel = NULL;
            if (nv) {
                const char *colon = strchr(o->variants[v], ':');
                vlabel = colon ? g_strndup(o->variants[v], (gsize)(colon - o->variants[v])) : g_strdup(o->variants[v]);
                vc->overrides = g_strdup(colon ? colon + 1 : "");
            }
            vc->label = nv == 0 ? g_strdup(base) : nc == 1 ? g_strdup(vlabel) : g_strdup_printf("%s/%s", base, vlabel);
            vc->config_path = g_strdup(o->configs[c]);
            vc->lane = g_strdup(o->lane);
            vc->realtime = o->realtime;
            vc->progress = !o->quiet && isatty(STDERR_FILENO);
            g_free(base), g_free(vlabel);
            g_ptr_array_add(out, vc);
        }
    /* A variant's keys are checked before anything runs, so a typo costs no benchmark time. */
    for (guint i = 0; i < out->len && err && !err->code; i++) {
        pw_lane_config scratch;
        pw_lane_config_defaults(&scratch, "");
        pw_vconfig_apply(((pw_vconfig *)out->pdata[i])->overrides, &scratch, err);
    }
    return out;
}

static void vconfig_free(gpointer p)
{
    pw_vconfig *c = p;
    g_free(c->label), g_free(c->config_path), g_free(c->lane), g_free(c->overrides);
    g_free(c);
}

static JsonObject *failed_result(const pw_vconfig *cfg, const char *why)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "label", cfg->label);
    json_object_set_string_member(o, "config", cfg->config_path);
    json_object_set_string_member(o, "lane", cfg->lane ? cfg->lane : "");
    json_object_set_string_member(o, "variant", cfg->overrides ? cfg->overrides : "");
    json_object_set_string_member(o, "simd", "");
    json_object_set_boolean_member(o, "realtime", cfg->realtime != 0);
    json_object_set_string_member(o, "error", why);
    return o;
}

/* Runs configuration k in a child process and parses the JSON it prints. */
static int run_child(char **orig, int k, const pw_vconfig *cfg, JsonObject **out)
{
    gchar *self = g_file_read_link("/proc/self/exe", NULL);
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(args, g_strdup(self ? self : "platewatch"));
    g_ptr_array_add(args, g_strdup("bench"));
    g_ptr_array_add(args, g_strdup("video"));
    g_ptr_array_add(args, g_strdup_printf("--child=%d", k));
    for (char **a = orig + 1; *a; a++)
        g_ptr_array_add(args, g_strdup(*a));
    g_ptr_array_add(args, NULL);
    gchar *child_out = NULL;
    gint wait = 0;
    GError *gerr = NULL;
    int status = 1;
    if (!g_spawn_sync(NULL, (gchar **)args->pdata, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, &child_out,
                      NULL, &wait, &gerr)) {
        *out = failed_result(cfg, gerr->message);
        g_error_free(gerr);
    } else {
        JsonParser *p = json_parser_new();
        if (child_out && *child_out && json_parser_load_from_data(p, child_out, -1, NULL) &&
            JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
            *out = json_object_ref(json_node_get_object(json_parser_get_root(p)));
            status = g_spawn_check_wait_status(wait, NULL) ? 0 : 1;
        } else {
            *out = failed_result(cfg, "the configuration's run failed (see the messages above)");
            status = 2;
        }
        g_object_unref(p);
    }
    g_free(child_out), g_free(self);
    g_ptr_array_free(args, TRUE);
    return status;
}

static int child_main(const options *o, GPtrArray *configs, const pw_vset *set)
{
    if (o->child >= (gint)configs->len) {
        fprintf(stderr, "bench video: --child %d: no such configuration\n", o->child);
        return 2;
    }
    JsonObject *res = NULL;
    pw_err err = {0};
    int rc = pw_vrun(configs->pdata[o->child], set, &res, &err);
    if (rc < 0) {
        fprintf(stderr, "bench video: %s\n", err.msg);
        return 2;
    }
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(root, res);
    gchar *text = pw_json_to_string(root, FALSE);
    printf("%s\n", text);
    g_free(text);
    json_node_unref(root);
    return rc;
}

static int write_json(JsonObject *report, const char *path)
{
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(root, report);
    gchar *text = pw_json_to_string(root, TRUE);
    GError *gerr = NULL;
    int rc = g_file_set_contents(path, text, -1, &gerr) ? 0 : -1;
    if (rc < 0) {
        fprintf(stderr, "bench video: %s\n", gerr->message);
        g_error_free(gerr);
    }
    g_free(text);
    json_node_unref(root);
    return rc;
}

static JsonObject *make_report(const options *o, char **orig, const pw_vset *set, JsonArray *results)
{
    JsonObject *report = json_object_new();
    json_object_set_string_member(report, "tool", "platewatch bench video");
    gchar *cmd = g_strjoinv(" ", (gchar **)orig + 1);
    gchar *line = g_strconcat("platewatch bench video ", cmd, NULL);
    json_object_set_string_member(report, "command", line);
    g_free(cmd), g_free(line);
    JsonArray *recs = json_array_new();
    for (guint i = 0; i < set->recs->len; i++)
        json_array_add_string_element(recs, ((pw_vrec *)set->recs->pdata[i])->name);
    json_object_set_array_member(report, "recordings", recs);
    json_object_set_boolean_member(report, "realtime", o->realtime);
    json_object_set_array_member(report, "configurations", results);
    return report;
}

static int parent_main(const options *o, char **orig, GPtrArray *configs, const pw_vset *set)
{
    JsonArray *results = json_array_new();
    int status = 0;
    for (guint k = 0; k < configs->len; k++) {
        JsonObject *res = NULL;
        int rc = run_child(orig, (int)k, configs->pdata[k], &res);
        status = MAX(status, rc);
        json_array_add_object_element(results, res);
    }
    for (guint k = 0; k < configs->len; k++) {
        JsonObject *r = json_array_get_object_element(results, k);
        if (json_object_has_member(r, "error"))
            fprintf(stderr, "bench video: %s: %s\n", json_object_get_string_member(r, "label"),
                    json_object_get_string_member(r, "error"));
    }
    JsonObject *report = make_report(o, orig, set, results);
    if (status < 2 || json_array_get_length(results) > 1)
        pw_vreport_table(results, stdout);
    pw_err err = {0};
    if (o->json && write_json(report, o->json) < 0)
        status = MAX(status, 1);
    if (o->html && pw_vreport_html(report, o->html, &err) < 0) {
        fprintf(stderr, "bench video: %s\n", err.msg);
        status = MAX(status, 1);
    }
    json_object_unref(report);
    return status;
}

int pw_bench_video_main(int argc, char **argv)
{
    options o = {0};
    char **orig = g_strdupv(argv);
    int status = 2;
    GPtrArray *configs = NULL;
    pw_vset *set = NULL;
    pw_err err = {0};
    if (parse_options(&argc, &argv, &o) < 0)
        goto done;
    configs = build_configs(&o, &err);
    if (err.code) {
        fprintf(stderr, "bench video: %s\n", err.msg);
        goto done;
    }
    pw_vinputs in = {.inputs = o.inputs, .truth_files = o.truths, .manifest = o.manifest, .sets = o.sets};
    if (pw_vset_load(&in, &set, &err) < 0) {
        fprintf(stderr, "bench video: %s\n", err.msg);
        goto done;
    }
    status = o.child >= 0 ? child_main(&o, configs, set) : parent_main(&o, orig, configs, set);
done:
    pw_vset_destroy(&set);
    if (configs) {
        g_ptr_array_set_free_func(configs, vconfig_free);
        g_ptr_array_free(configs, TRUE);
    }
    options_free(&o);
    g_strfreev(orig);
    return status;
}
