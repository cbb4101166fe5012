/* test_plate.c - normalisation, the confusion-aware distance and the candidate keys. */
#define _POSIX_C_SOURCE 200809L
#include "gate_test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

Test(plate, normalise)
{
    char out[32];
    cr_assert_eq(pw_plate_normalise("ab-12 c.de", out, sizeof out), 7);
    cr_assert_str_eq(out, "AB12CDE");
    cr_assert_eq(pw_plate_normalise("AB12!CD", out, sizeof out), -EINVAL);
    cr_assert_eq(pw_plate_normalise(" - ", out, sizeof out), -EINVAL);
    cr_assert_eq(pw_plate_normalise("ABCDEFGH", out, 8), -EINVAL, "must not fit in 8 bytes");
}

Test(plate, distance_weights)
{
    const double c = 0.3;
    cr_assert_float_eq(pw_plate_distance("AB12CDE", "AB12CDE", c), 0.0, 1e-9);
    cr_assert_float_eq(pw_plate_distance("AB12CDE", "A812CDE", c), 0.3, 1e-9, "B/8");
    cr_assert_float_eq(pw_plate_distance("AB12CDE", "A812C0E", c), 0.6, 1e-9, "B/8 and D/0");
    cr_assert_float_eq(pw_plate_distance("AB12CDE", "AB12CDF", c), 1.0, 1e-9, "E/F");
    cr_assert_float_eq(pw_plate_distance("AB12CDE", "AB12CE", c), 1.0, 1e-9, "deletion");
    cr_assert_float_eq(pw_plate_distance("AB12CDE", "AB123CDE", c), 1.0, 1e-9, "insertion");
    const char *pairs[][2] = {{"O", "0"}, {"I", "1"}, {"B", "8"}, {"S", "5"}, {"Z", "2"},
                              {"G", "6"}, {"D", "0"}, {"Q", "0"}};
    for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++)
        cr_assert_float_eq(pw_plate_distance(pairs[i][0], pairs[i][1], c), 0.3, 1e-9,
                           "%s/%s", pairs[i][0], pairs[i][1]);
}

static bool share_key(const char *stored, const char *read)
{
    int64_t sk[PW_PLATE_KEYS], qk[PW_QUERY_KEYS];
    int ns = pw_plate_store_keys(stored, sk), nq = pw_plate_query_keys(read, qk);
    for (int i = 0; i < ns; i++)
        for (int j = 0; j < nq; j++)
            if (sk[i] == qk[j])
                return true;
    return false;
}

/* Every plate within one edit plus confusions must be found through the index. */
Test(plate, keys_find_every_single_edit)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static const char conf_from[] = "OIBSZGDQ", conf_to[] = "01852600";
    GRand *r = g_rand_new_with_seed(7);
    for (int it = 0; it < 20000; it++) {
        char p[16], q[18];
        int n = g_rand_int_range(r, 2, 12);
        for (int i = 0; i < n; i++)
            p[i] = alphabet[g_rand_int_range(r, 0, 36)];
        p[n] = '\0';
        strcpy(q, p);
        for (int k = 0; k < 2; k++) {          /* up to two confusions */
            int i = g_rand_int_range(r, 0, n);
            const char *f = strchr(conf_from, q[i]);
            if (f)
                q[i] = conf_to[f - conf_from];
        }
        int op = g_rand_int_range(r, 0, 4), i = g_rand_int_range(r, 0, n);
        size_t len = strlen(q);
        if (op == 1)
            q[i] = alphabet[g_rand_int_range(r, 0, 36)];
        else if (op == 2 && len > 1)
            memmove(q + i, q + i + 1, len - (size_t)i);
        else if (op == 3) {
            memmove(q + i + 1, q + i, len - (size_t)i + 1);
            q[i] = alphabet[g_rand_int_range(r, 0, 36)];
        }
        cr_assert(share_key(p, q), "stored %s, read %s: no shared key", p, q);
    }
    g_rand_free(r);
}

Test(plate, unrelated_plates_rarely_share_keys)
{
    cr_assert_not(share_key("AB12CDE", "XY34ZZW"));
}
