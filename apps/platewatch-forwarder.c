/*
 * platewatch-forwarder - the site forwarder as a process: one XPUB and one
 * replay ROUTER for every lane (or every crossing) listed with --upstream.
 *
 *   platewatch-forwarder --pub tcp://0.0.0.0:7800 --replay tcp://0.0.0.0:7801 \
 *       --upstream tcp://10.1.0.11:7700,tcp://10.1.0.11:7701 \
 *       --upstream tcp://10.1.0.12:7700,tcp://10.1.0.12:7701 \
 *       --key site.key --allow /etc/platewatch/clients \
 *       --upstream-key lanes.pub --client-key site-client.key
 */
#define _POSIX_C_SOURCE 200809L
#include "publish.h"

#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *pub;
    char *replay;
    char **upstreams;
    char *key;
    char *allow;
    char *upstream_key;
    char *client_key;
    gboolean plain;
} options;

static void options_free(options *o)
{
    g_free(o->pub);
    g_free(o->replay);
    g_strfreev(o->upstreams);
    g_free(o->key);
    g_free(o->allow);
    g_free(o->upstream_key);
    g_free(o->client_key);
}

static int parse(int *argc, char ***argv, options *o)
{
    GOptionEntry entries[] = {
        {"pub", 0, 0, G_OPTION_ARG_STRING, &o->pub, "XPUB endpoint to bind", "ENDPOINT"},
        {"replay", 0, 0, G_OPTION_ARG_STRING, &o->replay, "replay ROUTER endpoint to bind",
         "ENDPOINT"},
        {"upstream", 'u', 0, G_OPTION_ARG_STRING_ARRAY, &o->upstreams,
         "a lane or forwarder: PUB,REPLAY endpoints (repeatable)", "PUB,REPLAY"},
        {"key", 'k', 0, G_OPTION_ARG_FILENAME, &o->key, "this forwarder's secret key file",
         "FILE"},
        {"allow", 'a', 0, G_OPTION_ARG_FILENAME, &o->allow,
         "allowed subscriber keys: directory of .pub files or one key file", "PATH"},
        {"upstream-key", 0, 0, G_OPTION_ARG_FILENAME, &o->upstream_key,
         "the upstreams' server public key file", "FILE"},
        {"client-key", 0, 0, G_OPTION_ARG_FILENAME, &o->client_key,
         "secret key file this forwarder presents upstream", "FILE"},
        {"plain", 0, 0, G_OPTION_ARG_NONE, &o->plain,
         "allow plain TCP where no keys are given (warned)", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- forward lane events and replay requests");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *gerr = NULL;
    gboolean ok = g_option_context_parse(ctx, argc, argv, &gerr);
    g_option_context_free(ctx);
    if (!ok) {
        fprintf(stderr, "platewatch-forwarder: %s\n", gerr->message);
        g_error_free(gerr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o = {0};
    if (parse(&argc, &argv, &o) != 0) {
        options_free(&o);
        return 2;
    }
    guint n = o.upstreams ? g_strv_length(o.upstreams) : 0;
    pw_upstream *ups = g_new0(pw_upstream, n ? n : 1);
    gchar ***parts = g_new0(gchar **, n ? n : 1);
    int status = 0;
    for (guint i = 0; i < n; i++) {
        parts[i] = g_strsplit(o.upstreams[i], ",", 2);
        if (!parts[i][0] || !parts[i][1]) {
            fprintf(stderr, "platewatch-forwarder: --upstream '%s' must be PUB,REPLAY\n",
                    o.upstreams[i]);
            status = 2;
        }
        ups[i] = (pw_upstream){parts[i][0], parts[i][1], NULL};
    }
    pw_forwarder_config cfg = {
        .upstreams = ups, .n_upstreams = n, .pub_endpoint = o.pub,
        .replay_endpoint = o.replay, .secret_key_file = o.key, .allow_list = o.allow,
        .allow_plain = o.plain, .upstream_public_key_file = o.upstream_key,
        .client_secret_key_file = o.client_key,
    };
    /* Signals are blocked before threads start so that sigwait alone receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pw_forwarder *fw = NULL;
    pw_err err;
    pw_err_clear(&err);
    if (status != 0) {
        /* Usage error already reported. */
    } else if (pw_forwarder_new(&cfg, &fw, &err) != 0) {
        fprintf(stderr, "platewatch-forwarder: %s\n", err.msg);
        status = 2;
    } else {
        int sig = 0;
        sigwait(&set, &sig);
        g_message("platewatch-forwarder: signal %d, stopping", sig);
    }
    pw_forwarder_destroy(&fw);
    for (guint i = 0; i < n; i++)
        g_strfreev(parts[i]);
    g_free(parts);
    g_free(ups);
    options_free(&o);
    return status;
}
