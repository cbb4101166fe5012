/* gate_test_util.c - see gate_test_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "gate_test_util.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>

char *gt_tmpdir(void)
{
    GError *gerr = NULL;
    char *dir = g_dir_make_tmp("pw-gate-test-XXXXXX", &gerr);
    cr_assert_not_null(dir, "cannot make a temporary directory: %s",
                       gerr ? gerr->message : "?");
    return dir;
}

void gt_rmdir(char *dir)
{
    if (!dir)
        return;
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
    g_free(dir);
}

void gt_add(pw_declstore *st, const char *ref, const char *vehicle, const char *trailer,
            const char *country, const char *lane)
{
    pw_decl d = {0};
    g_strlcpy(d.reference, ref, sizeof d.reference);
    cr_assert_gt(pw_plate_normalise(vehicle, d.vehicle_plate, sizeof d.vehicle_plate), 0);
    if (trailer)
        cr_assert_gt(pw_plate_normalise(trailer, d.trailer_plate, sizeof d.trailer_plate), 0);
    g_strlcpy(d.country, country ? country : "", sizeof d.country);
    g_strlcpy(d.lane, lane ? lane : "", sizeof d.lane);
    d.window_start_us = GT_NOW_US - 2 * GT_HOUR_US;
    d.window_end_us = GT_NOW_US + 2 * GT_HOUR_US;
    pw_err err = {0};
    cr_assert_eq(pw_declstore_add(st, &d, &err), 0, "add %s: %s", ref, err.msg);
}

char *gt_event_json(const gt_event *e)
{
    char *id = e->event_id ? g_strdup(e->event_id) : g_uuid_string_random();
    char *first = pw_format_time(e->first_seen_us ? e->first_seen_us : GT_NOW_US);
    char *alts = e->alt ? g_strdup_printf(",\"alternatives\":[{\"text\":\"%s\","
                                          "\"confidence\":0.5}]", e->alt)
                        : g_strdup("");
    char *json = g_strdup_printf(
        "{\"schema_version\":1,\"kind\":\"%s\",\"stream_id\":\"%s\","
        "\"instance_id\":\"0b1c2d3e-4a5b-4c6d-8e7f-0123456789ab\",\"site\":\"%s\","
        "\"lane\":\"%s\",\"published_at\":\"%s\",\"event_id\":\"%s\",\"seq\":%" G_GUINT64_FORMAT
        ",\"camera\":\"%s\",\"plate\":\"%s\",\"confidence\":%.3f,\"country\":\"%s\","
        "\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"frames\":5,"
        "\"best_frame\":{\"captured_at\":\"%s\",\"corners\":[[1,2],[3,4],[5,6],[7,8]]},"
        "\"latency_ms\":12.5,\"jpeg_bytes\":0%s}",
        e->kind ? e->kind : "vehicle.new", e->stream_id ? e->stream_id : GT_STREAM,
        e->site ? e->site : "dover", e->lane ? e->lane : "l03", first, id,
        e->seq ? e->seq : 1, e->camera ? e->camera : "cam1", e->plate ? e->plate : "",
        e->confidence > 0 ? e->confidence : 0.9, e->country ? e->country : "GB", first,
        first, first, alts);
    g_free(id);
    g_free(first);
    g_free(alts);
    return json;
}
