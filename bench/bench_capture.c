/* Placeholder until the capture benchmark lands; it reports that it is missing. */
#include <stdio.h>

#include "bench.h"

int pw_bench_capture_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "platewatch bench capture: not built yet\n");
    return 2;
}
