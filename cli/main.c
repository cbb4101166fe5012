/*
 * platewatch - the command-line entry point: dispatches to the sub-commands
 * in commands.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "pw_build_config.h"

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

/*
 * Tesseract is built with OpenMP, which reads OMP_THREAD_LIMIT only when
 * the process starts; without it every read is several times slower. So
 * the process re-executes itself once with the variable set.
 */
static void ensure_single_threaded_openmp(char **argv)
{
    const char *limit = getenv("OMP_THREAD_LIMIT");
    if (limit && strcmp(limit, "1") == 0)
        return;
    if (setenv("OMP_THREAD_LIMIT", "1", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    fprintf(stderr, "platewatch: warning: cannot re-execute with OMP_THREAD_LIMIT=1 (%s); "
                    "OCR will be slow\n", strerror(errno));
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
    ensure_single_threaded_openmp(argv);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "platewatch: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
