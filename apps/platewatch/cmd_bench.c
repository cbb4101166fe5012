/* platewatch bench WHAT ... - dispatches to the benchmarks in bench.h. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "commands.h"

int pw_cmd_bench(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
        const char *summary;
    } benches[] = {
        {"images", pw_bench_images_main, "read-path accuracy and time on a labelled manifest"},
        {"detect", pw_bench_detect_main, "localiser recall and speed, SIMD levels, Haar baseline"},
        {"capture", pw_bench_capture_main, "capture overhead and latency"},
        {"video", pw_bench_video_main, "the lane pipeline over recordings with ground truth"},
    };
    if (argc >= 2)
        for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
            if (strcmp(argv[1], benches[i].name) == 0)
                return benches[i].run(argc - 1, argv + 1);
    fprintf(stderr, "usage: platewatch bench WHAT ...\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        fprintf(stderr, "  %-8s %s\n", benches[i].name, benches[i].summary);
    return 2;
}
