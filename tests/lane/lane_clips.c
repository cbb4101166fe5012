#define _POSIX_C_SOURCE 200809L
#include "lane_clips.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <string.h>

#include "pw_build_config.h"

static void on_event(const pw_track_event *ev, void *user)
{
    lane_log *log = user;
    g_mutex_lock(&log->lock);
    gpointer id = GSIZE_TO_POINTER((gsize)ev->track_id);
    switch (ev->kind) {
    case PW_TRACK_NEW:
        log->news++;
        g_hash_table_add(log->open, id);
        break;
    case PW_TRACK_UPDATE:
        log->updates++;
        break;
    case PW_TRACK_FINAL:
        log->finals++;
        log->final_frames += (uint64_t)ev->frames;
        g_ptr_array_add(log->final_texts, g_strdup(ev->text));
        g_hash_table_remove(log->open, id);
        break;
    }
    g_mutex_unlock(&log->lock);
}

static void on_read(const pw_lane_read *rd, void *user)
{
    (void)rd;
    lane_log *log = user;
    g_mutex_lock(&log->lock);
    log->reads++;
    log->reads_before_split += rd->frame_seq < log->split_seq;
    g_mutex_unlock(&log->lock);
}

void lane_log_init(lane_log *log)
{
    memset(log, 0, sizeof *log);
    g_mutex_init(&log->lock);
    log->final_texts = g_ptr_array_new_with_free_func(g_free);
    log->open = g_hash_table_new(g_direct_hash, g_direct_equal);
}

void lane_log_clear(lane_log *log)
{
    g_ptr_array_free(log->final_texts, TRUE);
    g_hash_table_destroy(log->open);
    g_mutex_clear(&log->lock);
}

pw_lane_sink lane_log_sink(lane_log *log)
{
    return (pw_lane_sink){.on_event = on_event, .on_read = on_read, .user = log};
}

void lane_clip_spec(pw_drive_spec *s)
{
    pw_drive_spec_defaults(s);
    s->width = 800;
    s->height = 450;
    s->fps = 25;
    s->frames_per_passage = 30;
    s->gap_frames = 15;
    s->char_height_far = 18;
    s->char_height_near = 26;
}

int lane_clip_frames(const pw_drive_spec *spec, size_t n)
{
    return (int)n * (spec->gap_frames + spec->frames_per_passage) + spec->gap_frames;
}

gchar *lane_clip(const char *dir, const char *name, const char *plates, void (*spec_edit)(pw_drive_spec *))
{
    pw_drive_spec spec;
    lane_clip_spec(&spec);
    if (spec_edit)
        spec_edit(&spec);
    gchar **texts = g_strsplit(plates, ",", -1);
    size_t n = g_strv_length(texts);
    pw_passage *passages = g_new0(pw_passage, n);
    for (size_t i = 0; i < n; i++)
        passages[i] = (pw_passage){.printed = texts[i], .country = "FR", .dark_on_light = 1};
    gchar *path = g_build_filename(dir, name, NULL);
    pw_err err = {0};
    cr_assert_eq(pw_drive_write(&spec, passages, n, path, NULL, &err), 0, "%s", err.msg);
    g_free(passages);
    g_strfreev(texts);
    return path;
}

void lane_test_config(pw_lane_config *cfg, const char *source, pw_formats **formats)
{
    pw_err err = {0};
    cr_assert_eq(pw_formats_load_dir(PW_MODELS_DIR "/formats", formats, &err), 0, "%s", err.msg);
    pw_lane_config_defaults(cfg, source);
    cfg->formats = *formats;
    cfg->n_countries = 1;
    g_strlcpy(cfg->countries[0], "FR", sizeof cfg->countries[0]);
    /* Every read makes a reported passage, so that reads and events can be reconciled. */
    cfg->tracker.new_min_frames = 1;
    cfg->tracker.new_min_confidence = 0.001f;
    cfg->tracker.final_after_ns = 600 * 1000000LL;
}

pw_lane_counters lane_wait_for(pw_lane *lane, int (*cond)(const pw_lane_counters *), int timeout_s)
{
    pw_lane_counters st;
    gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    for (;;) {
        pw_lane_get_stats(lane, &st);
        if (cond(&st) || g_get_monotonic_time() > end)
            return st;
        g_usleep(5000);
    }
}

int lane_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}
