/*
 * platewatchd - the lane daemon: reads its configuration, runs one pipeline
 * and one publisher per lane, and publishes vehicle events until SIGTERM.
 *
 *   SIGHUP    re-reads the configuration; changed lanes restart, others run on
 *   SIGTERM   (or SIGINT) drains every lane, publishes what is in flight,
 *             closes the journals and exits 0
 *
 * With [metrics] listen, /metrics and /healthz are served on the main loop.
 */
#define _POSIX_C_SOURCE 200809L
#include <glib-unix.h>
#include <glib.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cvshim.h"
#include "daemon.h"
#include "daemon_config.h"
#include "pw_build_config.h"

typedef struct {
    pw_daemon *daemon;
    GMainLoop *loop;
    gboolean exit_at_end;
} app;

static gboolean on_terminate(gpointer data)
{
    app *a = data;
    g_message("stopping: draining lanes and publishing what is in flight");
    g_main_loop_quit(a->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_hangup(gpointer data)
{
    app *a = data;
    pw_err err = {0};
    if (pw_daemon_reload(a->daemon, &err) < 0)
        g_warning("reload: %s (the previous configuration stays in force for lanes that run)", err.msg);
    return G_SOURCE_CONTINUE;
}

static gboolean on_stats(gpointer data)
{
    pw_daemon_publish_stats(((app *)data)->daemon);
    return G_SOURCE_CONTINUE;
}

static gboolean on_tick(gpointer data)
{
    pw_daemon_tick(((app *)data)->daemon);
    return G_SOURCE_CONTINUE;
}

static gboolean on_check_end(gpointer data)
{
    app *a = data;
    if (pw_daemon_all_finished(a->daemon)) {
        g_message("every recording has ended");
        g_main_loop_quit(a->loop);
    }
    return G_SOURCE_CONTINUE;
}

static int parse_options(int *argc, char ***argv, gchar **config, gboolean *check, gboolean *exit_at_end)
{
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, config, "Configuration file (required)", "FILE"},
        {"check", 0, 0, G_OPTION_ARG_NONE, check, "Check the configuration and exit", NULL},
        {"exit-at-end", 0, 0, G_OPTION_ARG_NONE, exit_at_end,
         "Exit 0 once every lane's recording has ended (offline runs)", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- platewatch lane daemon " PW_VERSION);
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    gboolean ok = g_option_context_parse(ctx, argc, argv, &gerr);
    g_option_context_free(ctx);
    if (!ok || !*config) {
        fprintf(stderr, "platewatchd: %s\n", ok ? "--config FILE is required" : gerr->message);
        g_clear_error(&gerr);
        return -1;
    }
    return 0;
}

static int run(app *a)
{
    a->loop = g_main_loop_new(NULL, FALSE);
    pw_daemon_http *http = NULL;
    const char *listen = pw_daemon_metrics_listen(a->daemon);
    pw_err err = {0};
    if (listen && pw_daemon_http_new(a->daemon, listen, &http, &err) < 0) {
        fprintf(stderr, "platewatchd: %s\n", err.msg);
        g_main_loop_unref(a->loop);
        return 1;
    }
    if (http)
        g_message("metrics on http://%s (port %d)", listen, pw_daemon_http_port(http));
    guint ids[6] = {
        g_unix_signal_add(SIGTERM, on_terminate, a),
        g_unix_signal_add(SIGINT, on_terminate, a),
        g_unix_signal_add(SIGHUP, on_hangup, a),
        g_timeout_add_seconds((guint)pw_daemon_stats_interval(a->daemon), on_stats, a),
        a->exit_at_end ? g_timeout_add(100, on_check_end, a) : 0,
        g_timeout_add(500, on_tick, a),
    };
    g_main_loop_run(a->loop);
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
        if (ids[i])
            g_source_remove(ids[i]);
    pw_daemon_http_destroy(&http);
    pw_daemon_stop(a->daemon);
    g_main_loop_unref(a->loop);
    return 0;
}

/*
 * Every lane restart (SIGHUP, a source remade) starts its threads anew, and
 * glibc gives new threads new malloc arenas, up to 8 per core, each keeping
 * the memory freed into it: RSS then climbs for hundreds of restarts before
 * it levels off (bench/soak.sh: +10% over 300 SIGHUPs with the default,
 * flat with 2). The lanes' threads allocate little per frame, so two arenas
 * cost no measurable contention. MALLOC_ARENA_MAX in the environment wins.
 */
#define DAEMON_MALLOC_ARENAS 2

static void bound_malloc_arenas(void)
{
    if (!getenv("MALLOC_ARENA_MAX"))
        mallopt(M_ARENA_MAX, DAEMON_MALLOC_ARENAS);
}

/* --check: the file, then what it names on this machine, without starting a lane. */
static int check_config(const char *path)
{
    pw_daemon_config *cfg = NULL;
    pw_err err = {0};
    int rc = pw_daemon_config_load(path, &cfg, &err);
    if (rc == 0)
        rc = pw_daemon_config_probe(cfg, &err);
    if (rc < 0)
        fprintf(stderr, "platewatchd: %s\n", err.msg);
    else
        printf("%s: configuration is valid (%zu lane%s: endpoints bind, journals writable, keys and OCR "
               "model load)\n", path, cfg->n_lanes, cfg->n_lanes == 1 ? "" : "s");
    pw_daemon_config_destroy(&cfg);
    return rc < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
    pw_reexec_with_single_thread_openmp(argv);
    /* Lanes and OCR workers already fill the cores; OpenCV's own pool only
     * woke threads to split plate-sized crops (4 % of a lane's CPU). */
    pw_cv_set_threads(1);
    bound_malloc_arenas();
    gchar *config = NULL;
    gboolean check = FALSE;
    app a = {0};
    if (parse_options(&argc, &argv, &config, &check, &a.exit_at_end) < 0)
        return 2;
    pw_err err = {0};
    int status = 0;
    if (check) {
        status = check_config(config);
    } else if (pw_daemon_new(config, &a.daemon, &err) < 0) {
        fprintf(stderr, "platewatchd: %s\n", err.msg);
        status = 2;
    } else if (pw_daemon_start(a.daemon, &err) < 0) {
        fprintf(stderr, "platewatchd: %s\n", err.msg);
        status = 1;
    } else {
        status = run(&a);
    }
    pw_daemon_destroy(&a.daemon);
    g_free(config);
    if (status == 0 && !check)
        g_message("stopped cleanly");
    return status;
}
