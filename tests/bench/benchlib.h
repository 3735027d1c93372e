/*
 * What the benchmark programs share: the host's bare costs, measured in
 * this process, a guest run that reports TSC cycles, and medians.
 */
#ifndef TRAPEZE_BENCHLIB_H
#define TRAPEZE_BENCHLIB_H

#include <stddef.h>

#define ROUNDS 5

/* The benchmarks of one trap each (trap, paging, scan, trace) time a
 * guest loop of the same trapping instruction: with running ahead, the
 * monitor would emulate the whole loop after the first trap, and the
 * figure would not be the cost of a trap; nor under the translator (the
 * default), where cli is one store and out a call without a signal
 * (bench-translate measures those). */
#define ONE_TRAP "--cpu=scan --no-run-ahead"

/* A SIGSEGV round trip on an alternate stack whose handler only steps
 * over the instruction: op is "cli" or "out". ns per trap. */
double bare_round_trip(const char *op, unsigned long n);
/* mmap of one memfd page at a fixed address, and mprotect of one page. */
double bare_mmap_page(unsigned long n);
double bare_mprotect_page(unsigned long n);

/* Run `TRAPEZE run OPTS --append CMDLINE GUEST` and return ns per
 * iteration from the guest's "... N cycles each, tsc K kHz" line, or -1. */
double guest_ns(const char *trapeze, const char *opts, const char *guest,
		const char *cmdline);
/* The same with another command than run (trace). */
double guest_ns_verb(const char *trapeze, const char *verb, const char *opts,
		     const char *guest, const char *cmdline);

/* Run the shell command cmd to its end: the wall time, in ns, of the
 * whole run (start-up included), and its first line of output that
 * contains `want` into line (empty if none); -1 if it could not run or
 * was killed (any exit status is the caller's to judge). */
double timed_run(const char *cmd, const char *want, char *line,
		 size_t size);

double median(double *v, int n);
/* Which FS-switch path the monitor takes on this host, for the report. */
const char *fs_switch_path(void);

#endif
