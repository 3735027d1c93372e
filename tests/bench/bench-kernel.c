/*
 * bench-kernel: the toy kernel (guest-kit/kernel) as a workload.
 *
 *   1. Its whole deterministic workload (the README transcript) under
 *      Trapeze with paravirtualization on, with it off (every privileged
 *      operation trapped; both --cpu=scan), with it on and the scanner
 *      off (--cpu=trap: a paravirtualized kernel runs no sensitive
 *      instruction natively, so it needs no patching), with it off under
 *      the translator (--cpu=translate: how much of paravirtualization's
 *      gain the translator gets by itself, on the unmodified kernel), and
 *      under QEMU TCG: wall time, CPU time of the
 *      process, and trap counts (--stats).  The workload sleeps 5 x 100 ms
 *      on purpose, so wall time has that floor; CPU time does not.  Under
 *      Trapeze, also where the guest's time went by its own TSC ("times"
 *      on its command line): user mode, and its kernel, with the monitor's
 *      work for the kernel's traps and hypercalls, which is what
 *      paravirtualization changes.  The process's CPU time mixes that with
 *      the sieve's compute, and is coarser.
 *   2. The CPU-bound program alone (init=sieve): wall time of the three,
 *      and its own time inside Trapeze (TSC, which the guest reads
 *      natively) against the same code (sieve-core.h) compiled for the
 *      host, demand-zero bitmap included: spawn to exit, and from its
 *      first instruction to exit (without the kernel's exec, which the
 *      native figure has no counterpart of).  These come from PAIRS runs
 *      of each, a guest run and a native run back to back, so that the
 *      host's drift (these machines are shared) hits both sides of each
 *      ratio alike; the ratio printed is the median of the pairs'.
 *      Each pair also times the native sieve on memfd memory, mapped
 *      shared and populated as Trapeze maps guest RAM: that separates
 *      what the host's shared memory costs from what the monitor does.
 *   3. The kernel's basic operations (init=ops): a system call, a yield
 *      to another process and back, spawning a process and waiting for
 *      it, each timed by the guest's TSC over many repetitions, under
 *      the same three.  This is where paravirtualization and trapping
 *      differ most, and where a monitor in a user process pays most: each
 *      entry to and exit from the guest kernel changes the host rights of
 *      its pages (docs/shadow-paging.md), which QEMU's TCG does not.
 *   4. An idle guest (init=sleeper: five sleeps of 100 ms, hlt between
 *      timer ticks): CPU time against wall time.
 *
 * All in this one run; medians of ROUNDS.
 *
 *   bench-kernel TRAPEZE KERNEL.elf QEMU-RUN
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sieve-core.h"
#include "benchlib.h"

#define SIEVE_N 32000000u

struct result {
	double wall, cpu;        /* seconds */
	char out[16384];         /* stdout and stderr */
	int status;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Run argv, collecting its output, wall time and CPU time (user + sys). */
static int run(char *const argv[], struct result *r)
{
	struct rusage ru;
	int fd[2], st;
	size_t n = 0;
	ssize_t k;
	double t0 = now_s();
	pid_t pid;

	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	/* Past the buffer's end, keep the output's tail, where the lines
	 * read below are, and read it all: the child must not block. */
	while ((k = read(fd[0], r->out + n, sizeof(r->out) - 1 - n)) > 0) {
		n += (size_t)k;
		if (n == sizeof(r->out) - 1) {
			memmove(r->out, r->out + n / 2, n - n / 2);
			n -= n / 2;
		}
	}
	r->out[n] = 0;
	close(fd[0]);
	if (pid < 0 || wait4(pid, &st, 0, &ru) != pid)
		return -1;
	r->wall = now_s() - t0;
	r->cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		 ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

static unsigned long long traps(const char *out)
{
	const char *s = strstr(out, "trapeze: ");
	unsigned long long n = 0;

	while (s && sscanf(s, "trapeze: %llu traps", &n) != 1)
		s = strstr(s + 1, "trapeze: ");
	return n;
}

/* The guest's time in its kernel and in user mode, in ms, from its
 * "times" line; -1 if there is none. */
static int guest_times(const char *out, double *kernel, double *user)
{
	const char *s = strstr(out, "kernel: microseconds in user mode ");
	unsigned long long u, k, idle;

	if (!s || sscanf(s, "kernel: microseconds in user mode %llu, in the "
			 "kernel %llu, idle %llu", &u, &k, &idle) != 3)
		return -1;
	*kernel = k / 1e3;
	*user = u / 1e3;
	return 0;
}

/* The sieve's times in ms from the kernel's verbose exit line: spawn to
 * exit (which includes the kernel's exec of it) if first_ran is 0, else
 * from its first instruction to exit (the span the native run times). */
static double sieve_ms(const char *out, int first_ran)
{
	const char *a = strstr(out, "tsc "), *b = strstr(out, "TSC cycles");
	unsigned long long khz = 0, cycles = 0;

	if (!a || !b || sscanf(a, "tsc %llu kHz", &khz) != 1 || !khz)
		return -1;
	if (first_ran) {
		if (sscanf(b, "TSC cycles since spawn, %llu since it first ran",
			   &cycles) != 1)
			return -1;
		return cycles / (double)khz;
	}
	while (b > out && b[-1] != ' ')
		b--;
	while (b > out && b[-1] == ' ')
		b--;
	while (b > out && b[-1] >= '0' && b[-1] <= '9')
		b--;
	if (sscanf(b, "%llu", &cycles) != 1)
		return -1;
	return cycles / (double)khz;
}

/* The sieve on a host program's own memory (anonymous, faulted in as it
 * is touched), or, with memfd, on memory of the kind Trapeze gives a
 * guest: pages of a memfd, mapped shared and populated in one call, as
 * the shadow MMU maps the guest's heap.  The second isolates what the
 * host's shared memory costs from what the monitor does. */
static double native_sieve_ms(bool memfd)
{
	double t0 = now_s();
	size_t len = SIEVE_N / 16 + 4096;
	int fd = memfd ? memfd_create("sieve", 0) : -1;
	uint64_t *bits;
	uint32_t sum, count;

	if (memfd && (fd < 0 || ftruncate(fd, (off_t)len)))
		return -1;
	bits = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    memfd ? MAP_SHARED | MAP_POPULATE
			  : MAP_PRIVATE | MAP_ANONYMOUS, fd, 0);
	if (bits == MAP_FAILED)
		return -1;
	count = sieve_odd(bits, SIEVE_N, &sum);
	munmap(bits, len);
	if (memfd)
		close(fd);
	if (count != 1973815 || sum != 0x03e97552)
		return -1;
	return (now_s() - t0) * 1e3;
}

/* The native sieve in a process of its own, as the guest runs in one:
 * this program again, exec'd with --native-sieve [memfd], which prints
 * its time.
 * (On these VMs the same code runs up to 10% slower or faster by which
 * physical pages it got, so one process reusing its pages run after run
 * biases every pair the same way; a forked child is no better: it ran
 * 1-2% slower than a fresh exec, and sometimes twice as long.) */
static double native_sieve_exec_ms(struct result *r, bool memfd)
{
	char *argv[] = { "/proc/self/exe", "--native-sieve",
			 memfd ? "memfd" : NULL, NULL };
	double ms;

	if (run(argv, r) || r->status != 0 || sscanf(r->out, "%lf", &ms) != 1)
		return -1;
	return ms;
}

/* A paravirtualized kernel runs nothing sensitive natively, so it is
 * also run without the scanner (--cpu=trap): what paravirtualization
 * saves when it replaces binary patching, as it did for Xen.  And the
 * unmodified kernel (pv=off) under the translator: how much of that
 * gain the translator gets by itself.  (PV_ON, PV_OFF: --cpu=scan.) */
enum { PV_ON, PV_OFF, PV_NO_SCAN, TR_OFF, QEMU, NSYS };
/* What patching (PV_OFF) is set against, and how each is named then. */
static const int pv_runs[] = { PV_ON, PV_NO_SCAN, TR_OFF };
static const char *const pv_label[NSYS] = {
	[PV_ON] = "on:", [PV_NO_SCAN] = "on, no scan:",
	[TR_OFF] = "translated:",
};
#define NPV (sizeof(pv_runs) / sizeof(pv_runs[0]))
enum { WORKLOAD, SIEVE, OPS, NWORK };
enum { OP_SYSCALL, OP_YIELD, OP_SPAWN, NOPS };

/* The ops line of init=ops, in microseconds by the guest's TSC rate
 * (its times line); -1 if either is missing. */
static int ops_us(const char *out, double us[NOPS])
{
	const char *a = strstr(out, "; TSC "), *b = strstr(out, "ops: ");
	unsigned long long khz = 0, c[NOPS];
	int k;

	if (!a || !b || sscanf(a, "; TSC %llu kHz", &khz) != 1 || !khz ||
	    sscanf(b, "ops: TSC cycles per operation: system call %llu, yield "
		   "to another process and back %llu, spawn and wait %llu",
		   &c[0], &c[1], &c[2]) != 3)
		return -1;
	for (k = 0; k < NOPS; k++)
		us[k] = c[k] * 1e3 / khz;
	return 0;
}

#define PAIRS 31

int main(int argc, char **argv)
{
	static const char *const sys_name[NSYS] = {
		"Trapeze, paravirt on", "Trapeze, paravirt off",
		"Trapeze, pv on, no scan", "Trapeze, translated", "QEMU TCG",
	};
	static struct result r;
	static const char *const op_name[NOPS] = {
		"system call", "yield and back", "spawn and wait",
	};
	double wall[NWORK][NSYS][ROUNDS], cpu[NWORK][NSYS][ROUNDS];
	double kern[NWORK][NSYS][ROUNDS], user[NWORK][NSYS][ROUNDS];
	double op[NOPS][NSYS][ROUNDS], us[NOPS];
	double in_guest[PAIRS], computing[PAIRS], native[PAIRS];
	double native_memfd[PAIRS], memfd_ratio[PAIRS];
	double spawn_ratio[PAIRS], first_ratio[PAIRS];
	double idle_w[ROUNDS], idle_c[ROUNDS];
	unsigned long long ntraps[NWORK][NSYS] = { { 0 } };
	const char *appends[NWORK][NSYS] = {
		{ "times", "times pv=off", "times", "times pv=off", "" },
		{ "init=sieve verbose times", "init=sieve verbose times pv=off",
		  "init=sieve verbose times", "init=sieve verbose times pv=off",
		  "init=sieve" },
		{ "init=ops times", "init=ops times pv=off", "init=ops times",
		  "init=ops times pv=off", "init=ops times" },
	};
	/* Exit statuses: init's status s comes out as (s << 1) | 1 (QEMU's
	 * isa-debug-exit convention, which Trapeze keeps). */
	const int expect[NWORK] = { 1, ((1973815 << 1) | 1) & 0xff, 1 };
	bool have_qemu = true;
	int i, w, s, k;
	unsigned c;

	if (argc >= 2 && !strcmp(argv[1], "--native-sieve")) {
		bool memfd = argc == 3 && !strcmp(argv[2], "memfd");
		double ms;

		if (argc > 3 || (argc == 3 && !memfd)) {
			fprintf(stderr, "usage: bench-kernel --native-sieve "
				"[memfd]\n");
			return 2;
		}
		ms = native_sieve_ms(memfd);
		printf("%.3f\n", ms);
		return ms < 0;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: bench-kernel TRAPEZE KERNEL.elf "
			"QEMU-RUN\n");
		return 2;
	}
	for (i = 0; i < ROUNDS; i++) {
		for (w = 0; w < NWORK; w++)
			for (s = 0; s < NSYS; s++) {
				char *t_argv[] = { argv[1], "run", "--stats",
						   s == PV_NO_SCAN ? "--cpu=trap"
						   : s == TR_OFF
							   ? "--cpu=translate"
							   : "--cpu=scan",
						   "--append",
						   (char *)appends[w][s],
						   argv[2], NULL };
				char *q_argv[] = { argv[3], "--append",
						   (char *)appends[w][s],
						   argv[2], NULL };

				if (s == QEMU && !have_qemu)
					continue;
				if (run(s == QEMU ? q_argv : t_argv, &r)) {
					fprintf(stderr, "bench-kernel: cannot "
						"run %s\n", sys_name[s]);
					return 1;
				}
				if (s == QEMU && r.status == 77) {
					have_qemu = false;
					continue;
				}
				if (r.status != expect[w]) {
					fprintf(stderr, "bench-kernel: %s "
						"exited with %d:\n%s", sys_name[s],
						r.status, r.out);
					return 1;
				}
				wall[w][s][i] = r.wall;
				cpu[w][s][i] = r.cpu;
				if (w == OPS && ops_us(r.out, us)) {
					fprintf(stderr, "bench-kernel: no ops "
						"line from %s:\n%s",
						sys_name[s], r.out);
					return 1;
				}
				for (k = 0; w == OPS && k < NOPS; k++)
					op[k][s][i] = us[k];
				if (s == QEMU)
					continue;
				ntraps[w][s] = traps(r.out);
				if (guest_times(r.out, &kern[w][s][i],
						&user[w][s][i])) {
					fprintf(stderr, "bench-kernel: no times "
						"line from %s:\n%s",
						sys_name[s], r.out);
					return 1;
				}
			}
		{
			char *argv_idle[] = { argv[1], "run", "--append",
					      "init=sleeper", argv[2], NULL };

			if (run(argv_idle, &r))
				return 1;
			idle_w[i] = r.wall;
			idle_c[i] = r.cpu;
		}
	}

	for (i = 0; i < PAIRS; i++) {
		char *t_argv[] = { argv[1], "run", "--append",
				   "init=sieve verbose", argv[2], NULL };

		if (run(t_argv, &r))
			return 1;
		if ((in_guest[i] = sieve_ms(r.out, 0)) < 0 ||
		    (computing[i] = sieve_ms(r.out, 1)) < 0) {
			fprintf(stderr, "bench-kernel: no sieve timing in:\n%s",
				r.out);
			return 1;
		}
		if ((native[i] = native_sieve_exec_ms(&r, false)) < 0 ||
		    (native_memfd[i] = native_sieve_exec_ms(&r, true)) < 0) {
			fprintf(stderr, "bench-kernel: the native sieve is "
				"wrong\n");
			return 1;
		}
		spawn_ratio[i] = native[i] / in_guest[i];
		first_ratio[i] = native[i] / computing[i];
		memfd_ratio[i] = native_memfd[i] / computing[i];
	}

	printf("The toy kernel (guest-kit/kernel), medians of %d runs, this "
	       "host, this run.\n\n", ROUNDS);
	for (w = WORKLOAD; w <= SIEVE; w++) {
		double ref_w = median(wall[w][PV_ON], ROUNDS);
		double ref_c = median(cpu[w][PV_ON], ROUNDS);

		printf("%s\n", w == SIEVE
			       ? "The CPU-bound program alone (init=sieve):"
			       : "The whole workload (the README transcript; "
				 "it sleeps 0.5 s on purpose):");
		printf("  %-24s %9s %9s %9s %9s %9s %9s\n", "", "wall s",
		       "cpu s", "cpu x", "traps", "kernel ms", "user ms");
		for (s = 0; s < NSYS; s++) {
			double mw, mc;

			if (s == QEMU && !have_qemu) {
				printf("  %-24s (QEMU not installed)\n",
				       sys_name[s]);
				continue;
			}
			mw = median(wall[w][s], ROUNDS);
			mc = median(cpu[w][s], ROUNDS);
			printf("  %-24s %9.3f %9.3f %9.2f", sys_name[s], mw,
			       mc, mc / ref_c);
			if (s == QEMU)
				printf(" %9s %9s %9s\n", "-", "-", "-");
			else
				printf(" %9llu %9.1f %9.1f\n", ntraps[w][s],
				       median(kern[w][s], ROUNDS),
				       median(user[w][s], ROUNDS));
		}
		if (have_qemu)
			printf("  QEMU TCG / Trapeze (pv on): %.2fx the wall "
			       "time, %.2fx the CPU time\n",
			       median(wall[w][QEMU], ROUNDS) / ref_w,
			       median(cpu[w][QEMU], ROUNDS) / ref_c);
		for (c = 0; c < NPV; c++) {
			k = pv_runs[c];
			printf("  paravirt off / %-12s %.2fx the traps, %.2fx "
			       "the guest kernel's time,\n%30s %.2fx the guest's "
			       "(kernel and user), %.2fx the CPU time\n",
			       pv_label[k], (double)ntraps[w][PV_OFF] /
			       (ntraps[w][k] ? ntraps[w][k] : 1),
			       median(kern[w][PV_OFF], ROUNDS) /
			       median(kern[w][k], ROUNDS), "",
			       (median(kern[w][PV_OFF], ROUNDS) +
				median(user[w][PV_OFF], ROUNDS)) /
			       (median(kern[w][k], ROUNDS) +
				median(user[w][k], ROUNDS)),
			       median(cpu[w][PV_OFF], ROUNDS) /
			       median(cpu[w][k], ROUNDS));
		}
		printf("\n");
	}
	printf("The kernel's operations (init=ops), microseconds each by the "
	       "guest's TSC:\n");
	printf("  %-24s", "");
	for (k = 0; k < NOPS; k++)
		printf(" %15s", op_name[k]);
	printf("\n");
	for (s = 0; s < NSYS; s++) {
		if (s == QEMU && !have_qemu)
			continue;
		printf("  %-24s", sys_name[s]);
		for (k = 0; k < NOPS; k++)
			printf(" %15.1f", median(op[k][s], ROUNDS));
		printf("\n");
	}
	for (c = 0; c < NPV; c++) {
		s = pv_runs[c];
		printf("  pv off / %-15s", pv_label[s]);
		for (k = 0; k < NOPS; k++)
			printf(" %14.2fx", median(op[k][PV_OFF], ROUNDS) /
					   median(op[k][s], ROUNDS));
		printf("\n");
	}
	if (have_qemu) {
		printf("  Trapeze (pv on) / QEMU: ");
		for (k = 0; k < NOPS; k++)
			printf(" %14.2fx", median(op[k][PV_ON], ROUNDS) /
					   median(op[k][QEMU], ROUNDS));
		printf("\n");
	}
	printf("\n");
	printf("The sieve's own time (TSC inside the guest, paravirt on) against "
	       "the same code\nbuilt for the host, timed from before its mmap "
	       "to after its munmap;\nmedians of %d pairs of runs back to back, "
	       "and the median of their ratios:\n", PAIRS);
	printf("  native %.1f ms\n", median(native, PAIRS));
	printf("  in Trapeze, spawn to exit (exec included) %.1f ms: %.3fx "
	       "native speed\n", median(in_guest, PAIRS),
	       median(spawn_ratio, PAIRS));
	printf("  in Trapeze, first instruction to exit     %.1f ms: %.3fx "
	       "native speed\n", median(computing, PAIRS),
	       median(first_ratio, PAIRS));
	printf("  (target >= 0.95; both spans include the demand-zero faults "
	       "and whatever\n  timer ticks come before the kernel stops "
	       "its tick for a process alone)\n");
	printf("  native on memfd memory (shared, populated: guest RAM's "
	       "kind) %.1f ms:\n  Trapeze, first instruction to exit, is "
	       "%.3fx its speed\n\n", median(native_memfd, PAIRS),
	       median(memfd_ratio, PAIRS));
	printf("An idle guest (init=sleeper: hlt between timer ticks):\n");
	printf("  wall %.3f s, CPU %.3f s: %.1f%% of one CPU\n",
	       median(idle_w, ROUNDS), median(idle_c, ROUNDS),
	       100 * median(idle_c, ROUNDS) / median(idle_w, ROUNDS));
	return 0;
}
