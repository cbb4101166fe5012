/*
 * pw_metrics.c - Prometheus text exposition helpers (pw_metrics.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "pw_metrics.h"

#include <stdbool.h>
#include <string.h>

static const double bounds[PW_HIST_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

void pw_histogram_observe(pw_histogram *h, double seconds)
{
    int i = 0;
    while (i < PW_HIST_BUCKETS && seconds > bounds[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum += seconds;
}

void pw_prom_family(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Numbers as Prometheus reads them: counters exactly up to 10^15, no locale. */
static void append_value(GString *out, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.15g", v));
}

void pw_prom_sample(GString *out, const char *name, const char *labels, double value)
{
    if (labels && *labels)
        g_string_append_printf(out, "%s{%s} ", name, labels);
    else
        g_string_append_printf(out, "%s ", name);
    append_value(out, value);
    g_string_append_c(out, '\n');
}

void pw_prom_histogram(GString *out, const char *name, const char *labels,
                       const pw_histogram *h)
{
    const char *sep = labels && *labels ? "," : "";
    uint64_t cum = 0;
    for (int i = 0; i <= PW_HIST_BUCKETS; i++) {
        cum += h->bucket[i];
        char le[G_ASCII_DTOSTR_BUF_SIZE];
        if (i < PW_HIST_BUCKETS)
            g_ascii_formatd(le, sizeof le, "%g", bounds[i]);
        else
            g_strlcpy(le, "+Inf", sizeof le);
        g_string_append_printf(out, "%s_bucket{%s%sle=\"%s\"} %" G_GUINT64_FORMAT "\n", name,
                               labels ? labels : "", sep, le, cum);
    }
    char *n = g_strconcat(name, "_sum", NULL);
    pw_prom_sample(out, n, labels, h->sum);
    g_free(n);
    n = g_strconcat(name, "_count", NULL);
    pw_prom_sample(out, n, labels, (double)h->count);
    g_free(n);
}

char *pw_prom_escape(const char *value)
{
    GString *s = g_string_sized_new(strlen(value) + 2);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_c(s, '\\');
        if (*p == '\n')
            g_string_append(s, "\\n");
        else
            g_string_append_c(s, *p);
    }
    return g_string_free(s, FALSE);
}

int pw_listen_parse(const char *listen, GSocketAddress **out, int *loopback, pw_err *err)
{
    *out = NULL;
    GError *gerr = NULL;
    GSocketConnectable *na = listen ? g_network_address_parse(listen, 0, &gerr) : NULL;
    if (!na) {
        int rc = pw_err_set(err, PW_ECONFIG, "listen \"%s\" is not ADDRESS:PORT%s%s",
                            listen ? listen : "", gerr ? ": " : "", gerr ? gerr->message : "");
        g_clear_error(&gerr);
        return rc;
    }
    const char *host = g_network_address_get_hostname(G_NETWORK_ADDRESS(na));
    guint16 port = g_network_address_get_port(G_NETWORK_ADDRESS(na));
    GInetAddress *addr = g_inet_address_new_from_string(host);
    /* Without a port GLib takes the default given (0): a missing one is an error here. */
    bool has_port = strrchr(listen, ':') && strrchr(listen, ':') > strrchr(listen, ']');
    int rc = 0;
    if (!addr)
        rc = pw_err_set(err, PW_ECONFIG, "listen \"%s\": \"%s\" is not an IP address",
                        listen, host);
    else if (!has_port)
        rc = pw_err_set(err, PW_ECONFIG, "listen \"%s\" has no :PORT", listen);
    if (rc == 0) {
        if (loopback)
            *loopback = g_inet_address_get_is_loopback(addr);
        *out = g_inet_socket_address_new(addr, port);
    }
    g_clear_object(&addr);
    g_object_unref(na);
    return rc;
}
