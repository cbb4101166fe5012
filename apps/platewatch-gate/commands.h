/*
 * commands.h - the sub-commands of platewatch-gate (main.c dispatches).
 * Each takes the arguments after its name (argv[0] is the command name) and
 * the store path from the configuration or --store, and returns the exit
 * status: 0 done, 1 failed or rows rejected, 2 usage or set-up error.
 */
#ifndef PW_GATE_COMMANDS_H
#define PW_GATE_COMMANDS_H

int pw_cmd_import(const char *store, int argc, char **argv);
int pw_cmd_add(const char *store, int argc, char **argv);
int pw_cmd_amend(const char *store, int argc, char **argv);
int pw_cmd_cancel(const char *store, int argc, char **argv);
int pw_cmd_list(const char *store, int argc, char **argv);
int pw_cmd_user(const char *store, int argc, char **argv);
int pw_cmd_export_corrections(const char *store, int argc, char **argv);

#endif
