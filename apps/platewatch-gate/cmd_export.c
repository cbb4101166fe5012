/*
 * cmd_export.c - platewatch-gate export-corrections DIR: every read an
 * officer corrected or let stand, as the crop the console showed and the
 * plate text, in the folder form models/train/ learns from (DIR/labels.csv
 * with image,plate_text and one image per line; docs/ocr-training.md), so
 * that a site can fine-tune its model on its own traffic
 * (PW_TRAIN_CORRECTIONS=DIR models/train/train.sh).
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"
#include "console.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *dir;
    FILE *labels;
    unsigned written, corrected;
    pw_err *err;
} exporter;

static int export_one(const char *event_id, const char *plate, bool corrected,
                      const void *jpeg, size_t len, void *user)
{
    exporter *x = user;
    /* The event id names the image: exporting again rewrites the same files. */
    char *name = g_strdup_printf("%s.jpg", event_id);
    char *path = g_build_filename(x->dir, name, NULL);
    GError *gerr = NULL;
    int rc = 0;
    if (!g_file_set_contents(path, jpeg, (gssize)len, &gerr)) {
        rc = pw_err_set(x->err, -EIO, "cannot write %s: %s", path, gerr->message);
        g_error_free(gerr);
    } else {
        fprintf(x->labels, "%s,%s\n", name, plate);
        x->written++;
        x->corrected += corrected;
    }
    g_free(path);
    g_free(name);
    return rc;
}

int pw_cmd_export_corrections(const char *store, int argc, char **argv)
{
    GOptionContext *ctx = g_option_context_new("DIR - officer-checked crops and plates for "
                                               "models/train/");
    GError *gerr = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &gerr);
    if (!ok || argc != 2) {
        char *help = g_option_context_get_help(ctx, TRUE, NULL);
        fprintf(stderr, "platewatch-gate: %s\n%s", ok ? "export-corrections needs one DIR"
                                                       : gerr->message, help);
        g_free(help);
        g_clear_error(&gerr);
        g_option_context_free(ctx);
        return 2;
    }
    g_option_context_free(ctx);
    pw_err err = {0};
    exporter x = {.dir = argv[1], .err = &err};
    pw_declstore *st = NULL;
    char *labels = g_build_filename(argv[1], "labels.csv", NULL);
    int rc = 0;
    if (g_mkdir_with_parents(argv[1], 0755) != 0)
        rc = pw_err_set(&err, -errno, "cannot make %s: %s", argv[1], g_strerror(errno));
    else if (!(x.labels = fopen(labels, "w")))
        rc = pw_err_set(&err, -errno, "cannot write %s: %s", labels, g_strerror(errno));
    if (rc == 0)
        rc = pw_declstore_new(store, &st, &err);
    if (rc == 0)
        rc = pw_audit_init(pw_declstore_db(st), &err);
    if (rc == 0)
        rc = pw_review_init(pw_declstore_db(st), &err);
    if (rc == 0) {
        fprintf(x.labels, "image,plate_text\n");
        rc = pw_review_corrections(pw_declstore_db(st), export_one, &x, &err);
    }
    if (x.labels && fclose(x.labels) != 0 && rc == 0)
        rc = pw_err_set(&err, -EIO, "cannot write %s", labels);
    pw_declstore_destroy(&st);
    g_free(labels);
    if (rc) {
        fprintf(stderr, "platewatch-gate: %s\n", err.msg);
        return 1;
    }
    printf("%s: %u crops (%u corrected by an officer, %u confirmed)\n", argv[1], x.written,
           x.corrected, x.written - x.corrected);
    return 0;
}
