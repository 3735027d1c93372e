/*
 * The benchmark library (see benchlib.h).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "benchlib.h"

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void skip_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	const unsigned char *ip = (const void *)uc->uc_mcontext.gregs[REG_RIP];

	uc->uc_mcontext.gregs[REG_RIP] += ip[0] == 0xe6 ? 2 : 1;
}

double bare_round_trip(const char *op, unsigned long n)
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

double bare_mmap_page(unsigned long n)
{
	int fd = memfd_create("bench", 0);
	char *area = mmap(NULL, 4096 * 64, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long i;
	double t0;

	if (fd < 0 || ftruncate(fd, 4096 * 64) || area == MAP_FAILED)
		return -1;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		mmap(area + 4096 * (i % 64), 4096, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED, fd, 4096 * (i % 64));
	t0 = (now_ns() - t0) / n;
	munmap(area, 4096 * 64);
	close(fd);
	return t0;
}

double bare_mprotect_page(unsigned long n)
{
	char *area = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long i;
	double t0;

	if (area == MAP_FAILED)
		return -1;
	area[0] = 1;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		mprotect(area, 4096, (i & 1) ? PROT_READ
					     : PROT_READ | PROT_WRITE);
	t0 = (now_ns() - t0) / n;
	munmap(area, 4096);
	return t0;
}

double guest_ns(const char *trapeze, const char *opts, const char *guest,
		const char *cmdline)
{
	return guest_ns_verb(trapeze, "run", opts, guest, cmdline);
}

double guest_ns_verb(const char *trapeze, const char *verb, const char *opts,
		     const char *guest, const char *cmdline)
{
	char cmd[1024], line[256];
	unsigned long long cycles = 0, khz = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' %s %s --append '%s' '%s'", trapeze,
		 verb, opts, cmdline, guest);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%*[^:]: %llu cycles each, tsc %llu kHz",
			   &cycles, &khz) == 2)
			break;
	pclose(p);
	return khz ? cycles * 1e6 / khz : -1;
}

double timed_run(const char *cmd, const char *want, char *line,
		 size_t size)
{
	char buf[256];
	double t0 = now_ns();
	FILE *p = popen(cmd, "r");
	int status;

	line[0] = 0;
	if (!p)
		return -1;
	while (fgets(buf, sizeof(buf), p))
		if (!line[0] && strstr(buf, want))
			snprintf(line, size, "%s", buf);
	status = pclose(p);
	t0 = now_ns() - t0;
	return status == -1 || WIFSIGNALED(status) ? -1 : t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp);
	return v[n / 2];
}

const char *fs_switch_path(void)
{
	return (getauxval(AT_HWCAP2) & 2) && !getenv("TRAPEZE_NO_FSGSBASE")
		       ? "rd/wrfsbase (the host has FSGSBASE)"
		       : "arch_prctl system call (no FSGSBASE)";
}
