/*
 * bench-translate: what guest kernel code costs in the translator's
 * cache, one operation at a time, beside a bare SIGSEGV round trip (the
 * cost of one trap, and of every patched instruction under --cpu=scan),
 * all measured in this one run, alternating, and given as medians and
 * ratios.  The targets are the translator's (docs/translator.md): the
 * sensitive instructions inline at most 1/500 of a round trip, a call
 * and return or an indirect jump at most 1/250, an out to an emulated
 * port (a call into the emulator, no signal) at most 1/10.
 *
 *   bench-translate TRAPEZE GUEST [ITERATIONS]
 *
 * GUEST is tests/bench/translate-guest.elf: it runs each operation 16
 * times an iteration and times its loop with the TSC; the empty loop's
 * time is taken off.
 */
#include <stdio.h>
#include <stdlib.h>

#include "benchlib.h"

#define PER_ITERATION 16

static const struct op {
	const char *name, *what;
	double target;          /* of the round trip */
	unsigned long scale;    /* fewer iterations for the slow ones */
} ops[] = {
	{ "cli", "cli", 1.0 / 500, 1 },
	{ "sti", "sti", 1.0 / 500, 1 },
	{ "pushf", "pushf (and a pop)", 1.0 / 500, 1 },
	{ "popf", "popf (and a push)", 1.0 / 500, 1 },
	{ "movcs", "mov from cs", 1.0 / 500, 1 },
	{ "callret", "call and ret", 1.0 / 250, 1 },
	{ "jmpind", "indirect jmp (and a lea)", 1.0 / 250, 1 },
	{ "out", "out to port 0x80", 1.0 / 10, 100 },
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static double run(const char *trapeze, const char *guest, const char *op,
		  unsigned long n)
{
	char cmdline[64];

	snprintf(cmdline, sizeof(cmdline), "%s %lu", op, n);
	return guest_ns(trapeze, "--cpu=translate", guest, cmdline);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 0) : 1000000;
	double bare[ROUNDS], t[NOPS][ROUNDS], empty[NOPS][ROUNDS];
	double rt, missed = 0;
	unsigned i, k;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-translate TRAPEZE GUEST "
			"[ITERATIONS]\n");
		return 2;
	}
	for (i = 0; i < ROUNDS; i++) {
		bare[i] = bare_round_trip("cli", 100000);
		for (k = 0; k < NOPS; k++) {
			unsigned long m = n / ops[k].scale;

			t[k][i] = run(argv[1], argv[2], ops[k].name, m);
			empty[k][i] = run(argv[1], argv[2], "nop", m);
			if (t[k][i] < 0 || empty[k][i] < 0) {
				fprintf(stderr, "bench-translate: the guest "
					"run (%s) failed\n", ops[k].name);
				return 1;
			}
			t[k][i] = (t[k][i] - empty[k][i]) / PER_ITERATION;
		}
	}
	rt = median(bare, ROUNDS);
	printf("Translated kernel code (--cpu=translate), ns per operation "
	       "(median of %d runs,\n%lu iterations of %d, this host, this "
	       "run), against a bare SIGSEGV round trip.\n\n", ROUNDS, n,
	       PER_ITERATION);
	printf("  %-28s %9s %11s %11s\n", "", "ns/op", "of a trap", "target");
	printf("  %-28s %9.1f %11s\n", "bare SIGSEGV round trip", rt, "1");
	for (k = 0; k < NOPS; k++) {
		double m = median(t[k], ROUNDS), r = m / rt;
		int ok = r <= ops[k].target;

		printf("  %-28s %9.2f %11.5f  <= %-7.5f %s\n", ops[k].what, m,
		       r, ops[k].target, ok ? "ok" : "MISSED");
		missed += !ok;
	}
	printf("\n%s\n", missed ? "Some targets missed (see above)."
				: "All targets met.");
	return 0;
}
