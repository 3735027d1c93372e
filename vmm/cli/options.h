/*
 * The command line: `trapeze run [options] GUEST.elf` and friends.
 */
#ifndef TRAPEZE_CLI_H
#define TRAPEZE_CLI_H

#include "trace/trace.h"
#include "core/vm.h"

enum cli_result { CLI_OK, CLI_EXIT_OK, CLI_ERROR };

/* Parse the options of `run` (argv[0] is "run"), or of `trace` when topt
 * is given.  No guest: opt->guest_path is NULL (the built-in kernel). */
enum cli_result cli_parse_run(int argc, char **argv, struct vm_options *opt,
			      struct trace_options *topt);
/* Open the --drive images: one line on stderr and CLI_ERROR if one is
 * missing, unreadable or not whole sectors. */
int cli_open_drives(struct vm_options *opt);
void cli_usage(FILE *f);
void cli_run_usage(FILE *f);
void cli_trace_usage(FILE *f);

#endif
