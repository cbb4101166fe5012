/* cmd_publish.c - placeholder while the publish commands are written. */
#include "commands.h"

int pw_cmd_keygen(int argc, char **argv) { (void)argc; (void)argv; return 2; }
int pw_cmd_tail(int argc, char **argv) { (void)argc; (void)argv; return 2; }
int pw_cmd_stats(int argc, char **argv) { (void)argc; (void)argv; return 2; }
