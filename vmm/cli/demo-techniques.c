/*
 * `trapeze demo techniques`: the classic ways of running a kernel that
 * was not written for a virtual machine, side by side on one workload,
 * measured live in one run:
 *
 *   - pure trapping (--cpu=trap, the kernel unmodified: pv=off): its code
 *     runs natively and only what faults reaches the monitor, which is
 *     right only while the kernel never depends on what a sensitive
 *     instruction that does not fault tells it (Popek and Goldberg; see
 *     `trapeze demo popek-goldberg`);
 *   - in-place patching (--cpu=scan, pv=off): the sensitive instructions
 *     patched into traps before they run ("stubbing");
 *   - binary translation (--cpu=translate, pv=off): kernel code from a
 *     translation cache, sensitive instructions inline, privileged ones
 *     calls into the emulator without a signal;
 *   - paravirtualization (--cpu=trap, the kernel's pv-ops on Trapeze's
 *     hypercalls): the kernel asks instead of trapping;
 *   - emulation (QEMU's TCG, when installed): every instruction
 *     translated, the reference for real CPL 0.
 *
 * The workload is the toy kernel's `init=ops`: it times a system call, a
 * yield to another process and back, and a spawn and wait, in TSC cycles.
 * Trapeze's --stats gives the host signals and the emulated instructions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/capture.h"
#include "cli/demo.h"
#include "cli/embedded.h"
#include "core/vm.h"

static const struct technique {
	const char *name;
	const char *cpu;          /* NULL: QEMU */
	const char *append;
} techniques[] = {
	{ "pure trapping", "--cpu=trap", "init=ops pv=off" },
	{ "in-place patching", "--cpu=scan", "init=ops pv=off" },
	{ "binary translation", "--cpu=translate", "init=ops pv=off" },
	{ "paravirtualization", "--cpu=trap", "init=ops" },
	{ "emulation (QEMU TCG)", NULL, "init=ops" },
};
#define NTECH (sizeof(techniques) / sizeof(techniques[0]))

struct measured {
	bool ran;                 /* the workload's line came out */
	char why[96];
	double wall_s;
	unsigned long long ops[3];            /* cycles: syscall, yield, spawn */
	unsigned long long signals, emulated, callouts;
	bool have_stats;
};

/* The number after `key` in text, if there is one. */
static bool number_after(const char *text, const char *key,
			 unsigned long long *v)
{
	const char *p = strstr(text, key);

	return p && sscanf(p + strlen(key), "%llu", v) == 1;
}

static void parse_run(const char *out, struct measured *m)
{
	const char *ops = strstr(out, "ops: TSC cycles per operation:");
	const char *st = strstr(out, "trapeze: ");

	m->ran = ops && number_after(ops, "system call ", &m->ops[0]) &&
		 number_after(ops, "and back ", &m->ops[1]) &&
		 number_after(ops, "spawn and wait ", &m->ops[2]);
	/* "trapeze: N traps: E instructions emulated, ..." */
	if (st) {
		const char *p = strstr(out, " traps: ");

		m->have_stats = p && sscanf(p + 8, "%llu", &m->emulated) == 1;
		p = strstr(out, "trapeze: ");
		while (p && sscanf(p, "trapeze: %llu host signals taken, %llu",
				   &m->signals, &m->callouts) != 2)
			p = strstr(p + 1, "trapeze: ");
		m->have_stats = m->have_stats && p;
	}
}

static void run_one(const struct technique *t, const char *kernel,
		    const char *self, bool qemu, struct measured *m)
{
	char *out = malloc(CAPTURE_MAX);
	const char *q = getenv("QEMU") ? getenv("QEMU") : "qemu-system-x86_64";
	char *trapeze[] = { (char *)self, "run", (char *)t->cpu, "--stats",
			    "--timeout=60", "--append", (char *)t->append,
			    (char *)kernel, NULL };
	char *qemu_argv[] = { (char *)q, "-cpu", "max", "-m", "64",
			      "-display", "none", "-serial", "stdio",
			      "-monitor", "none", "-no-reboot", "-device",
			      "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel",
			      (char *)kernel, "-append", (char *)t->append,
			      NULL };
	int st;

	memset(m, 0, sizeof(*m));
	if (!out) {
		snprintf(m->why, sizeof(m->why), "out of memory");
		return;
	}
	if (!t->cpu && !qemu) {
		snprintf(m->why, sizeof(m->why), "--no-qemu");
		free(out);
		return;
	}
	st = capture_run(t->cpu ? trapeze : qemu_argv, out, 90, t->cpu != NULL,
			 &m->wall_s);
	parse_run(out, m);
	if (!m->ran && st == 127 && !t->cpu)
		snprintf(m->why, sizeof(m->why), "%s is not installed (Debian: "
			 "qemu-system-x86)", q);
	else if (!m->ran)
		snprintf(m->why, sizeof(m->why), "the workload did not finish "
			 "(exit status %d)", st);
	free(out);
}

static void print_row(const struct technique *t, const struct measured *m)
{
	printf("  %-22s %-16s ", t->name, t->cpu ? t->cpu : "qemu -accel tcg");
	if (!m->ran) {
		printf("(%s)\n", m->why);
		return;
	}
	printf("%6.2f  %9llu %9llu %9llu  ", m->wall_s, m->ops[0], m->ops[1],
	       m->ops[2]);
	if (m->have_stats)
		printf("%9llu %9llu %9llu\n", m->signals, m->callouts,
		       m->emulated);
	else
		printf("%9s %9s %9s\n", "-", "-", "-");
}

int demo_techniques(bool qemu)
{
	struct measured m[NTECH];
	char kernel[4096], self[4096];
	unsigned i;

	if (embedded_path(EMBEDDED_KERNEL, kernel, sizeof(kernel))) {
		fprintf(stderr, "trapeze: demo: cannot hold the built-in "
			"kernel: %s\n", strerror(errno));
		return EXIT_INTERNAL;
	}
	if (!capture_self(self, sizeof(self))) {
		fprintf(stderr, "trapeze: demo: cannot find this program\n");
		return EXIT_INTERNAL;
	}
	for (i = 0; i < NTECH; i++)
		run_one(&techniques[i], kernel, self, qemu, &m[i]);
	for (i = 0; i < NTECH; i++)
		if (techniques[i].cpu && !m[i].ran) {
			fprintf(stderr, "trapeze: demo: %s: %s\n",
				techniques[i].name, m[i].why);
			return EXIT_INTERNAL;
		}
	printf("Four ways to run a kernel in a virtual machine, and "
	       "emulation, on one workload:\n"
	       "the toy kernel's init=ops (a system call, a yield to another "
	       "process and back,\n"
	       "a spawn and wait, timed by the guest in TSC cycles), from "
	       "one run on this host.\n\n");
	printf("  %-22s %-16s %6s  %9s %9s %9s  %9s %9s %9s\n", "technique",
	       "how", "wall s", "syscall", "yield", "spawn", "signals",
	       "callouts", "emulated");
	for (i = 0; i < NTECH; i++)
		print_row(&techniques[i], &m[i]);
	printf("\nsyscall, yield, spawn: TSC cycles per operation, as the "
	       "guest measured them.\n"
	       "signals: host signals the monitor took (each about a "
	       "microsecond or more);\n"
	       "callouts: calls from translated code into the monitor, "
	       "without a signal;\n"
	       "emulated: instructions the monitor's emulator carried out.\n"
	       "Pure trapping runs this kernel correctly only because its "
	       "native paths never\n"
	       "depend on what the sensitive instructions that do not fault "
	       "tell them (`trapeze\n"
	       "demo popek-goldberg` shows what those get wrong; xv6 panics "
	       "at boot under it).\n"
	       "Paravirtualization needs the kernel's own cooperation "
	       "(pv-ops); the other\n"
	       "three run the same unmodified binary path (pv=off).\n");
	return 0;
}
