/*
 * Motion gating's measure (lane/motion.h): a frame that differs from the
 * reference only by noise is still, one where something moved is not, and
 * the cells that changed are told apart from those that did not.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "motion.h"

#define W 320
#define H 240

static uint8_t px[H][W];

static pw_plane plane(void)
{
    return (pw_plane){.data = &px[0][0], .width = W, .height = H, .stride = W, .channels = 1};
}

/* A textured scene with +-1 grey level of noise that changes with seed. */
static void scene(unsigned seed)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            px[y][x] = (uint8_t)(((x * 7 + y * 13) % 97) + 60 + ((x * 31 + y * 17 + seed * 101) % 3) - 1);
}

/* A bright block (a plate) at x, y. */
static void block(int x0, int y0)
{
    for (int y = y0; y < y0 + 24; y++)
        for (int x = x0; x < x0 + 80; x++)
            px[y][x] = 250;
}

Test(motion, a_still_frame_is_still_and_a_moving_one_is_not)
{
    pw_motion *m = NULL;
    cr_assert_eq(pw_motion_new(&m), 0);
    pw_plane p = plane();
    pw_rect all = {0, 0, 0, 0};
    scene(1);
    cr_assert_eq(pw_motion_check(m, &p, all, 4), 1, "no reference yet: moving");
    pw_motion_keep(m);
    scene(2);
    cr_assert_eq(pw_motion_check(m, &p, all, 4), 0, "noise alone is still");
    cr_assert_eq(pw_motion_changed_in(m, (pw_rect){160, 96, 80, 24}), 0);
    block(160, 96);
    cr_assert_eq(pw_motion_check(m, &p, all, 4), 1, "a plate that came is motion");
    cr_assert_eq(pw_motion_changed_in(m, (pw_rect){160, 96, 80, 24}), 1, "where it came changed");
    cr_assert_eq(pw_motion_changed_in(m, (pw_rect){16, 16, 64, 32}), 0, "elsewhere did not");
    cr_assert_eq(pw_motion_changed_in(m, (pw_rect){310, 230, 40, 40}), 1, "outside the cells: unknown, changed");
    /* Outside the region of interest nothing counts. */
    cr_assert_eq(pw_motion_check(m, &p, (pw_rect){0, 0, 128, 240}, 4), 1, "a new region has no reference");
    pw_motion_keep(m);
    scene(3);
    block(160, 96);
    cr_assert_eq(pw_motion_check(m, &p, (pw_rect){0, 0, 128, 240}, 4), 0);
    pw_motion_destroy(&m);
    cr_assert_null(m);
    pw_motion_destroy(NULL);
}

Test(motion, bad_planes_are_refused)
{
    pw_motion *m = NULL;
    cr_assert_eq(pw_motion_new(NULL), -EINVAL);
    cr_assert_eq(pw_motion_new(&m), 0);
    pw_plane p = plane();
    p.channels = 3;
    cr_assert_eq(pw_motion_check(m, &p, (pw_rect){0}, 4), -EINVAL);
    p = plane();
    p.stride = W - 1;
    cr_assert_eq(pw_motion_check(m, &p, (pw_rect){0}, 4), -EINVAL);
    cr_assert_eq(pw_motion_check(m, NULL, (pw_rect){0}, 4), -EINVAL);
    pw_motion_destroy(&m);
}
