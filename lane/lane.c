#define _POSIX_C_SOURCE 200809L
#include "lane.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "cvshim.h"
#include "latency.h"
#include "motion.h"
#include "reader.h"

/*
 * One frame's crops waiting for OCR, owned by the pool's queue until a
 * worker takes it. A frame is read as a whole so that reads of one plate
 * from overlapping candidates are merged before tracking.
 */
typedef struct {
    size_t n;                /* crops held: the ranked candidates, then the whole frame when has_whole */
    size_t n_ranked;
    int has_whole;
    pw_image *crops[PW_DETECT_MAX_CANDIDATES + 1];
    pw_candidate cands[PW_DETECT_MAX_CANDIDATES + 1]; /* each crop plane points into crops[i] */
    uint64_t seq;
    int64_t pts_ns, real_ns, mono_ns, clock_ns;
} ocr_job;

/* A read on its way to the tracker; eos marks the end of the lane's reads. */
typedef struct {
    int eos;
    char text[PW_PLATE_MAX + 1];
    char country[PW_COUNTRY_MAX];
    float confidence;
    float char_conf[PW_PLATE_MAX];
    size_t n_alts;                  /* the OCR's readings of the crop, best first */
    pw_reading alts[PW_OCR_MAX_ALTS];
    float corners[4][2];
    int64_t real_ns, mono_ns, clock_ns;
    GBytes *jpeg;
} track_item;

struct pw_lane {
    pw_lane_config cfg;
    gchar *name, *camera, *source, *tessdata, *language, *haar_path; /* owned copies behind cfg */
    pw_lane_sink sink;
    pw_capture *cap;
    pw_detector *det;
    pw_cv_cascade *haar;                             /* the baseline, when configured */
    pw_candidate haar_cands[PW_DETECT_MAX_CANDIDATES];
    pw_image *haar_crops[PW_DETECT_MAX_CANDIDATES];  /* reused between frames */
    pw_image *whole;      /* the localiser thread's whole-frame crop, reused between frames */
    GThreadPool *pool;    /* owned by the localiser thread once started */
    gint waiting;         /* frames queued and not yet taken by a worker (atomic) */
    GAsyncQueue *engines; /* idle pw_ocr engines, one per worker */
    GAsyncQueue *results; /* track_item, to the tracker thread */
    /*
     * Owned by the tracker thread, but the localiser thread asks it which
     * candidates lie on settled passages (pw_tracker_seen): track_lock
     * serialises the two around it.
     */
    pw_tracker *tracker;
    GMutex track_lock;
    /*
     * Motion gating (localiser thread only): the cell means of the frame
     * last searched, that search's candidates (they stay valid in the
     * detector until its next run) and the frames since everything was last
     * read (motion_refresh).
     */
    pw_motion *motion;
    const pw_candidate *last_cands;
    size_t last_n;
    int since_refresh;
    GThread *detect_thread, *tracker_thread;
    gint stopping;
    GMutex lock;
    GCond done_cond;
    int done;
    pw_lane_counters counters; /* guarded by lock; latencies are kept below */
    /*
     * Tracking clocks of the frames still on their way to the tracker (being
     * localised, or crops queued or in OCR), guarded by lock. The tracker may
     * only call a vehicle gone when the silence is older than all of them,
     * or a slow OCR queue would split one vehicle into several.
     */
    GArray *inflight; /* of int64_t */
    /*
     * Live sources: the tracking clock of the newest frame the lane has
     * looked at in full (nothing found on it, or its crops read), and when
     * the localiser last took a frame, guarded by lock. A passage is only
     * called gone over frames that were looked at: frames that arrive late
     * or are dropped under load are not a silence (see live_now()).
     */
    int64_t seen_clock, last_take_mono;
    /* The live clock (see advance_live_clock()), touched by the localiser thread only. */
    int64_t live_clock, live_clock_mono;
    pw_latency lat_detect, lat_ocr, lat_event;
    double cpu_start_ms;
};

void pw_lane_config_defaults(pw_lane_config *cfg, const char *source)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->name = "lane";
    cfg->camera = "cam";
    pw_capture_config_defaults(&cfg->capture, source);
    pw_detect_config_defaults(&cfg->detect);
    pw_ocr_config_defaults(&cfg->ocr);
    cfg->ocr_workers = 1;
    /* Two frames waiting keep latency low: a lane that falls behind drops frames, not seconds. */
    cfg->ocr_queue = 2;
    pw_read_settings_defaults(&cfg->read);
    /*
     * A lane sees each plate in dozens of frames, so the localiser's later
     * boxes, and a second reading of a crop whose characters Tesseract could
     * not read, add little that the next frames do not. On clips made from
     * fold 1 of the dev photographs, 4 boxes read as many vehicles exactly
     * as 8 at 0.57-0.78x the CPU; 3 boxes without the plain fallback as
     * many again as 4 with it (one more us vehicle missed, one fewer fr),
     * at 0.78-0.94x (docs/BENCHMARKS.md section 7). A still has one
     * chance, and keeps the reader's defaults.
     */
    cfg->read.rank_candidates = 3;
    cfg->ocr.plain_fallback = 0;
    pw_tracker_config_defaults(&cfg->tracker);
    /* A plate is seen in dozens of frames; a single confident misread is not a vehicle. */
    cfg->tracker.new_min_frames = 2;
    /*
     * Grey levels in 16x16 cell means: compression and sensor noise stay
     * below 2 on the benchmarks' recordings, a passing vehicle changes
     * dozens of cells by tens (docs/BENCHMARKS.md section 7). A search
     * every second at 25 fps bounds what a missed change can cost.
     */
    cfg->motion_threshold = 4;
    cfg->motion_refresh = 25;
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

#define COUNT(lane, field, n)                                                                               \
    do {                                                                                                    \
        g_mutex_lock(&(lane)->lock);                                                                        \
        (lane)->counters.field += (n);                                                                      \
        g_mutex_unlock(&(lane)->lock);                                                                      \
    } while (0)

static void inflight_add(pw_lane *lane, int64_t clock_ns)
{
    g_mutex_lock(&lane->lock);
    g_array_append_val(lane->inflight, clock_ns);
    g_mutex_unlock(&lane->lock);
}

static void inflight_remove(pw_lane *lane, int64_t clock_ns)
{
    g_mutex_lock(&lane->lock);
    for (guint i = 0; i < lane->inflight->len; i++)
        if (g_array_index(lane->inflight, int64_t, i) == clock_ns) {
            g_array_remove_index_fast(lane->inflight, i);
            break;
        }
    g_mutex_unlock(&lane->lock);
}

/* The tracking time up to which every frame has reached the tracker. */
static int64_t settled_until(pw_lane *lane, int64_t now)
{
    g_mutex_lock(&lane->lock);
    for (guint i = 0; i < lane->inflight->len; i++)
        now = MIN(now, g_array_index(lane->inflight, int64_t, i) - 1);
    g_mutex_unlock(&lane->lock);
    return now;
}

/* The frame at clock_ns was looked at in full; its reads, if any, are already queued. */
static void mark_seen(pw_lane *lane, int64_t clock_ns)
{
    g_mutex_lock(&lane->lock);
    lane->seen_clock = MAX(lane->seen_clock, clock_ns);
    g_mutex_unlock(&lane->lock);
}

static void free_job(ocr_job *job)
{
    for (size_t i = 0; i < job->n; i++)
        pw_image_destroy(&job->crops[i]);
    g_free(job);
}

static void free_item(gpointer p)
{
    track_item *it = p;
    if (it->jpeg)
        g_bytes_unref(it->jpeg);
    g_free(it);
}

static GBytes *encode_crop(const pw_plane *crop)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (pw_cv_encode(crop, ".jpg", 85, &buf, &len) < 0)
        return NULL;
    return g_bytes_new_with_free_func(buf, len, free, buf);
}

static void report_read(pw_lane *lane, const ocr_job *job, const pw_plate *p)
{
    if (!lane->sink.on_read)
        return;
    pw_lane_read r = {.frame_seq = job->seq, .pts_ns = job->pts_ns, .text = p->read.text,
                      .confidence = p->read.confidence};
    memcpy(r.corners, p->corners, sizeof r.corners);
    lane->sink.on_read(&r, lane->sink.user);
}

/* Hands one merged read of a frame to the tracker thread. */
static void emit_read(pw_lane *lane, const ocr_job *job, const pw_plate *p, size_t crop)
{
    track_item *it = g_new0(track_item, 1);
    g_strlcpy(it->text, p->read.text, sizeof it->text);
    g_strlcpy(it->country, p->read.country, sizeof it->country);
    it->confidence = p->read.confidence;
    memcpy(it->char_conf, p->read.char_conf, sizeof it->char_conf);
    it->n_alts = p->read.n_alts;
    memcpy(it->alts, p->read.alts, sizeof it->alts);
    memcpy(it->corners, p->corners, sizeof it->corners);
    it->real_ns = job->real_ns, it->mono_ns = job->mono_ns, it->clock_ns = job->clock_ns;
    if (lane->cfg.jpeg_crops) {
        pw_plane plane = pw_image_plane(job->crops[crop]);
        it->jpeg = encode_crop(&plane);
    }
    report_read(lane, job, p);
    COUNT(lane, reads, 1);
    g_async_queue_push(lane->results, it);
}

static void ocr_worker(gpointer data, gpointer user)
{
    ocr_job *job = data;
    pw_lane *lane = user;
    g_atomic_int_add(&lane->waiting, -1);
    pw_ocr *engine = g_async_queue_pop(lane->engines);
    pw_plate plates[PW_DETECT_MAX_CANDIDATES + 1];
    size_t crop_of[PW_DETECT_MAX_CANDIDATES + 1], n = 0;
    double t0 = pw_now_ms();
    int rc = pw_read_candidates(engine, &lane->cfg.read, job->cands, job->n_ranked,
                                job->has_whole ? &job->cands[job->n_ranked] : NULL,
                                (const char (*)[PW_COUNTRY_MAX])lane->cfg.countries, lane->cfg.n_countries, plates,
                                G_N_ELEMENTS(plates), &n, crop_of);
    pw_latency_add(&lane->lat_ocr, pw_now_ms() - t0);
    g_async_queue_push(lane->engines, engine);
    if (rc < 0)
        g_warning("lane %s: OCR failed on frame %" G_GUINT64_FORMAT ": %s", lane->name, job->seq, pw_strerror(rc));
    for (size_t k = 0; k < n; k++)
        emit_read(lane, job, &plates[k], crop_of[k]);
    mark_seen(lane, job->clock_ns);
    inflight_remove(lane, job->clock_ns);
    free_job(job);
}

/* Copies candidate c into the job's next slot; 0, or -1 when no memory. */
static int copy_candidate(ocr_job *job, const pw_candidate *c)
{
    if (pw_image_new(c->crop.width, c->crop.height, 1, &job->crops[job->n]) < 0)
        return -1;
    pw_plane dst = pw_image_plane(job->crops[job->n]);
    for (int y = 0; y < dst.height; y++)
        memcpy(pw_plane_at(&dst, 0, y), pw_plane_at(&c->crop, 0, y), (size_t)dst.width);
    job->cands[job->n] = *c;
    job->cands[job->n].crop = dst;
    job->n++;
    return 0;
}

/*
 * Copies the best candidates, and the whole frame when it is a plate crop,
 * into a job; the detector's crops are only valid until its next run.
 */
static ocr_job *make_job(const pw_candidate *cands, size_t n, const pw_candidate *whole, const pw_frame_info *info,
                         int64_t clock_ns)
{
    ocr_job *job = g_new0(ocr_job, 1);
    for (size_t i = 0; i < n; i++)
        copy_candidate(job, &cands[i]);
    job->n_ranked = job->n;
    job->has_whole = whole && copy_candidate(job, whole) == 0;
    job->seq = info->seq;
    job->pts_ns = info->pts_ns;
    job->real_ns = info->realtime_ns;
    job->mono_ns = info->monotonic_ns;
    job->clock_ns = clock_ns;
    return job;
}

/*
 * A recording or image folder read as fast as possible: its vehicles must be
 * timed by the stream's clock, since wall time runs many times faster.
 */
static int offline(const pw_lane_config *cfg)
{
    if (cfg->capture.pace || cfg->capture.live == 1)
        return 0;
    if (cfg->capture.live == 0)
        return 1;
    const char *s = cfg->capture.source;
    return g_str_has_prefix(s, "file://") || !strstr(s, "://") ? !g_str_has_prefix(s, "gst:") : 0;
}

/* The tracking clock of a recording run offline: its stream time; 0 for the live clock. */
static int64_t stream_clock_of(const pw_lane *lane, const pw_frame_info *info)
{
    if (offline(&lane->cfg) && info->pts_ns >= 0)
        return info->pts_ns + 1; /* never 0 */
    return 0;
}

/*
 * The longest step the live clock takes between two frames the lane looks
 * at. A longer interval is not time the lane watched the lane: the frames
 * were late (a camera, network or decoder stall) or dropped under load.
 */
#define LIVE_CLOCK_MAX_STEP_NS (250 * 1000000LL)

/*
 * Live sources are tracked on a clock that runs with the monotonic clock
 * between the frames the lane looks at in full, by at most
 * LIVE_CLOCK_MAX_STEP_NS a frame, and not at all for frames it drops: a
 * passage's silence is then time the lane watched without reading the
 * plate, and a stall or an overload cannot split one vehicle into two.
 * Called from the localiser thread when a frame is looked at.
 */
static int64_t advance_live_clock(pw_lane *lane, const pw_frame_info *info)
{
    int64_t step = lane->live_clock_mono ? info->monotonic_ns - lane->live_clock_mono : 0;
    lane->live_clock += CLAMP(step, 0, LIVE_CLOCK_MAX_STEP_NS);
    lane->live_clock_mono = info->monotonic_ns;
    return lane->live_clock + 1; /* never 0 */
}

/* The clock advance_live_clock() would give the frame, without advancing it. */
static int64_t peek_live_clock(const pw_lane *lane, const pw_frame_info *info)
{
    int64_t step = lane->live_clock_mono ? info->monotonic_ns - lane->live_clock_mono : 0;
    return lane->live_clock + CLAMP(step, 0, LIVE_CLOCK_MAX_STEP_NS) + 1;
}

/* Makes slot i's crop buffer w x h, reusing it when the size is unchanged. */
static int haar_crop_buffer(pw_lane *lane, size_t i, int w, int h, pw_plane *out)
{
    pw_plane cur = lane->haar_crops[i] ? pw_image_plane(lane->haar_crops[i]) : (pw_plane){0};
    if (!lane->haar_crops[i] || cur.width != w || cur.height != h) {
        pw_image_destroy(&lane->haar_crops[i]);
        int rc = pw_image_new(w, h, 1, &lane->haar_crops[i]);
        if (rc < 0)
            return rc;
    }
    *out = pw_image_plane(lane->haar_crops[i]);
    return 0;
}

/*
 * The Haar baseline: each rectangle the cascade finds becomes a candidate
 * whose crop is the rectangle scaled to the crop height, unrectified.
 */
static int haar_candidates(pw_lane *lane, const pw_plane *grey, const pw_candidate **out, size_t *n)
{
    pw_rect rects[PW_DETECT_MAX_CANDIDATES];
    size_t found = 0;
    int rc = pw_cv_cascade_detect(lane->haar, grey, 0, 0, rects, (size_t)lane->cfg.read.candidates, &found);
    int ch = lane->cfg.detect.crop_height > 0 ? lane->cfg.detect.crop_height : 64;
    for (size_t i = 0; i < found && rc == 0; i++) {
        pw_rect r = rects[i];
        pw_plane src = *grey, dst;
        src.data = pw_plane_at(grey, r.x, r.y);
        src.width = r.w;
        src.height = r.h;
        rc = haar_crop_buffer(lane, i, MAX(1, r.w * ch / MAX(r.h, 1)), ch, &dst);
        if (rc == 0)
            rc = pw_cv_resize(&src, &dst);
        float x0 = (float)r.x, y0 = (float)r.y, x1 = (float)(r.x + r.w), y1 = (float)(r.y + r.h);
        pw_candidate c = {.corners = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, .box = r, .dark_on_light = 1,
                          .crop = dst, .crop_scale = (float)r.h / (float)ch};
        lane->haar_cands[i] = c;
    }
    *out = lane->haar_cands;
    *n = rc == 0 ? found : 0;
    return rc;
}

/*
 * Queues the frame's best crops for OCR, or drops the frame when the OCR
 * queue is full. clock is the stream clock offline, 0 live (the live clock
 * then advances for a frame looked at, not for one dropped).
 */
static void queue_crops(pw_lane *lane, const pw_frame_info *info, const pw_candidate *cands, size_t n,
                        const pw_candidate *whole, int64_t clock)
{
    size_t ranked = MIN(n, pw_read_settings_pool(&lane->cfg.read)), limit = ranked + (whole ? 1 : 0);
    /* Offline every frame is read: the recording waits for OCR instead of losing frames. */
    while (limit && offline(&lane->cfg) && g_atomic_int_get(&lane->waiting) >= lane->cfg.ocr_queue)
        g_usleep(500);
    g_mutex_lock(&lane->lock);
    lane->counters.frames_done++;
    if (limit == 0) {
        lane->counters.frames_without_candidates++;
        if (!clock)
            clock = advance_live_clock(lane, info);
        lane->seen_clock = MAX(lane->seen_clock, clock);
    } else if (g_atomic_int_get(&lane->waiting) >= lane->cfg.ocr_queue) {
        /* Dropped, and not looked at: no evidence that a plate in view has gone. */
        lane->counters.ocr_frames_dropped++;
        lane->counters.ocr_dropped += limit;
        limit = 0;
    } else {
        lane->counters.ocr_frames++;
        if (!clock)
            clock = advance_live_clock(lane, info);
    }
    g_mutex_unlock(&lane->lock);
    if (limit == 0)
        return;
    ocr_job *job = make_job(cands, ranked, whole, info, clock);
    COUNT(lane, candidates, job->n);
    inflight_add(lane, clock);
    g_atomic_int_inc(&lane->waiting);
    g_thread_pool_push(lane->pool, job, NULL);
}

/*
 * Motion gating for one frame (see lane.h): *search is 0 when nothing moved
 * since the last search and no refresh is due; *skip_static is 1 when the
 * candidates whose region did not change since the last search may go
 * unread (not on a refresh, when everything is read again).
 */
static void gate_frame(pw_lane *lane, const pw_frame_info *info, int *search, int *skip_static)
{
    *search = 1, *skip_static = 0;
    if (lane->cfg.motion_threshold <= 0 || !lane->motion)
        return;
    int moved = pw_motion_check(lane->motion, &info->grey, lane->cfg.detect.roi, lane->cfg.motion_threshold);
    int refresh = ++lane->since_refresh >= lane->cfg.motion_refresh;
    if (refresh)
        lane->since_refresh = 0;
    *search = moved != 0 || refresh;
    *skip_static = moved >= 0 && !refresh;
    if (*search && moved >= 0)
        pw_motion_keep(lane->motion);
}

/*
 * The frame's candidates: a new search, or on a still frame the last
 * search's (the scene has not changed, and the detector still holds them).
 */
static int frame_candidates(pw_lane *lane, const pw_frame_info *info, const pw_candidate **cands, size_t *n,
                            int *skip_static)
{
    int search;
    gate_frame(lane, info, &search, skip_static);
    if (!search) {
        COUNT(lane, frames_still, 1);
        *cands = lane->last_cands;
        *n = lane->last_n;
        return 0;
    }
    double t0 = pw_now_ms();
    int rc = lane->haar ? haar_candidates(lane, &info->grey, cands, n)
                        : pw_detector_run(lane->det, &info->grey, cands, n);
    pw_latency_add(&lane->lat_detect, pw_now_ms() - t0);
    lane->last_cands = rc == 0 ? *cands : NULL;
    lane->last_n = rc == 0 ? *n : 0;
    return rc;
}

/*
 * Keeps in kept the ranked candidates worth reading: not those on a settled
 * passage (the tracker counts the passage present instead), and with
 * skip_static not those on no passage whose region has not changed since
 * the last search (the same pixels were read then, and no passage followed).
 * Returns how many were kept.
 */
static size_t candidates_to_read(pw_lane *lane, const pw_frame_info *info, int64_t clock, int skip_static,
                                 const pw_candidate *cands, size_t n, pw_candidate *kept)
{
    n = MIN(n, pw_read_settings_pool(&lane->cfg.read));
    float corners[PW_DETECT_MAX_CANDIDATES][4][2];
    pw_seen seen[PW_DETECT_MAX_CANDIDATES];
    for (size_t i = 0; i < n; i++)
        memcpy(corners[i], cands[i].corners, sizeof corners[i]);
    g_mutex_lock(&lane->track_lock);
    int rc = pw_tracker_seen(lane->tracker, (const float (*)[4][2])corners, n, clock, info->realtime_ns, seen);
    g_mutex_unlock(&lane->track_lock);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int read = rc < 0 || seen[i] == PW_SEEN_FOLLOWED ||
                   (seen[i] == PW_SEEN_NONE && (!skip_static || pw_motion_changed_in(lane->motion, cands[i].box)));
        if (read)
            kept[k++] = cands[i];
    }
    COUNT(lane, candidates_skipped, n - k);
    return k;
}

static void process_frame(pw_lane *lane, pw_frame *frame)
{
    const pw_frame_info *info = pw_frame_get_info(frame);
    const pw_candidate *cands = NULL;
    size_t n = 0;
    /* Live, the frame's clock is known once it is looked at; until then it holds the current one. */
    int64_t stream = stream_clock_of(lane, info);
    int64_t clock = stream ? stream : lane->live_clock + 1;
    inflight_add(lane, clock); /* the frame itself, until its crops are queued */
    g_mutex_lock(&lane->lock);
    lane->last_take_mono = g_get_monotonic_time() * 1000;
    g_mutex_unlock(&lane->lock);
    int skip_static = 0;
    int rc = frame_candidates(lane, info, &cands, &n, &skip_static);
    pw_candidate kept[PW_DETECT_MAX_CANDIDATES];
    n = rc == 0 ? candidates_to_read(lane, info, stream ? stream : peek_live_clock(lane, info), skip_static, cands, n, kept)
                : 0;
    pw_candidate whole;
    int has_whole = pw_whole_frame_candidate(&info->grey, lane->cfg.detect.crop_height, &lane->whole, &whole);
    queue_crops(lane, info, kept, n, has_whole > 0 ? &whole : NULL, stream);
    inflight_remove(lane, clock);
}

static gpointer detect_main(gpointer data)
{
    pw_lane *lane = data;
    while (!g_atomic_int_get(&lane->stopping)) {
        pw_frame *frame = NULL;
        pw_err err = {0};
        int rc = pw_capture_next(lane->cap, 200, &frame, &err);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc < 0) {
            if (rc != PW_EEOS && rc != -ECANCELED)
                g_warning("lane %s: capture ended: %s", lane->name, err.msg[0] ? err.msg : pw_strerror(rc));
            break;
        }
        g_mutex_lock(&lane->lock);
        lane->counters.last_frame_us = g_get_monotonic_time();
        g_mutex_unlock(&lane->lock);
        process_frame(lane, frame);
        pw_frame_release(&frame);
    }
    /* Drain: every queued crop is still read, so nothing in flight is lost. */
    g_thread_pool_free(lane->pool, FALSE, TRUE);
    lane->pool = NULL;
    track_item *eos = g_new0(track_item, 1);
    eos->eos = 1;
    g_async_queue_push(lane->results, eos);
    return NULL;
}

static void on_track_event(const pw_track_event *ev, void *user)
{
    pw_lane *lane = user;
    /* A FINAL waits out the silence rule by design, so only NEW and UPDATE measure the pipeline. */
    if (ev->kind != PW_TRACK_FINAL)
        pw_latency_add(&lane->lat_event, (double)(g_get_monotonic_time() * 1000 - ev->latest_capture_mono_ns) / 1e6);
    COUNT(lane, events, 1);
    if (lane->sink.on_event)
        lane->sink.on_event(ev, lane->sink.user);
}

static void track_read(pw_lane *lane, const track_item *it, int64_t *clock_now)
{
    pw_track_read r = {.text = it->text, .confidence = it->confidence, .char_conf = it->char_conf,
                       .alts = it->alts, .n_alts = it->n_alts, .country = it->country, .capture_real_ns = it->real_ns,
                       .capture_mono_ns = it->mono_ns, .clock_ns = it->clock_ns, .jpeg = it->jpeg};
    memcpy(r.corners, it->corners, sizeof r.corners);
    g_mutex_lock(&lane->track_lock);
    pw_tracker_add(lane->tracker, &r, on_track_event, lane);
    g_mutex_unlock(&lane->track_lock);
    if (it->clock_ns > *clock_now)
        *clock_now = it->clock_ns;
}

/*
 * The live clock up to which the lane has looked: the newest frame seen in
 * full (see advance_live_clock()). When no frame at all has come for
 * stall_timeout_ms the camera is gone: the clock then runs on with the
 * wall clock from the last frame taken, and passages end.
 */
static int64_t live_now(pw_lane *lane)
{
    int64_t wall = g_get_monotonic_time() * 1000;
    g_mutex_lock(&lane->lock);
    int64_t seen = lane->seen_clock, taken = lane->last_take_mono;
    g_mutex_unlock(&lane->lock);
    if (taken && wall - taken > (int64_t)lane->cfg.capture.stall_timeout_ms * 1000000)
        return seen + (wall - taken);
    return seen;
}

static gpointer tracker_main(gpointer data)
{
    pw_lane *lane = data;
    int stream_clock = offline(&lane->cfg);
    int64_t stream_now = 0;
    for (;;) {
        track_item *it = g_async_queue_timeout_pop(lane->results, 50 * 1000);
        if (it && it->eos) {
            free_item(it);
            break;
        }
        if (it) {
            track_read(lane, it, &stream_now);
            free_item(it);
        }
        /* live_now() holds for the reads queued before it was read: take them all first. */
        int64_t now = stream_clock ? stream_now : live_now(lane);
        if (!stream_clock && g_async_queue_length(lane->results) > 0)
            continue;
        int64_t until = settled_until(lane, now);
        g_mutex_lock(&lane->track_lock);
        pw_tracker_tick(lane->tracker, until, on_track_event, lane);
        g_mutex_unlock(&lane->track_lock);
    }
    g_mutex_lock(&lane->track_lock);
    pw_tracker_flush(lane->tracker, on_track_event, lane);
    g_mutex_unlock(&lane->track_lock);
    g_mutex_lock(&lane->lock);
    lane->done = 1;
    g_cond_broadcast(&lane->done_cond);
    g_mutex_unlock(&lane->lock);
    return NULL;
}

static void copy_config(pw_lane *lane, const pw_lane_config *cfg)
{
    lane->cfg = *cfg;
    lane->name = g_strdup(cfg->name ? cfg->name : "lane");
    lane->camera = g_strdup(cfg->camera ? cfg->camera : "cam");
    lane->source = g_strdup(cfg->capture.source);
    lane->tessdata = g_strdup(cfg->ocr.tessdata_dir);
    lane->language = g_strdup(cfg->ocr.language);
    lane->haar_path = g_strdup(cfg->haar_cascade);
    lane->cfg.haar_cascade = lane->haar_path;
    lane->cfg.name = lane->name;
    lane->cfg.camera = lane->camera;
    lane->cfg.capture.source = lane->source;
    lane->cfg.ocr.tessdata_dir = lane->tessdata;
    lane->cfg.ocr.language = lane->language;
}

static int create_engines(pw_lane *lane, pw_err *err)
{
    lane->engines = g_async_queue_new();
    for (int i = 0; i < lane->cfg.ocr_workers; i++) {
        pw_ocr *o = NULL;
        int rc = pw_ocr_new(&lane->cfg.ocr, lane->cfg.formats, &o, err);
        if (rc < 0)
            return rc;
        g_async_queue_push(lane->engines, o);
    }
    return 0;
}

int pw_lane_new(const pw_lane_config *cfg, const pw_lane_sink *sink, pw_lane **out, pw_err *err)
{
    if (!cfg || !out || !cfg->formats || !cfg->capture.source)
        return pw_err_set(err, -EINVAL, "lane: configuration, source and formats are required");
    *out = NULL;
    int rc = pw_read_settings_check(&cfg->read, err);
    if (rc < 0)
        return rc;
    if (cfg->motion_threshold < 0 || cfg->motion_threshold > 255 || cfg->motion_refresh < 1)
        return pw_err_set(err, PW_ECONFIG, "lane: motion_threshold %d must be 0-255 and motion_refresh %d at least 1",
                          cfg->motion_threshold, cfg->motion_refresh);
    if (cfg->ocr_workers < 1 || cfg->ocr_queue < 1)
        return pw_err_set(err, PW_ECONFIG, "lane: ocr_workers %d and ocr_queue %d must be at least 1 "
                          "(pw_lane_config_defaults gives 1 and 2)", cfg->ocr_workers, cfg->ocr_queue);
    pw_lane *lane = g_new0(pw_lane, 1);
    copy_config(lane, cfg);
    if (sink)
        lane->sink = *sink;
    g_mutex_init(&lane->lock);
    g_mutex_init(&lane->track_lock);
    g_cond_init(&lane->done_cond);
    pw_latency_init(&lane->lat_detect);
    pw_latency_init(&lane->lat_ocr);
    pw_latency_init(&lane->lat_event);
    lane->results = g_async_queue_new_full(free_item);
    lane->inflight = g_array_new(FALSE, FALSE, sizeof(int64_t));
    rc = pw_capture_new(&lane->cfg.capture, &lane->cap, err);
    if (rc == 0)
        rc = pw_detector_new(&lane->cfg.detect, &lane->det, err);
    if (rc == 0 && lane->haar_path)
        rc = pw_cv_cascade_new(lane->haar_path, &lane->haar, err);
    if (rc == 0)
        rc = create_engines(lane, err);
    if (rc == 0)
        rc = pw_tracker_new(&lane->cfg.tracker, &lane->tracker);
    if (rc == 0)
        rc = pw_motion_new(&lane->motion);
    if (rc < 0) {
        pw_lane_destroy(&lane);
        return rc;
    }
    *out = lane;
    return 0;
}

/*
 * A capture starts at most once; a fresh one lets the owner try again later
 * (a camera that is down now may come back). Its counters start from zero.
 */
static void renew_capture(pw_lane *lane)
{
    pw_err err = {0};
    pw_capture_destroy(&lane->cap);
    if (pw_capture_new(&lane->cfg.capture, &lane->cap, &err) < 0)
        g_warning("lane %s: cannot renew the capture: %s", lane->name, err.msg);
}

int pw_lane_start(pw_lane *lane, pw_err *err)
{
    if (!lane || lane->detect_thread)
        return pw_err_set(err, -EINVAL, "lane: not created or already started");
    if (!lane->cap)
        return pw_err_set(err, PW_ESOURCE, "lane %s: no capture for source '%s'", lane->name, lane->source);
    int rc = pw_capture_start(lane->cap, err);
    if (rc < 0) {
        renew_capture(lane);
        return rc;
    }
    GError *gerr = NULL;
    lane->pool = g_thread_pool_new(ocr_worker, lane, lane->cfg.ocr_workers, TRUE, &gerr);
    if (!lane->pool) {
        rc = pw_err_set(err, -EAGAIN, "lane %s: OCR workers: %s", lane->name, gerr->message);
        g_error_free(gerr);
        return rc;
    }
    lane->cpu_start_ms = cpu_ms();
    lane->tracker_thread = g_thread_new("pw-track", tracker_main, lane);
    lane->detect_thread = g_thread_new("pw-detect", detect_main, lane);
    return 0;
}

void pw_lane_stop(pw_lane *lane)
{
    if (!lane)
        return;
    g_atomic_int_set(&lane->stopping, 1);
    if (lane->cap)
        pw_capture_stop(lane->cap);
}

int pw_lane_wait(pw_lane *lane)
{
    if (!lane || !lane->detect_thread)
        return 0;
    g_thread_join(lane->detect_thread);
    g_thread_join(lane->tracker_thread);
    lane->detect_thread = lane->tracker_thread = NULL;
    return 0;
}

int pw_lane_finished(pw_lane *lane)
{
    g_mutex_lock(&lane->lock);
    int done = lane->done;
    g_mutex_unlock(&lane->lock);
    return done;
}

static void summarise(pw_latency *l, pw_lane_latency *out)
{
    pw_latency_summary(l, &out->p50_ms, &out->p95_ms, &out->p99_ms, &out->samples);
}

void pw_lane_get_stats(pw_lane *lane, pw_lane_counters *st)
{
    g_mutex_lock(&lane->lock);
    *st = lane->counters;
    g_mutex_unlock(&lane->lock);
    pw_capture_stats cs = {.state = PW_CAPTURE_STOPPED};
    if (lane->cap)
        pw_capture_get_stats(lane->cap, &cs);
    st->frames_in = cs.frames;
    st->last_frame_real_ns = cs.last_frame_real_ns;
    st->capture_dropped = cs.dropped;
    st->reconnects = cs.restarts;
    g_strlcpy(st->capture_state, pw_capture_state_name(cs.state), sizeof st->capture_state);
    g_strlcpy(st->last_error, cs.last_error, sizeof st->last_error);
    /* A counter rather than the pool, which the localiser thread frees while draining. */
    st->ocr_queue_depth = g_atomic_int_get(&lane->waiting);
    st->ocr_queue_capacity = lane->cfg.ocr_queue;
    summarise(&lane->lat_detect, &st->detect);
    summarise(&lane->lat_ocr, &st->ocr);
    summarise(&lane->lat_event, &st->capture_to_event);
    pw_latency_histogram(&lane->lat_ocr, &st->ocr_hist);
    pw_latency_histogram(&lane->lat_event, &st->event_hist);
    st->cpu_ms_per_frame = st->frames_done ? (cpu_ms() - lane->cpu_start_ms) / (double)st->frames_done : 0;
}

void pw_lane_destroy(pw_lane **lp)
{
    if (!lp || !*lp)
        return;
    pw_lane *lane = *lp;
    pw_lane_stop(lane);
    pw_lane_wait(lane);
    if (lane->engines) {
        for (pw_ocr *o; (o = g_async_queue_try_pop(lane->engines));)
            pw_ocr_destroy(&o);
        g_async_queue_unref(lane->engines);
    }
    g_async_queue_unref(lane->results);
    pw_tracker_destroy(&lane->tracker);
    pw_motion_destroy(&lane->motion);
    pw_detector_destroy(&lane->det);
    pw_cv_cascade_destroy(&lane->haar);
    for (size_t i = 0; i < PW_DETECT_MAX_CANDIDATES; i++)
        pw_image_destroy(&lane->haar_crops[i]);
    pw_image_destroy(&lane->whole);
    pw_capture_destroy(&lane->cap);
    pw_latency_clear(&lane->lat_detect);
    pw_latency_clear(&lane->lat_ocr);
    pw_latency_clear(&lane->lat_event);
    g_array_free(lane->inflight, TRUE);
    g_mutex_clear(&lane->lock);
    g_mutex_clear(&lane->track_lock);
    g_cond_clear(&lane->done_cond);
    g_free(lane->name), g_free(lane->camera), g_free(lane->source), g_free(lane->tessdata), g_free(lane->language);
    g_free(lane->haar_path);
    g_free(lane);
    *lp = NULL;
}
