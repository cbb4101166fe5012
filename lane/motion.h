/*
 * motion.h - whether anything moved in a region of a grey frame since a
 * reference frame, from the mean grey of 16x16-pixel cells (sampled every
 * other pixel of every other row): the lane's cheap test that lets a frame
 * with no motion skip the localiser's full search. Internal to lane/.
 *
 * Cell means average a camera's noise away, so a threshold of a few grey
 * levels tells a moving vehicle from a still scene; comparing with the
 * frame last searched rather than the previous one adds up a slow change
 * (a vehicle creeping, light fading) until it counts as motion.
 *
 * Per cell it also tells which regions changed, so that a candidate
 * standing still where nothing moved (a sign, a wall's texture: read on the
 * previous search and followed by no passage) need not be read again.
 *
 * Ownership: a pw_motion belongs to one thread and owns its cell buffers.
 */
#ifndef PW_LANE_MOTION_H
#define PW_LANE_MOTION_H

#include "pw_common.h"

/* Side of a cell in frame pixels. */
#define PW_MOTION_CELL 16
/* Cells that must change for a frame to have moved: one cell alone is noise or a compression artefact. */
#define PW_MOTION_MIN_CELLS 2

typedef struct pw_motion pw_motion;

int pw_motion_new(pw_motion **out);
void pw_motion_destroy(pw_motion **m);

/*
 * Measures grey within roi (w or h 0: the whole frame; clipped to the
 * frame) and compares it with the reference: returns 1 when at least
 * PW_MOTION_MIN_CELLS cells' means differ by more than threshold grey
 * levels, or when there is no reference of the same size; 0 when still;
 * a negative code for a bad plane.
 */
int pw_motion_check(pw_motion *m, const pw_plane *grey, pw_rect roi, int threshold);

/*
 * 1 when any cell under r (frame pixels) changed in the last check, or
 * when r is not wholly inside the cells measured, or the last check had no
 * reference; 0 when the region is unchanged since the reference.
 */
int pw_motion_changed_in(const pw_motion *m, pw_rect r);

/* The frame last checked becomes the reference. */
void pw_motion_keep(pw_motion *m);

#endif
