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
#define _GNU_SOURCE
#include <signal.h>
#include <sys/auxv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define ROUNDS 5

static void skip_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	const unsigned char *ip = (const void *)uc->uc_mcontext.gregs[REG_RIP];

	uc->uc_mcontext.gregs[REG_RIP] += ip[0] == 0xe6 ? 2 : 1;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* The bare round trip, handled the way the monitor is: SA_SIGINFO on an
 * alternate stack. */
static double bare(const char *op, unsigned long n)
{
	static char stack[1 << 16];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };
	struct sigaction sa;
	unsigned long i;
	double t0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = skip_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaltstack(&ss, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	t0 = now_ns();
	if (!strcmp(op, "cli"))
		for (i = 0; i < n; i++)
			__asm__ volatile("cli");
	else
		for (i = 0; i < n; i++)
			__asm__ volatile("outb %%al, $0x80" : : "a"(0));
	return (now_ns() - t0) / n;
}

/* ns per emulated operation, from the guest's own TSC measurement. */
static double emulated(const char *trapeze, const char *guest,
		       const char *op, unsigned long n)
{
	char cmd[1024], line[256];
	unsigned long long cycles = 0, khz = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' run --append '%s %lu' '%s'",
		 trapeze, op, n, guest);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%*s %*lu iterations: %llu cycles each, "
			   "tsc %llu kHz", &cycles, &khz) == 2)
			break;
	pclose(p);
	return khz ? cycles * 1e6 / khz : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const char *const ops[] = { "cli", "out" };
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 0) : 100000;
	double b[2][ROUNDS], e[2][ROUNDS], mb[2], me[2];
	int i, k;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-trap TRAPEZE GUEST [ITERATIONS]\n");
		return 2;
	}
	for (i = 0; i < ROUNDS; i++)
		for (k = 0; k < 2; k++) {
			b[k][i] = bare(ops[k], n);
			e[k][i] = emulated(argv[1], argv[2], ops[k], n);
			if (e[k][i] < 0) {
				fprintf(stderr, "bench-trap: the guest run "
					"failed\n");
				return 1;
			}
		}
	printf("One trapping instruction, ns (median of %d runs of %lu "
	       "iterations, this host, this run).\n", ROUNDS, n);
	printf("FS base switch at each trap: %s\n\n",
	       (getauxval(AT_HWCAP2) & 2) && !getenv("TRAPEZE_NO_FSGSBASE")
		       ? "rd/wrfsbase (the host has FSGSBASE)"
		       : "arch_prctl system call (no FSGSBASE)");
	printf("  %-34s %9s %9s\n", "", "ns/op", "ratio");
	for (k = 0; k < 2; k++) {
		qsort(b[k], ROUNDS, sizeof(double), cmp);
		qsort(e[k], ROUNDS, sizeof(double), cmp);
		mb[k] = b[k][ROUNDS / 2];
		me[k] = e[k][ROUNDS / 2];
		printf("  bare SIGSEGV round trip (%s)      %9.0f %9.2f\n",
		       ops[k], mb[k], 1.0);
		printf("  trapeze: emulated %-15s %9.0f %9.2f   (target "
		       "<= 1.25)\n", ops[k], me[k], me[k] / mb[k]);
	}
	return 0;
}
