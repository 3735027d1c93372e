/*
 * bench-trace: what `trapeze trace` adds to one trap.  The same emulated
 * instruction (cli, in a loop the guest times itself) under `run` (no
 * tracing: the trap path only tests a NULL pointer), under `trace -c`
 * (counted, no output), `trace -o FILE` (a line per event into a file)
 * and `trace -k -o FILE` (with the guest call stack, unwound by
 * libunwind), beside the host's bare SIGSEGV round trip.  All in this one
 * run, alternating; medians and ratios.
 *
 *   bench-trace TRAPEZE GUEST [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "benchlib.h"

enum { BARE, RUN, COUNT, LINES, STACK, NCASES };

int main(int argc, char **argv)
{
	static const char *const what[NCASES] = {
		"bare SIGSEGV round trip",
		"run (tracing off)",
		"trace -c",
		"trace -o FILE (a line per trap)",
		"trace -k -o FILE (and the stack)",
	};
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 0) : 50000;
	double v[NCASES][ROUNDS], m[NCASES];
	char cmdline[64], file[64], opts[NCASES][128];
	int i, k;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-trace TRAPEZE GUEST [ITERATIONS]\n");
		return 2;
	}
	snprintf(file, sizeof(file), "/tmp/bench-trace-%d.txt", (int)getpid());
	snprintf(opts[COUNT], sizeof(opts[COUNT]), "--cpu=scan -c -o %s", file);
	snprintf(opts[LINES], sizeof(opts[LINES]), "--cpu=scan -o %s", file);
	snprintf(opts[STACK], sizeof(opts[STACK]), "--cpu=scan -k -o %s", file);
	snprintf(cmdline, sizeof(cmdline), "cli %lu", n);
	for (i = 0; i < ROUNDS; i++)
		for (k = 0; k < NCASES; k++) {
			if (k == BARE)
				v[k][i] = bare_round_trip("cli", n);
			else
				v[k][i] = guest_ns_verb(argv[1], k == RUN ? "run"
									  : "trace",
						       k == RUN ? ONE_TRAP : opts[k],
						       argv[2], cmdline);
			if (v[k][i] < 0) {
				fprintf(stderr, "bench-trace: the guest run "
					"failed (%s)\n", what[k]);
				unlink(file);
				return 1;
			}
		}
	unlink(file);
	for (k = 0; k < NCASES; k++)
		m[k] = median(v[k], ROUNDS);
	printf("One emulated cli under trapeze trace, ns (median of %d runs of "
	       "%lu iterations,\nthis host, this run).\n\n", ROUNDS, n);
	printf("  %-36s %9s %9s %9s\n", "", "ns/trap", "x bare", "x run");
	for (k = 0; k < NCASES; k++)
		printf("  %-36s %9.0f %9.2f %9.2f\n", what[k], m[k],
		       m[k] / m[BARE], m[k] / m[RUN]);
	return 0;
}
