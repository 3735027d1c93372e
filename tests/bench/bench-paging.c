/*
 * bench-paging: the costs of shadow paging, each beside the host's bare
 * SIGSEGV round trip and the system calls it is made of, all measured in
 * this one run:
 *   - one emulated store to a guest page table,
 *   - one demand fault (first touch of a page the guest mapped),
 *   - one cr3 switch between two address spaces of 64 touched pages,
 *     with the cache of shadows and without it,
 *   - one round trip user -> kernel -> user (int from CPL 3, iretq back:
 *     two privilege switches) with few live mappings, and again after the
 *     guest kernel touched TRIP_PAGES user pages, at their user address
 *     and through its own 2 MiB map of RAM: the switches should cost
 *     about the same, since the user pages have the same rights in both
 *     modes and the kernel's map changes rights as a few large mappings.
 *
 *   bench-paging TRAPEZE GUEST
 */
#include <stdio.h>

#include "benchlib.h"

#define TRIP_PAGES "16000"

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
	double bare[ROUNDS], mm[ROUNDS], mp[ROUNDS], b, pte, dem, c1, c0, t0, t1;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-paging TRAPEZE GUEST\n");
		return 2;
	}
	for (i = 0; i < ROUNDS; i++) {
		bare[i] = bare_round_trip("cli", 100000);
		mm[i] = bare_mmap_page(20000);
		mp[i] = bare_mprotect_page(20000);
	}
	b = median(bare, ROUNDS);
	pte = run(argv[1], ONE_TRAP, argv[2], "ptewrite 20000");
	dem = run(argv[1], ONE_TRAP, argv[2], "demand 4096");
	c1 = run(argv[1], ONE_TRAP, argv[2], "cr3 2000");
	c0 = run(argv[1], ONE_TRAP " --no-shadow-cache", argv[2], "cr3 2000");
	t0 = run(argv[1], ONE_TRAP " --mem=128M", argv[2], "trip 500 0");
	t1 = run(argv[1], ONE_TRAP " --mem=128M", argv[2], "trip 500 " TRIP_PAGES);
	if (pte < 0 || dem < 0 || c1 < 0 || c0 < 0 || t0 < 0 || t1 < 0) {
		fprintf(stderr, "bench-paging: a guest run failed\n");
		return 1;
	}
	printf("Shadow paging, ns (medians of %d runs, this host, this run); "
	       "ratio = cost / bare trap.\n\n", ROUNDS);
	printf("  %-52s %9s %7s\n", "", "ns", "ratio");
	printf("  %-52s %9.0f %7.2f\n", "bare SIGSEGV round trip", b, 1.0);
	printf("  %-52s %9.0f %7.2f\n", "host: mmap of one memfd page",
	       median(mm, ROUNDS), median(mm, ROUNDS) / b);
	printf("  %-52s %9.0f %7.2f\n", "host: mprotect of one page",
	       median(mp, ROUNDS), median(mp, ROUNDS) / b);
	printf("  %-52s %9.0f %7.2f\n", "one emulated page-table store", pte,
	       pte / b);
	printf("  %-52s %9.0f %7.2f\n", "one demand fault (first touch)", dem,
	       dem / b);
	printf("  %-52s %9.0f %7.2f\n",
	       "cr3 switch + 64 touches, shadow cache on", c1, c1 / b);
	printf("  %-52s %9.0f %7.2f\n",
	       "cr3 switch + 64 touches, shadow cache off", c0, c0 / b);
	printf("  %-52s %9.0f %7.2f\n",
	       "user->kernel->user round trip, few mappings", t0, t0 / b);
	printf("  %-52s %9.0f %7.2f\n",
	       "the same, " TRIP_PAGES " pages touched", t1, t1 / b);
	printf("\n  the cache makes a switch %.1fx cheaper\n", c0 / c1);
	printf("  " TRIP_PAGES " touched pages make a user->kernel->user "
	       "round trip %.2fx as dear\n", t1 / t0);
	return 0;
}
