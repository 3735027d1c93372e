/*
 * bench-scan: what the scanner costs, beside the bare SIGSEGV round trip
 * of this host, measured in this one run:
 *   - the first execution of a 4 KiB page of code: the fetch fault, the
 *     scan and the patching (with --cpu=trap the same first run costs only
 *     the fault and the mapping: the difference is the scan);
 *   - a pushf/popf pair, patched: two traps and two emulations.
 *
 *   bench-scan TRAPEZE GUEST
 */
#include <stdio.h>

#include "benchlib.h"

static double run(const char *trapeze, const char *opts, const char *guest,
		  const char *cmd)
{
	double v[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++)
		if ((v[i] = guest_ns(trapeze, opts, guest, cmd)) < 0)
			return -1;
	return median(v, ROUNDS);
}

int main(int argc, char **argv)
{
	double bare[ROUNDS], b, scan, trap, pair;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-scan TRAPEZE GUEST\n");
		return 2;
	}
	for (i = 0; i < ROUNDS; i++)
		bare[i] = bare_round_trip("cli", 100000);
	b = median(bare, ROUNDS);
	scan = run(argv[1], ONE_TRAP " --cpu=scan", argv[2], "firstrun 32");
	trap = run(argv[1], ONE_TRAP " --cpu=trap", argv[2], "firstrun 32");
	pair = run(argv[1], ONE_TRAP " --cpu=scan", argv[2], "pushfpopf 50000");
	if (scan < 0 || trap < 0 || pair < 0) {
		fprintf(stderr, "bench-scan: a guest run failed\n");
		return 1;
	}
	printf("The scanner, ns (medians of %d runs, this host, this run); "
	       "ratio = cost / bare trap.\n\n", ROUNDS);
	printf("  %-54s %9s %7s\n", "", "ns", "ratio");
	printf("  %-54s %9.0f %7.2f\n", "bare SIGSEGV round trip", b, 1.0);
	printf("  %-54s %9.0f %7.2f\n",
	       "first run of a 4 KiB code page, --cpu=scan", scan, scan / b);
	printf("  %-54s %9.0f %7.2f\n",
	       "first run of a 4 KiB code page, --cpu=trap", trap, trap / b);
	printf("  %-54s %9.0f %7.2f\n",
	       "  so scanning and patching one page costs", scan - trap,
	       (scan - trap) / b);
	printf("  %-54s %9.0f %7.2f\n", "a patched pushf/popf pair", pair,
	       pair / b);
	return 0;
}
