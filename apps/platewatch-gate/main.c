/*
 * main.c - platewatch-gate: the lane controller program.
 *
 *   platewatch-gate [--config FILE] [--store PATH] COMMAND [OPTIONS]
 *
 * Commands: import, add, amend, cancel, list (the declarations store), user
 * (console accounts) and run (decide events until SIGINT or SIGTERM, with
 * the web console when configured). docs/gate.md and docs/console.md have
 * examples.
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"
#include "console.h"
#include "gate.h"

#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Every decision, the gate's and the officers', is printed and shown live. */
static void print_decision(pw_gate_verdict v, const char *json, void *user)
{
    (void)v;
    pw_web **web = user;
    printf("%s\n", json);
    fflush(stdout);
    if (*web)
        pw_web_notify(*web, json);
}

typedef struct {
    pw_gate *gate;
    sigset_t set;
} signal_waiter;

/* Waits for SIGINT/SIGTERM in its own thread, so no handler state is global. */
static void *wait_signal(void *arg)
{
    signal_waiter *w = arg;
    int sig = 0;
    sigwait(&w->set, &sig);
    if (sig != SIGUSR1)
        g_message("platewatch-gate: signal %d, stopping", sig);
    pw_gate_stop(w->gate);
    return NULL;
}

static int cmd_run(pw_gate_config *cfg, int argc, char **argv)
{
    int duration_ms = -1;
    GOptionEntry entries[] = {
        {"duration-ms", 0, 0, G_OPTION_ARG_INT, &duration_ms,
         "stop after this long (default: until SIGINT/SIGTERM)", "MS"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- decide plate events");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &gerr);
    g_option_context_free(ctx);
    if (!ok) {
        fprintf(stderr, "platewatch-gate run: %s\n", gerr->message);
        g_error_free(gerr);
        return 2;
    }
    pw_web *web = NULL;
    cfg->on_decision = print_decision;
    cfg->user = &web;
    signal_waiter w = {0};
    sigemptyset(&w.set);
    sigaddset(&w.set, SIGINT);
    sigaddset(&w.set, SIGTERM);
    sigaddset(&w.set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &w.set, NULL);
    pw_err err = {0};
    int rc = pw_gate_new(cfg, &w.gate, &err);
    if (rc) {
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
        return 2;
    }
    if (pw_gate_endpoint(w.gate))
        g_message("platewatch-gate: decisions on %s", pw_gate_endpoint(w.gate));
    if ((cfg->console.listen || cfg->console.metrics_listen) &&
        pw_web_new(&cfg->console, cfg, w.gate, &web, &err)) {
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
        pw_gate_destroy(&w.gate);
        return 2;
    }
    if (web && cfg->console.listen)
        g_message("platewatch-gate: console on %s://%s (port %d)",
                  cfg->console.certificate ? "https" : "http", cfg->console.listen,
                  pw_web_port(web));
    if (web && cfg->console.metrics_listen)
        g_message("platewatch-gate: metrics on http://%s (port %d)",
                  cfg->console.metrics_listen, pw_web_metrics_port(web));
    pthread_t th;
    pthread_create(&th, NULL, wait_signal, &w);
    rc = pw_gate_run(w.gate, duration_ms, &err);
    /* Wakes the waiter when the run ended by itself (duration or failure). */
    pthread_kill(th, SIGUSR1);
    pthread_join(th, NULL);
    pw_gate_counters c;
    pw_gate_get_counters(w.gate, &c);
    g_message("platewatch-gate: %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT
              " decisions, %" G_GUINT64_FORMAT " duplicates, %" G_GUINT64_FORMAT " malformed",
              c.events, c.decisions, c.duplicates, c.malformed);
    pw_web_destroy(&web);
    pw_gate_destroy(&w.gate);
    if (rc < 0) {
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int dispatch(pw_gate_config *cfg, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(cfg, argc, argv);
    if (!cfg->store_path) {
        fprintf(stderr, "platewatch-gate: no store: give --store or --config with "
                        "[gate] store\n");
        return 2;
    }
    if (strcmp(cmd, "import") == 0)
        return pw_cmd_import(cfg->store_path, argc, argv);
    if (strcmp(cmd, "add") == 0)
        return pw_cmd_add(cfg->store_path, argc, argv);
    if (strcmp(cmd, "amend") == 0)
        return pw_cmd_amend(cfg->store_path, argc, argv);
    if (strcmp(cmd, "cancel") == 0)
        return pw_cmd_cancel(cfg->store_path, argc, argv);
    if (strcmp(cmd, "list") == 0)
        return pw_cmd_list(cfg->store_path, argc, argv);
    if (strcmp(cmd, "user") == 0)
        return pw_cmd_user(cfg->store_path, argc, argv);
    if (strcmp(cmd, "export-corrections") == 0)
        return pw_cmd_export_corrections(cfg->store_path, argc, argv);
    fprintf(stderr, "platewatch-gate: unknown command \"%s\" (import, add, amend, cancel, "
                    "list, user, export-corrections, run)\n", cmd);
    return 2;
}

int main(int argc, char **argv)
{
    char *config = NULL, *store = NULL;
    GOptionEntry entries[] = {
        {"config", 'C', 0, G_OPTION_ARG_FILENAME, &config, "configuration file", "FILE"},
        {"store", 's', 0, G_OPTION_ARG_FILENAME, &store,
         "declarations store (overrides [gate] store)", "PATH"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("COMMAND [OPTIONS] - lane controller\n\n"
        "Commands: import FILE..., add, amend, cancel REF, list, user, export-corrections DIR, run");
    g_option_context_add_main_entries(ctx, entries, NULL);
    /* Stops at the command name so that its options are left to the command. */
    g_option_context_set_strict_posix(ctx, TRUE);
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr) || argc < 2) {
        fprintf(stderr, "platewatch-gate: %s\n", gerr ? gerr->message : "no COMMAND given");
        char *help = g_option_context_get_help(ctx, TRUE, NULL);
        fputs(help, stderr);
        g_free(help);
        g_clear_error(&gerr);
        g_option_context_free(ctx);
        return 2;
    }
    g_option_context_free(ctx);
    pw_gate_settings *settings = NULL;
    pw_gate_config defaults;
    pw_gate_config *cfg = &defaults;
    pw_gate_config_defaults(&defaults);
    int status = 2;
    pw_err err = {0};
    if (config && pw_gate_settings_load(config, &settings, &err)) {
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
    } else {
        if (settings)
            cfg = pw_gate_settings_config(settings);
        if (store)
            cfg->store_path = store;
        status = dispatch(cfg, argc - 1, argv + 1);
    }
    pw_gate_settings_destroy(&settings);
    g_free(config);
    g_free(store);
    return status;
}
