/*
 * video.h - internals of `platewatch bench video`: recordings with their
 * ground truth (video_truth.c), one configuration run over them through the
 * daemon's lane pipeline (video_run.c), scoring (video_score.c) and the
 * reports (report_table.c, report_html.c). The ground-truth format is
 * described in docs/ground-truth.md.
 *
 * Ownership: a pw_vset owns its recordings, their passages and the
 * temporary folder made for manifest images (removed by pw_vset_destroy).
 * Results are json-glib objects owned by whoever holds the last reference,
 * so that a configuration measured in a child process and one measured in
 * this process are reported by the same code.
 */
#ifndef PW_BENCH_VIDEO_H
#define PW_BENCH_VIDEO_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon_config.h"
#include "pw_common.h"

/* One vehicle passage of the ground truth. */
typedef struct {
    char plate[PW_PLATE_MAX + 1]; /* A-Z 0-9 */
    char country[PW_COUNTRY_MAX];
    int first_frame, last_frame; /* -1 when the truth gives timestamps only */
    int64_t first_ms, last_ms;  /* -1 when the truth gives frames only */
    int line;                   /* in its ground-truth file, for messages */
} pw_vpassage;

/* One recording: a video file or a folder of stills (a manifest set). */
typedef struct {
    char *name;            /* the key in ground-truth files: the file's base name, or "set:NAME" */
    char *source;          /* the lane's source: file:///abs/path or an image folder */
    int stills;            /* 1: one still image per passage (manifest rows) */
    GArray *passages;      /* pw_vpassage, in recording order */
    GHashTable *heights;   /* frame -> plate box height in pixels, when known */
} pw_vrec;

typedef struct {
    GPtrArray *recs;       /* pw_vrec * */
    char *tmpdir;          /* folders of links made for manifest sets, or NULL */
} pw_vset;

/* What to read: recordings and folders, extra truth files, or an image manifest. */
typedef struct {
    char **inputs;         /* recordings and folders of recordings */
    char **truth_files;    /* --truth FILE..., may be NULL */
    const char *manifest;  /* --manifest FILE, may be NULL */
    const char *sets;      /* --sets a,b: manifest sets to keep, NULL for all */
} pw_vinputs;

int pw_vset_load(const pw_vinputs *in, pw_vset **out, pw_err *err);
void pw_vset_destroy(pw_vset **set);

/* Reads a ground-truth CSV into table (name -> GArray of pw_vpassage, created as needed). */
int pw_vtruth_load(const char *path, GHashTable *table, pw_err *err);
/* Reads a per-frame boxes CSV for recording name into heights (frame -> box height). */
int pw_vboxes_load(const char *path, const char *name, GHashTable *heights, pw_err *err);

/* One configuration to run: a daemon configuration file, one of its lanes, and overrides. */
typedef struct {
    char *label;
    char *config_path;
    char *lane;            /* [lane NAME] to use, NULL for the first */
    char *overrides;       /* "key=value,key=value" from --variant, or NULL */
    int realtime;          /* 1 plays recordings at their own rate (pace = 1) */
    int progress;          /* 1 draws a progress bar on stderr */
} pw_vconfig;

/* Applies --variant overrides to a lane configuration; names the bad key in err. */
int pw_vconfig_apply(const char *overrides, pw_lane_config *lane, pw_err *err);

/*
 * Runs one configuration over every recording of set and returns the
 * configuration's result object (see docs/bench-video.md for its fields).
 * Returns 0, 1 when a recording failed (its error is in the result), or a
 * negative code when the configuration itself cannot be used.
 */
int pw_vrun(const pw_vconfig *cfg, const pw_vset *set, JsonObject **out, pw_err *err);

/* Reads and the vehicle events of one recording, as the lane's sink saw them. */
typedef struct {
    uint64_t seq;
    int64_t pts_ns;
    char text[24];
} pw_vread;

typedef struct {
    char text[24];
    char country[PW_COUNTRY_MAX];
    int frames;
    float confidence;
} pw_vfinal;

/* Scores one recording's reads and finals against its truth into obj; adds to the summary counts. */
void pw_vscore_recording(const pw_vrec *rec, GArray *reads, GArray *finals, JsonObject *obj,
                         JsonObject *heights, GHashTable *confusions);

/* Builds the sorted confusion list [{truth, read, count}] from "t>r" -> count. */
JsonArray *pw_vscore_confusions(GHashTable *confusions, guint limit);

/* Terminal table of every configuration, with ratios against the first. */
void pw_vreport_table(JsonArray *configs, FILE *out);
/* Figure i of the table for one configuration: its title and formatted value; -1 past the last. */
int pw_vreport_figure(size_t i, JsonObject *cfg, const char **title, char *text, size_t cap);
/* One self-contained HTML page with inline SVG charts. */
int pw_vreport_html(JsonObject *report, const char *path, pw_err *err);

/* Small helpers over result objects that may lack a member (a failed run). */
double pw_vjson_num(JsonObject *o, const char *path);

#endif
