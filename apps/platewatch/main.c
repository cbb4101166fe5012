/*
 * platewatch - the command-line entry point: dispatches to the sub-commands
 * in commands.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "cvshim.h"
#include "pw_build_config.h"
#include "pw_common.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"read", pw_cmd_read, "read the plates in image files"},
    {"bench", pw_cmd_bench, "accuracy and speed benchmarks (images, detect, capture)"},
    {"keygen", pw_cmd_keygen, "write a CURVE key pair"},
    {"tail", pw_cmd_tail, "print plate events as they arrive"},
    {"stats", pw_cmd_stats, "print lane counters"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: platewatch COMMAND [OPTIONS] ...\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'platewatch COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("platewatch %s\n", PW_VERSION);
        return 0;
    }
    pw_reexec_with_single_thread_openmp(argv);
    /* Lanes and OCR workers already fill the cores; OpenCV's own pool only
     * woke threads to split plate-sized crops (4 % of a lane's CPU). */
    pw_cv_set_threads(1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "platewatch: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
