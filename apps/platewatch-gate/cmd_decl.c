/*
 * cmd_decl.c - platewatch-gate import / add / amend / cancel / list: the
 * declarations store from the command line.
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"
#include "declstore.h"
#include "gate_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int usage_error(GOptionContext *ctx, const char *what)
{
    char *help = g_option_context_get_help(ctx, TRUE, NULL);
    fprintf(stderr, "platewatch-gate: %s\n%s", what, help);
    g_free(help);
    g_option_context_free(ctx);
    return 2;
}

static int parse(GOptionContext *ctx, int *argc, char ***argv)
{
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &gerr)) {
        int rc = usage_error(ctx, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    return 0;
}

static pw_declstore *open_store(const char *path)
{
    pw_declstore *st = NULL;
    pw_err err = {0};
    if (pw_declstore_new(path, &st, &err))
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
    return st;
}

/* ---- import ---- */

static void print_reject(const char *file, long line, const char *reason, void *user)
{
    (void)user;
    fprintf(stderr, "%s:%ld: rejected: %s\n", file, line, reason);
}

int pw_cmd_import(const char *store, int argc, char **argv)
{
    char *format = NULL;
    GOptionEntry entries[] = {
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "csv or json (default: by extension)",
         "FMT"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("FILE... - import declarations (idempotent)");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (parse(ctx, &argc, &argv))
        return 2;
    pw_import_format fmt = PW_IMPORT_AUTO;
    if (format && strcmp(format, "csv") == 0)
        fmt = PW_IMPORT_CSV;
    else if (format && strcmp(format, "json") == 0)
        fmt = PW_IMPORT_JSON;
    bool bad_format = format && fmt == PW_IMPORT_AUTO;
    g_free(format);
    if (bad_format)
        return usage_error(ctx, "--format must be csv or json");
    if (argc < 2)
        return usage_error(ctx, "import needs at least one FILE");
    g_option_context_free(ctx);
    pw_declstore *st = open_store(store);
    if (!st)
        return 2;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        pw_import_report rep;
        pw_err err = {0};
        double t0 = pw_now_ms();
        int rc = pw_declstore_import(st, argv[i], fmt, print_reject, NULL, &rep, &err);
        printf("%s: %" G_GUINT64_FORMAT " rows, %" G_GUINT64_FORMAT " inserted, %"
               G_GUINT64_FORMAT " updated, %" G_GUINT64_FORMAT " unchanged, %"
               G_GUINT64_FORMAT " rejected (%.0f ms)\n", argv[i], rep.rows, rep.inserted,
               rep.updated, rep.unchanged, rep.rejected, pw_now_ms() - t0);
        /* Rows were reported one by one; the sentence says why the file failed as a whole. */
        if (rc)
            fprintf(stderr, "platewatch-gate: %s\n", err.msg);
        if (rc)
            status = 1;
    }
    pw_declstore_destroy(&st);
    return status;
}

/* ---- add / amend ---- */

typedef struct {
    char *reference, *vehicle, *trailer, *country, *site, *lane, *from, *until;
} decl_opts;

static void decl_opts_free(decl_opts *o)
{
    char **f[] = {&o->reference, &o->vehicle, &o->trailer, &o->country, &o->site, &o->lane,
                  &o->from, &o->until};
    for (size_t i = 0; i < G_N_ELEMENTS(f); i++)
        g_clear_pointer(f[i], g_free);
}

static GOptionContext *decl_context(const char *what, decl_opts *o)
{
    GOptionEntry entries[] = {
        {"reference", 'r', 0, G_OPTION_ARG_STRING, &o->reference, "MRN or GMR", "REF"},
        {"vehicle", 'v', 0, G_OPTION_ARG_STRING, &o->vehicle, "vehicle plate", "PLATE"},
        {"trailer", 't', 0, G_OPTION_ARG_STRING, &o->trailer, "trailer plate (\"\" = none)",
         "PLATE"},
        {"country", 'c', 0, G_OPTION_ARG_STRING, &o->country, "ISO 3166 alpha-2", "CC"},
        {"site", 0, 0, G_OPTION_ARG_STRING, &o->site, "expected site (\"\" = any)", "ID"},
        {"lane", 0, 0, G_OPTION_ARG_STRING, &o->lane, "expected lane (\"\" = any)", "ID"},
        {"from", 0, 0, G_OPTION_ARG_STRING, &o->from, "window start, RFC 3339", "TIME"},
        {"until", 0, 0, G_OPTION_ARG_STRING, &o->until, "window end, RFC 3339", "TIME"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new(what);
    g_option_context_add_main_entries(ctx, entries, NULL);
    return ctx;
}

/* Applies the options given over d; names the first bad value. */
static int apply_opts(const decl_opts *o, pw_decl *d, pw_err *err)
{
    if (o->vehicle && pw_plate_normalise(o->vehicle, d->vehicle_plate,
                                         sizeof d->vehicle_plate) < 0)
        return pw_err_set(err, -EINVAL, "--vehicle \"%s\" is not a plate", o->vehicle);
    if (o->trailer && !*o->trailer)
        d->trailer_plate[0] = '\0';
    else if (o->trailer && pw_plate_normalise(o->trailer, d->trailer_plate,
                                              sizeof d->trailer_plate) < 0)
        return pw_err_set(err, -EINVAL, "--trailer \"%s\" is not a plate", o->trailer);
    if (o->country)
        g_strlcpy(d->country, o->country, sizeof d->country);
    if (o->country && strlen(o->country) >= sizeof d->country)
        return pw_err_set(err, -EINVAL, "--country \"%s\" is not a 2-letter code", o->country);
    if (o->site)
        g_strlcpy(d->site, o->site, sizeof d->site);
    if (o->lane)
        g_strlcpy(d->lane, o->lane, sizeof d->lane);
    if (o->from && pw_parse_time(o->from, &d->window_start_us))
        return pw_err_set(err, -EINVAL, "--from \"%s\" is not an RFC 3339 time with a zone",
                          o->from);
    if (o->until && pw_parse_time(o->until, &d->window_end_us))
        return pw_err_set(err, -EINVAL, "--until \"%s\" is not an RFC 3339 time with a zone",
                          o->until);
    return 0;
}

static int decl_command(const char *store, int argc, char **argv, bool amend)
{
    decl_opts o = {0};
    GOptionContext *ctx = decl_context(amend ? "- change fields of a declaration"
                                             : "- add one declaration", &o);
    if (parse(ctx, &argc, &argv)) {
        decl_opts_free(&o);
        return 2;
    }
    if (!o.reference || (!amend && (!o.vehicle || !o.from || !o.until))) {
        decl_opts_free(&o);
        return usage_error(ctx, amend ? "amend needs --reference"
                                      : "add needs --reference, --vehicle, --from, --until");
    }
    g_option_context_free(ctx);
    pw_declstore *st = open_store(store);
    int status = st ? 0 : 2;
    pw_decl d = {0};
    pw_err err = {0};
    int rc = 0;
    if (st && amend)
        rc = pw_declstore_get(st, o.reference, &d, &err);
    else if (strlen(o.reference) >= sizeof d.reference)
        rc = pw_err_set(&err, -EINVAL, "--reference is longer than %d", PW_DECL_REF_MAX);
    else
        g_strlcpy(d.reference, o.reference, sizeof d.reference);
    if (st && rc == 0)
        rc = apply_opts(&o, &d, &err);
    if (st && rc == 0)
        rc = amend ? pw_declstore_amend(st, &d, &err) : pw_declstore_add(st, &d, &err);
    if (st && rc) {
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
        status = 1;
    }
    pw_declstore_destroy(&st);
    decl_opts_free(&o);
    return status;
}

int pw_cmd_add(const char *store, int argc, char **argv)
{
    return decl_command(store, argc, argv, false);
}

int pw_cmd_amend(const char *store, int argc, char **argv)
{
    return decl_command(store, argc, argv, true);
}

int pw_cmd_cancel(const char *store, int argc, char **argv)
{
    GOptionContext *ctx = g_option_context_new("REFERENCE - cancel a declaration");
    if (parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return usage_error(ctx, "cancel needs one REFERENCE");
    g_option_context_free(ctx);
    pw_declstore *st = open_store(store);
    if (!st)
        return 2;
    pw_err err = {0};
    int rc = pw_declstore_cancel(st, argv[1], &err);
    if (rc)
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
    pw_declstore_destroy(&st);
    return rc ? 1 : 0;
}

/* ---- list ---- */

static int print_decl(const pw_decl *d, void *user)
{
    (void)user;
    char *from = pw_format_time(d->window_start_us), *until = pw_format_time(d->window_end_us);
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d->reference, d->vehicle_plate,
           d->trailer_plate[0] ? d->trailer_plate : "-", d->country[0] ? d->country : "-",
           d->site[0] ? d->site : "-", d->lane[0] ? d->lane : "-", from, until,
           d->status == PW_DECL_CANCELLED ? "cancelled" : "active",
           d->used_by[0] ? d->used_by : "-");
    g_free(from);
    g_free(until);
    return 0;
}

int pw_cmd_list(const char *store, int argc, char **argv)
{
    char *plate = NULL;
    GOptionEntry entries[] = {
        {"plate", 'p', 0, G_OPTION_ARG_STRING, &plate,
         "only declarations within one edit of PLATE (confusions folded)", "PLATE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- list declarations (tab separated)");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (parse(ctx, &argc, &argv))
        return 2;
    g_option_context_free(ctx);
    pw_declstore *st = open_store(store);
    if (!st) {
        g_free(plate);
        return 2;
    }
    printf("reference\tvehicle\ttrailer\tcountry\tsite\tlane\tfrom\tuntil\tstatus\tused_by\n");
    pw_err err = {0};
    int rc = pw_declstore_list(st, plate, print_decl, NULL, &err);
    if (rc)
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
    pw_declstore_destroy(&st);
    g_free(plate);
    return rc ? 1 : 0;
}
