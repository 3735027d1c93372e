/*
 * bench-compute: compute-bound kernel code under the translator against
 * the same code run natively.  The workload (compute.c: a sieve and a
 * hash over 8 MiB) runs as a host program (compute-native) and as a
 * guest at CPL 0 (compute-guest.elf), once where it is linked and once
 * from the upper half, each timed as a whole run, start-up included,
 * alternating, median of ROUNDS.  The target: at least 0.97 of native
 * speed, both ways.
 *
 *   bench-compute TRAPEZE GUEST NATIVE [ROUNDS-OF-WORK]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchlib.h"

int main(int argc, char **argv)
{
	static const char *const where[] = { "low", "upper" };
	unsigned work = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 30;
	double nat[ROUNDS], g[2][ROUNDS], mn, missed = 0, fib[2];
	char cmd[1024], ref[128], line[128];
	unsigned i, k;

	if (argc < 4) {
		fprintf(stderr, "usage: bench-compute TRAPEZE GUEST NATIVE "
			"[ROUNDS-OF-WORK]\n");
		return 2;
	}
	for (i = 0; i < ROUNDS; i++) {
		snprintf(cmd, sizeof(cmd), "'%s' %u", argv[3], work);
		nat[i] = timed_run(cmd, "checksum", ref, sizeof(ref));
		if (nat[i] < 0 || !ref[0]) {
			fprintf(stderr, "bench-compute: %s failed\n", argv[3]);
			return 1;
		}
		for (k = 0; k < 2; k++) {
			snprintf(cmd, sizeof(cmd), "'%s' run -q --append "
				 "'%s %u' '%s'", argv[1], where[k], work,
				 argv[2]);
			g[k][i] = timed_run(cmd, "checksum", line,
					    sizeof(line));
			/* The same answer, or the speed means nothing. */
			if (g[k][i] < 0 || !strstr(line, strchr(ref, ' '))) {
				fprintf(stderr, "bench-compute: the guest "
					"(%s) said '%s', native said '%s'\n",
					where[k], line, ref);
				return 1;
			}
		}
	}
	mn = median(nat, ROUNDS);
	printf("Compute-bound kernel code (--cpu=translate, the default) "
	       "against native,\nwhole runs in ms, start-up included "
	       "(median of %d, this run).\n\n", ROUNDS);
	printf("  %-36s %9s %9s\n", "", "ms", "speed");
	printf("  %-36s %9.1f %9.3f\n", "native (compute-native)", mn / 1e6,
	       1.0);
	for (k = 0; k < 2; k++) {
		double m = median(g[k], ROUNDS), r = mn / m;

		printf("  %-36s %9.1f %9.3f   (target >= 0.97) %s\n",
		       k ? "guest, CPL 0, from the upper half"
			 : "guest, CPL 0, where it is linked", m / 1e6, r,
		       r >= 0.97 ? "ok" : "MISSED");
		missed += r < 0.97;
	}
	/* Calls and returns with the stack in the upper half too: those
	 * are the emulator's (docs/translator.md), one call each. */
	for (k = 0; k < 2; k++) {
		snprintf(cmd, sizeof(cmd), "'%s' run -q --append '%s 24' '%s'",
			 argv[1], k ? "fibupper" : "fib", argv[2]);
		fib[k] = timed_run(cmd, "fib(", line, sizeof(line));
		if (fib[k] < 0 || !strstr(line, "= 46368")) {
			fprintf(stderr, "bench-compute: fib said '%s'\n", line);
			return 1;
		}
	}
	printf("\n  fib(24) (75k calls), code and stack in the upper half: "
	       "%.0f ms,\n  %.1f times as long as from where it is linked "
	       "(%.0f ms; no target)\n", fib[1] / 1e6, fib[1] / fib[0],
	       fib[0] / 1e6);
	return 0;
}
