#define _POSIX_C_SOURCE 200809L
#include "track.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_SYMBOLS 36 /* A-Z then 0-9 */

/*
 * Distinct texts a passage remembers for its alternatives. A passage of 40
 * reads with 5 readings each gives a few dozen; when the table is full the
 * weakest gives way, so a late but often repeated reading still gets in.
 */
#define MAX_READINGS 32

/* One text read over a passage, as a read's own text or as an alternative. */
typedef struct {
    char text[PW_PLATE_MAX + 1];
    float sum; /* of its confidences over the reads */
    /*
     * The country whose format the most confident read of exactly this text
     * matched, "" when none did: a vehicle's country is its consensus's, not
     * that of a misread which happened to fit another country's format.
     */
    char country[PW_COUNTRY_MAX];
    float country_conf;
} reading_vote;

/*
 * One passage. Votes are kept per read length, since reads of one plate
 * that disagree on length cannot be aligned position by position; the
 * consensus uses the length with the most weight.
 */
typedef struct {
    uint64_t id;
    float votes[PW_PLATE_MAX + 1][PW_PLATE_MAX][N_SYMBOLS];
    float length_weight[PW_PLATE_MAX + 1];
    int length_reads[PW_PLATE_MAX + 1];
    char consensus[PW_PLATE_MAX + 1];
    float consensus_conf;
    float consensus_char_conf[PW_PLATE_MAX];
    reading_vote readings[MAX_READINGS];
    int n_readings;
    char reported[PW_PLATE_MAX + 1]; /* text of the last NEW or UPDATE, "" before NEW */
    int frames;
    float cx, cy, width;                 /* where the plate was last seen: latest read, or candidate when present */
    /*
     * Settling (see track.h): agreeing reads in a row; frames seen since
     * the last read (seen_clock is the last frame counted); a read asked
     * for and not yet come; the width of the last read.
     */
    int agree, since_read, pending;
    int64_t seen_clock;
    float read_width;
    int64_t first_real, last_real, last_clock, latest_mono;
    float best_conf;
    char best_text[PW_PLATE_MAX + 1];
    float best_char_conf[PW_PLATE_MAX];
    int64_t best_real, best_mono;
    float best_corners[4][2];
    GBytes *best_jpeg;
} track;

struct pw_tracker {
    pw_tracker_config cfg;
    GPtrArray *tracks; /* of track *, oldest first */
    uint64_t next_id;
};

static void track_free(gpointer p)
{
    track *t = p;
    if (t->best_jpeg)
        g_bytes_unref(t->best_jpeg);
    g_free(t);
}

void pw_tracker_config_defaults(pw_tracker_config *cfg)
{
    *cfg = (pw_tracker_config){.new_min_confidence = 70.0f,
                               .new_min_frames = 1,
                               .final_after_ns = 1500 * 1000000LL,
                               .max_jump = 3.0f,
                               .max_tracks = 16,
                               .settle_reads = 3,
                               .reread_frames = 8,
                               .reread_size_change = 1.25f};
}

int pw_tracker_new(const pw_tracker_config *cfg, pw_tracker **out)
{
    if (!out)
        return -EINVAL;
    pw_tracker *t = g_new0(pw_tracker, 1);
    pw_tracker_config d;
    pw_tracker_config_defaults(&d);
    if (cfg)
        t->cfg = *cfg;
    if (t->cfg.new_min_confidence <= 0)
        t->cfg.new_min_confidence = d.new_min_confidence;
    if (t->cfg.new_min_frames <= 0)
        t->cfg.new_min_frames = d.new_min_frames;
    if (t->cfg.final_after_ns <= 0)
        t->cfg.final_after_ns = d.final_after_ns;
    if (t->cfg.max_jump <= 0)
        t->cfg.max_jump = d.max_jump;
    if (t->cfg.max_tracks <= 0)
        t->cfg.max_tracks = d.max_tracks;
    if (t->cfg.settle_reads < 0)
        t->cfg.settle_reads = 0;
    if (t->cfg.reread_frames <= 0)
        t->cfg.reread_frames = d.reread_frames;
    if (t->cfg.reread_size_change <= 1.0f)
        t->cfg.reread_size_change = d.reread_size_change;
    t->tracks = g_ptr_array_new_with_free_func(track_free);
    t->next_id = 1;
    *out = t;
    return 0;
}

void pw_tracker_destroy(pw_tracker **t)
{
    if (!t || !*t)
        return;
    g_ptr_array_free((*t)->tracks, TRUE);
    g_free(*t);
    *t = NULL;
}

size_t pw_tracker_active(const pw_tracker *t)
{
    return t ? t->tracks->len : 0;
}

static int symbol_index(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '0' && c <= '9')
        return 26 + (c - '0');
    return -1;
}

static char symbol_char(int i)
{
    return i < 26 ? (char)('A' + i) : (char)('0' + i - 26);
}

static void read_geometry(const pw_track_read *r, float *cx, float *cy, float *width)
{
    *cx = (r->corners[0][0] + r->corners[1][0] + r->corners[2][0] + r->corners[3][0]) / 4.0f;
    *cy = (r->corners[0][1] + r->corners[1][1] + r->corners[2][1] + r->corners[3][1]) / 4.0f;
    *width = hypotf(r->corners[1][0] - r->corners[0][0], r->corners[1][1] - r->corners[0][1]);
}

/* Recomputes the consensus text and its confidence from the votes. */
static void update_consensus(track *t)
{
    int best_len = 0;
    float total = 0;
    for (int l = 1; l <= PW_PLATE_MAX; l++) {
        total += t->length_weight[l];
        if (t->length_weight[l] > t->length_weight[best_len])
            best_len = l;
    }
    float sum = 0;
    for (int i = 0; i < best_len; i++) {
        int best = 0;
        for (int s = 1; s < N_SYMBOLS; s++)
            if (t->votes[best_len][i][s] > t->votes[best_len][i][best])
                best = s;
        t->consensus[i] = symbol_char(best);
        t->consensus_char_conf[i] = t->votes[best_len][i][best] / (float)t->length_reads[best_len];
        sum += t->consensus_char_conf[i];
    }
    t->consensus[best_len] = '\0';
    float agreement = total > 0 ? t->length_weight[best_len] / total : 0;
    t->consensus_conf = best_len ? sum / best_len * agreement : 0;
}

static void add_votes(track *t, const pw_track_read *r, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int s = symbol_index(r->text[i]);
        float c = r->char_conf ? r->char_conf[i] : r->confidence;
        if (s >= 0)
            t->votes[len][i][s] += c;
    }
    t->length_weight[len] += r->confidence + 0.01f; /* a zero-confidence read still counts */
    t->length_reads[len]++;
}

/*
 * Adds conf to the votes of text, making room by dropping the weakest text
 * when the table is full. Returns the text's entry, or NULL when it was too
 * weak to be kept.
 */
static reading_vote *vote_reading(track *t, const char *text, float conf)
{
    int weakest = 0;
    for (int i = 0; i < t->n_readings; i++) {
        if (strcmp(t->readings[i].text, text) == 0) {
            t->readings[i].sum += conf;
            return &t->readings[i];
        }
        if (t->readings[i].sum < t->readings[weakest].sum)
            weakest = i;
    }
    int slot;
    if (t->n_readings < MAX_READINGS)
        slot = t->n_readings++;
    else if (t->readings[weakest].sum < conf)
        slot = weakest;
    else
        return NULL;
    reading_vote *v = &t->readings[slot];
    memset(v, 0, sizeof *v);
    g_strlcpy(v->text, text, sizeof v->text);
    v->sum = conf;
    return v;
}

static const reading_vote *find_reading(const track *t, const char *text)
{
    for (int i = 0; i < t->n_readings; i++)
        if (strcmp(t->readings[i].text, text) == 0)
            return &t->readings[i];
    return NULL;
}

/* Votes for the read's text and each of its other readings, every text once per read. */
static void add_readings(track *t, const pw_track_read *r)
{
    reading_vote *own = vote_reading(t, r->text, r->confidence);
    if (own && r->country && r->country[0] && r->confidence > own->country_conf) {
        g_strlcpy(own->country, r->country, sizeof own->country);
        own->country_conf = r->confidence;
    }
    for (size_t i = 0; r->alts && i < r->n_alts; i++) {
        const char *text = r->alts[i].text;
        int seen = !text[0] || strcmp(text, r->text) == 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(r->alts[k].text, text) == 0;
        if (!seen)
            vote_reading(t, text, r->alts[i].confidence);
    }
}

static void remember_best(track *t, const pw_track_read *r, size_t len)
{
    if (t->frames > 0 && r->confidence <= t->best_conf)
        return;
    t->best_conf = r->confidence;
    g_strlcpy(t->best_text, r->text, sizeof t->best_text);
    for (size_t i = 0; i < len; i++)
        t->best_char_conf[i] = r->char_conf ? r->char_conf[i] : r->confidence;
    t->best_real = r->capture_real_ns;
    t->best_mono = r->capture_mono_ns;
    memcpy(t->best_corners, r->corners, sizeof t->best_corners);
    if (t->best_jpeg)
        g_bytes_unref(t->best_jpeg);
    t->best_jpeg = r->jpeg ? g_bytes_ref(r->jpeg) : NULL;
}

static int track_settled(const pw_tracker *tr, const track *t)
{
    return tr->cfg.settle_reads > 0 && t->agree >= tr->cfg.settle_reads;
}

/* Every character of the consensus won its position's vote with at least new_min_confidence. */
static int consensus_clear(const pw_tracker *tr, const track *t)
{
    for (size_t i = 0; t->consensus[i]; i++)
        if (t->consensus_char_conf[i] < tr->cfg.new_min_confidence)
            return 0;
    return t->consensus[0] != '\0';
}

/*
 * A read that leaves the voted text as it was, and is itself within one
 * edit of it, settles the passage a step more when every character of the
 * vote is clear (a contested position keeps the plate read on every
 * frame: fewer reads there would leave a wrong character standing); one
 * that changes the consensus or reads far from it unsettles it, so that
 * every frame is read until the reads agree again. A single misread
 * character elsewhere does not: on a moving plate most reads have one, and
 * the vote is what the vehicle reports. Either way the read answers any
 * read asked for.
 */
static void count_agreement(const pw_tracker *tr, track *t, const pw_track_read *r, const char *before)
{
    int agrees = strcmp(before, t->consensus) == 0 && t->consensus_conf >= tr->cfg.new_min_confidence &&
                 consensus_clear(tr, t) && pw_edit_distance(r->text, t->consensus) <= 1;
    t->agree = agrees ? t->agree + 1 : 0;
    t->since_read = 0;
    t->pending = 0;
}

static void absorb(const pw_tracker *tr, track *t, const pw_track_read *r, size_t len)
{
    char before[PW_PLATE_MAX + 1];
    g_strlcpy(before, t->frames ? t->consensus : r->text, sizeof before);
    add_votes(t, r, len);
    add_readings(t, r);
    remember_best(t, r, len);
    if (t->frames == 0)
        t->first_real = r->capture_real_ns;
    t->frames++;
    int64_t clock = r->clock_ns ? r->clock_ns : r->capture_mono_ns;
    t->last_real = MAX(t->last_real, r->capture_real_ns);
    t->last_clock = MAX(t->last_clock, clock);
    t->latest_mono = r->capture_mono_ns;
    /* A read of a frame older than one the plate was since seen on does not move it back. */
    if (clock >= t->seen_clock)
        read_geometry(r, &t->cx, &t->cy, &t->width);
    t->read_width = hypotf(r->corners[1][0] - r->corners[0][0], r->corners[1][1] - r->corners[0][1]);
    if (tr->cfg.disable_voting) {
        g_strlcpy(t->consensus, t->best_text, sizeof t->consensus);
        t->consensus_conf = t->best_conf;
        memcpy(t->consensus_char_conf, t->best_char_conf, sizeof t->consensus_char_conf);
    } else {
        update_consensus(t);
    }
    count_agreement(tr, t, r, before);
}

/*
 * How long after a passage was last seen a read that differs from its
 * consensus by more than one edit may still be that plate. Loose matches are
 * for a plate followed frame after frame (OCR on a moving, blurred plate
 * disagrees a lot); after a longer gap such a read near the same spot is the
 * next vehicle, often of the same fleet or registration series (RK019AF
 * then RK026AJ), which would otherwise be voted into the first.
 */
#define LOOSE_FIT_GAP_NS (400 * 1000000LL)

/*
 * How well a read fits a track: lower is better, negative when it does not
 * fit. A read fits when its text is within one edit of the consensus
 * anywhere in the frame, or, within LOOSE_FIT_GAP_NS of the passage's last
 * sighting, close to where the plate was last seen when its substitutions
 * are fewer than half its length (characters lost at the ends do not count).
 */
static float fit(const pw_tracker *tr, const track *t, const pw_track_read *r)
{
    /* A read after the passage's silence is a new vehicle, however alike, even before the tick ends it. */
    int64_t clock = r->clock_ns ? r->clock_ns : r->capture_mono_ns;
    if (clock - t->last_clock > tr->cfg.final_after_ns)
        return -1.0f;
    float cx, cy, w;
    read_geometry(r, &cx, &cy, &w);
    float dist = hypotf(cx - t->cx, cy - t->cy) / fmaxf(fmaxf(w, t->width), 1.0f);
    int edits = pw_edit_distance(r->text, t->consensus);
    int len = (int)strlen(r->text), len_diff = abs(len - (int)strlen(t->consensus));
    /* Characters lost at a plate's ends are common; only the other edits count near the plate. */
    int followed = clock - t->last_clock <= LOOSE_FIT_GAP_NS;
    if (edits <= 1 || (followed && dist <= tr->cfg.max_jump && (edits - len_diff) * 2 <= len))
        return (float)edits + dist / (tr->cfg.max_jump + 1.0f);
    return -1.0f;
}

/* Strongest first; equal sums by text, so that events do not depend on arrival order. */
static int by_sum(const void *pa, const void *pb)
{
    const reading_vote *a = pa, *b = pb;
    if (a->sum != b->sum)
        return a->sum < b->sum ? 1 : -1;
    return strcmp(a->text, b->text);
}

/* The strongest readings other than the consensus, as means over the passage's reads. */
static void fill_alternatives(const track *t, pw_track_event *ev)
{
    reading_vote sorted[MAX_READINGS];
    memcpy(sorted, t->readings, sizeof sorted[0] * (size_t)t->n_readings);
    qsort(sorted, (size_t)t->n_readings, sizeof sorted[0], by_sum);
    for (int i = 0; i < t->n_readings && ev->n_alts < PW_VEHICLE_MAX_ALTS; i++) {
        if (strcmp(sorted[i].text, t->consensus) == 0)
            continue;
        pw_reading *a = &ev->alts[ev->n_alts++];
        g_strlcpy(a->text, sorted[i].text, sizeof a->text);
        a->confidence = sorted[i].sum / (float)MAX(t->frames, 1);
    }
}

static void fill_event(const track *t, pw_track_kind kind, pw_track_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->track_id = t->id;
    g_strlcpy(ev->text, t->consensus, sizeof ev->text);
    ev->confidence = t->consensus_conf;
    memcpy(ev->char_conf, t->consensus_char_conf, sizeof ev->char_conf);
    fill_alternatives(t, ev);
    const reading_vote *consensus = find_reading(t, t->consensus);
    g_strlcpy(ev->country, consensus ? consensus->country : "", sizeof ev->country);
    ev->first_seen_ns = t->first_real;
    ev->last_seen_ns = t->last_real;
    ev->best_capture_ns = t->best_real;
    ev->best_capture_mono_ns = t->best_mono;
    ev->latest_capture_mono_ns = t->latest_mono;
    ev->frames = t->frames;
    memcpy(ev->corners, t->best_corners, sizeof ev->corners);
    ev->jpeg = t->best_jpeg;
}

static void emit_event(track *t, pw_track_kind kind, pw_track_emit emit, void *user)
{
    pw_track_event ev;
    fill_event(t, kind, &ev);
    if (kind != PW_TRACK_FINAL)
        g_strlcpy(t->reported, t->consensus, sizeof t->reported);
    if (emit)
        emit(&ev, user);
}

static void finish(pw_tracker *tr, guint index, pw_track_emit emit, void *user)
{
    track *t = g_ptr_array_index(tr->tracks, index);
    if (t->reported[0])
        emit_event(t, PW_TRACK_FINAL, emit, user);
    g_ptr_array_remove_index(tr->tracks, index);
}

static track *find_track(pw_tracker *tr, const pw_track_read *r)
{
    track *best = NULL;
    float best_fit = 0;
    for (guint i = 0; i < tr->tracks->len; i++) {
        track *t = g_ptr_array_index(tr->tracks, i);
        float f = fit(tr, t, r);
        if (f >= 0 && (!best || f < best_fit))
            best = t, best_fit = f;
    }
    return best;
}

int pw_tracker_add(pw_tracker *tr, const pw_track_read *r, pw_track_emit emit, void *user)
{
    if (!tr || !r || !r->text)
        return -EINVAL;
    size_t len = strlen(r->text);
    if (len == 0 || len > PW_PLATE_MAX)
        return -EINVAL;
    track *t = find_track(tr, r);
    if (!t) {
        if (tr->tracks->len >= (guint)tr->cfg.max_tracks)
            finish(tr, 0, emit, user); /* the oldest passage makes room */
        t = g_new0(track, 1);
        t->id = tr->next_id++;
        g_ptr_array_add(tr->tracks, t);
    }
    absorb(tr, t, r, len);
    if (!t->reported[0]) {
        if (t->frames >= tr->cfg.new_min_frames && t->consensus_conf >= tr->cfg.new_min_confidence)
            emit_event(t, PW_TRACK_NEW, emit, user);
    } else if (strcmp(t->reported, t->consensus) != 0) {
        emit_event(t, PW_TRACK_UPDATE, emit, user);
    }
    return 0;
}

/*
 * How far a candidate may lie from where a passage's plate was last seen,
 * centre to centre in plate widths, to be that plate: a plate moves a
 * fraction of its width between frames, and a candidate covering part of
 * the plate has its centre within half a width of the plate's.
 */
#define SEEN_MAX_DIST 0.5f

static void corners_geometry(const float c[4][2], float *cx, float *cy, float *width)
{
    *cx = (c[0][0] + c[1][0] + c[2][0] + c[3][0]) / 4.0f;
    *cy = (c[0][1] + c[1][1] + c[2][1] + c[3][1]) / 4.0f;
    *width = hypotf(c[1][0] - c[0][0], c[1][1] - c[0][1]);
}

/* The passage a candidate lies on (the nearest within SEEN_MAX_DIST), or -1; *dist is set for it. */
static int nearest_track(const pw_tracker *tr, const float c[4][2], float *dist)
{
    float cx, cy, w;
    corners_geometry(c, &cx, &cy, &w);
    int best = -1;
    for (guint i = 0; i < tr->tracks->len; i++) {
        const track *t = g_ptr_array_index(tr->tracks, i);
        float d = hypotf(cx - t->cx, cy - t->cy) / fmaxf(fmaxf(w, t->width), 1.0f);
        if (d <= SEEN_MAX_DIST && (best < 0 || d < *dist))
            best = (int)i, *dist = d;
    }
    return best;
}

/*
 * A settled passage with candidates on this frame: present unless it has
 * gone 2 * reread_frames frames without a read (a read asked for did not
 * come); asks for a read every reread_frames frames or when the plate's
 * width changed. Returns what its candidates are.
 */
static pw_seen settled_frame(const pw_tracker *tr, track *t, const float c[4][2], int64_t clock_ns, int64_t real_ns)
{
    if (clock_ns > t->seen_clock)
        t->since_read++;
    int k = tr->cfg.reread_frames;
    if (t->since_read > 2 * k)
        return PW_SEEN_FOLLOWED;
    float cx, cy, w;
    corners_geometry(c, &cx, &cy, &w);
    t->seen_clock = MAX(t->seen_clock, clock_ns);
    t->last_clock = MAX(t->last_clock, clock_ns);
    t->last_real = MAX(t->last_real, real_ns);
    t->cx = cx, t->cy = cy, t->width = w;
    float ratio = t->read_width > 0 ? w / t->read_width : 1.0f;
    int resized = ratio > tr->cfg.reread_size_change || ratio * tr->cfg.reread_size_change < 1.0f;
    if (!t->pending && (t->since_read >= k || resized)) {
        t->pending = 1;
        return PW_SEEN_FOLLOWED;
    }
    return PW_SEEN_SETTLED;
}

int pw_tracker_seen(pw_tracker *tr, const float (*corners)[4][2], size_t n, int64_t clock_ns, int64_t real_ns,
                    pw_seen *seen)
{
    if (!tr || (n && (!corners || !seen)))
        return -EINVAL;
    int owner[PW_TRACK_SEEN_MAX];
    float dist[PW_TRACK_SEEN_MAX];
    if (n > G_N_ELEMENTS(owner))
        return -E2BIG;
    /* Each passage judges its presence by its nearest candidate, then all its candidates share the verdict. */
    for (size_t i = 0; i < n; i++)
        owner[i] = nearest_track(tr, corners[i], &dist[i]);
    for (size_t i = 0; i < n; i++)
        seen[i] = owner[i] < 0 ? PW_SEEN_NONE : PW_SEEN_FOLLOWED;
    for (guint ti = 0; ti < tr->tracks->len; ti++) {
        track *t = g_ptr_array_index(tr->tracks, ti);
        int nearest = -1;
        for (size_t i = 0; i < n; i++)
            if (owner[i] == (int)ti && (nearest < 0 || dist[i] < dist[nearest]))
                nearest = (int)i;
        if (nearest < 0 || !track_settled(tr, t))
            continue;
        pw_seen v = settled_frame(tr, t, corners[nearest], clock_ns, real_ns);
        for (size_t i = 0; i < n; i++)
            if (owner[i] == (int)ti)
                seen[i] = v;
    }
    return 0;
}

void pw_tracker_tick(pw_tracker *tr, int64_t now_ns, pw_track_emit emit, void *user)
{
    if (!tr)
        return;
    for (guint i = tr->tracks->len; i-- > 0;) {
        track *t = g_ptr_array_index(tr->tracks, i);
        if (now_ns - t->last_clock > tr->cfg.final_after_ns)
            finish(tr, i, emit, user);
    }
}

void pw_tracker_flush(pw_tracker *tr, pw_track_emit emit, void *user)
{
    while (tr && tr->tracks->len)
        finish(tr, 0, emit, user);
}
