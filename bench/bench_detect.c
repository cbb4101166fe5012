/* Placeholder until the detect benchmark lands; it reports that it is missing. */
#include <stdio.h>

#include "bench.h"

int pw_bench_detect_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "platewatch bench detect: not built yet\n");
    return 2;
}
