/*
 * pwpub_main.c - a temporary stand-in for `platewatch` so that the publish
 * commands (cli/cmd_publish.c) can be built and tested before the CLI links
 * every module: `pwpub keygen|tail|stats ...`.
 */
#include "../cli/commands.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
        return pw_cmd_keygen(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "tail") == 0)
        return pw_cmd_tail(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "stats") == 0)
        return pw_cmd_stats(argc - 1, argv + 1);
    fprintf(stderr, "usage: pwpub keygen|tail|stats ...\n");
    return 2;
}
