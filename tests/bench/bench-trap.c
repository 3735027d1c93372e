/*
 * bench-trap: what one emulated privileged instruction costs, beside the
 * cheapest thing a trap can cost on this host: a SIGSEGV whose handler
 * only steps over the instruction.  Everything is measured in this one
 * run, alternating, and reported as medians and ratios.
 *
 *   bench-trap TRAPEZE GUEST [ITERATIONS]
 *
 * GUEST is tests/bench/trap-guest.elf, which times its own loop with the
 * (untrapped) TSC and prints cycles per iteration.
 */
#include <stdio.h>
#include <stdlib.h>

#include "benchlib.h"

int main(int argc, char **argv)
{
	static const char *const ops[] = { "cli", "out" };
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 0) : 100000;
	double b[2][ROUNDS], e[2][ROUNDS], mb, me;
	char cmdline[64];
	int i, k;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-trap TRAPEZE GUEST [ITERATIONS]\n");
		return 2;
	}
	for (i = 0; i < ROUNDS; i++)
		for (k = 0; k < 2; k++) {
			snprintf(cmdline, sizeof(cmdline), "%s %lu", ops[k], n);
			b[k][i] = bare_round_trip(ops[k], n);
			e[k][i] = guest_ns(argv[1], ONE_TRAP, argv[2], cmdline);
			if (e[k][i] < 0) {
				fprintf(stderr, "bench-trap: the guest run "
					"failed\n");
				return 1;
			}
		}
	printf("One trapping instruction, ns (median of %d runs of %lu "
	       "iterations, this host, this run).\n", ROUNDS, n);
	printf("FS base switch at each trap: %s\n\n", fs_switch_path());
	printf("  %-34s %9s %9s\n", "", "ns/op", "ratio");
	for (k = 0; k < 2; k++) {
		mb = median(b[k], ROUNDS);
		me = median(e[k], ROUNDS);
		printf("  bare SIGSEGV round trip (%s)      %9.0f %9.2f\n",
		       ops[k], mb, 1.0);
		printf("  trapeze: emulated %-15s %9.0f %9.2f   (target "
		       "<= 1.25)\n", ops[k], me, me / mb);
	}
	return 0;
}
