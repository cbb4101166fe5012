/*
 * commands.h - the sub-commands of `platewatch`. Each takes the arguments
 * from its own name on (argv[0] is the sub-command) and returns the exit
 * status: 0 success, 1 some inputs failed, 2 usage or set-up error.
 */
#ifndef PW_COMMANDS_H
#define PW_COMMANDS_H

int pw_cmd_read(int argc, char **argv);     /* cmd_read.c */
int pw_cmd_bench(int argc, char **argv);    /* cmd_bench.c: dispatches to bench.h */
int pw_cmd_keygen(int argc, char **argv);   /* cmd_publish.c: CURVE key pair files */
int pw_cmd_tail(int argc, char **argv);     /* cmd_publish.c: print events as they arrive */
int pw_cmd_stats(int argc, char **argv);    /* cmd_publish.c: print lane counters */

#endif
