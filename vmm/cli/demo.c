/*
 * `trapeze demo popek-goldberg`: x86 fails the Popek-Goldberg condition,
 * shown instruction by instruction.  (`trapeze demo techniques` is
 * demo-techniques.c's.)
 *
 * The demonstration guest (guest-kit/examples/popek-goldberg.c, built into
 * this binary) runs each sensitive unprivileged instruction at what it
 * believes is CPL 0 and prints what it saw.  This command runs it three
 * ways and puts the answers side by side:
 *   - under pure trap-and-emulate (--cpu=trap): what the guest gets when
 *     only faulting instructions reach the monitor;
 *   - with the scanner (--cpu=scan) and the translator (--cpu=translate):
 *     the monitor's answers;
 *   - under QEMU, when installed: what real CPL-0 hardware answers (an
 *     emulated CPU, but one whose guest code really runs at CPL 0).
 * and a native probe says which instructions fault at CPL 3 on this host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/capture.h"
#include "cli/demo.h"
#include "cli/embedded.h"
#include "host/hostcpu.h"
#include "cli/probe.h"
#include "core/vm.h"


#define VALUE_MAX 48
#define QEMU_TIMEOUT 120

static const struct row {
	const char *key;          /* the guest's PG line */
	enum probe_insn probe;
} rows[] = {
	{ "sgdt", PROBE_SGDT }, { "sidt", PROBE_SIDT }, { "sldt", PROBE_SLDT },
	{ "smsw", PROBE_SMSW }, { "pushf", PROBE_PUSHF },
	{ "popf", PROBE_POPF }, { "lar", PROBE_LAR }, { "lsl", PROBE_LSL },
	{ "verr", PROBE_VERR }, { "verw", PROBE_VERW }, { "pop", PROBE_POP },
	{ "push", PROBE_PUSH }, { "call", PROBE_CALL }, { "jmp", PROBE_JMP },
	{ "int", PROBE_INT }, { "ret", PROBE_RET }, { "str", PROBE_STR },
	{ "mov", PROBE_MOV }, { "cpuid", PROBE_CPUID },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

enum run { RUN_TRAP, RUN_SCAN, RUN_TRANSLATE, RUN_QEMU, NRUNS };

struct results {
	char v[NRUNS][NROWS][VALUE_MAX];
	bool have[NRUNS];
	char why[NRUNS][128];        /* why a run is missing */
};

/* Pick the "PG row value" lines out of a transcript. */
static bool parse(const char *out, char v[NROWS][VALUE_MAX])
{
	bool done = false;
	unsigned i;

	for (i = 0; i < NROWS; i++)
		snprintf(v[i], VALUE_MAX, "(no answer)");
	while (out && *out) {
		const char *eol = strchr(out, '\n');
		size_t n = eol ? (size_t)(eol - out) : strlen(out);

		if (n > 3 && !strncmp(out, "PG ", 3)) {
			if (n == 7 && !strncmp(out + 3, "done", 4))
				done = true;
			for (i = 0; i < NROWS; i++) {
				size_t k = strlen(rows[i].key);

				if (n > 4 + k && !strncmp(out + 3, rows[i].key, k) &&
				    out[3 + k] == ' ')
					snprintf(v[i], VALUE_MAX, "%.*s",
						 (int)(n - 4 - k), out + 4 + k);
			}
		}
		out = eol ? eol + 1 : NULL;
	}
	return done;
}

static void run_trapeze(struct results *r, enum run which, const char *guest)
{
	static const char *const cpu[] = { "--cpu=trap", "--cpu=scan",
					   "--cpu=translate" };
	char exe[4096], *out = malloc(CAPTURE_MAX);
	char *argv[] = { exe, "run", (char *)cpu[which], "--quiet",
			 "--timeout=60", (char *)guest, NULL };

	if (!out || !capture_self(exe, sizeof(exe))) {
		snprintf(r->why[which], sizeof(r->why[which]),
			 "cannot find this program");
		free(out);
		return;
	}
	capture_run(argv, out, 90, false, NULL);
	r->have[which] = parse(out, r->v[which]);
	if (!r->have[which])
		snprintf(r->why[which], sizeof(r->why[which]),
			 "the guest did not finish under trapeze %s",
			 cpu[which]);
	free(out);
}

static void run_qemu(struct results *r, const char *guest)
{
	const char *qemu = getenv("QEMU") ? getenv("QEMU")
					  : "qemu-system-x86_64";
	char *out = malloc(CAPTURE_MAX);
	char *argv[] = { (char *)qemu, "-cpu", "max", "-m", "64",
			 "-display", "none", "-serial", "stdio",
			 "-monitor", "none", "-no-reboot", "-device",
			 "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel",
			 (char *)guest, NULL };
	int st;

	if (!out)
		return;
	st = capture_run(argv, out, QEMU_TIMEOUT, false, NULL);
	r->have[RUN_QEMU] = parse(out, r->v[RUN_QEMU]);
	if (!r->have[RUN_QEMU])
		snprintf(r->why[RUN_QEMU], sizeof(r->why[RUN_QEMU]),
			 st == 127 ? "%s is not installed (Debian: "
				     "qemu-system-x86)"
				   : "%s did not run the guest to the end",
			 qemu);
	free(out);
}

static const char *probe_word(enum probe_result p)
{
	return p == PROBE_TRAPS ? "yes" : p == PROBE_HIDDEN ? "hidden" : "no";
}

static void print_header(const struct host_features *h)
{
	printf("Popek and Goldberg on x86-64: sensitive instructions that do "
	       "not trap\n\n"
	       "Trap-and-emulate works only if every sensitive instruction "
	       "traps when run\n"
	       "outside the most privileged mode.  Robin and Irvine (2000) "
	       "counted 17\n"
	       "sensitive, unprivileged IA-32 instructions, usually listed as "
	       "the 18\n"
	       "mnemonics below.  The guest runs each at what it believes is "
	       "CPL 0 and\n"
	       "reports what it saw; cpuid is added, for what it "
	       "reveals.\n\n");
	printf("This host: %s, FSGSBASE %s, CPUID faulting %s,\n"
	       "UMIP %s.\n", h->vendor, h->fsgsbase ? "on" : "off",
	       h->cpuid_faulting ? "available" : "not available (cpuid "
						 "cannot be made to trap)",
	       h->umip ? "on (sgdt, sidt, sldt, smsw and str fault, and Linux "
			 "answers them itself)"
		       : "off");
}

static void print_table(const struct results *r,
			const enum probe_result probe[PROBE_COUNT])
{
	bool ref = r->have[RUN_QEMU];
	unsigned i, silent = 0, scan_wrong = 0, tr_wrong = 0, trap_wrong = 0;

	printf("\n%-6s %-7s %-20s %-20s %-20s %-20s %s\n", "", "traps",
	       "pure trapping", "in-place patching", "translation",
	       "real CPL 0 (QEMU)", "verdict");
	printf("%-6s %-7s %-20s %-20s %-20s %-20s %s\n", "insn", "at CPL3",
	       "(--cpu=trap) sees", "(--cpu=scan) sees",
	       "(--cpu=translate)", "sees", ref ? "trap scan tran" : "");
	for (i = 0; i < NROWS; i++) {
		const char *t = r->v[RUN_TRAP][i], *s = r->v[RUN_SCAN][i];
		const char *x = r->v[RUN_TRANSLATE][i];
		const char *q = ref ? r->v[RUN_QEMU][i] : "-";
		/* (Without QEMU, the scanner's answers are the reference.) */
		bool t_ok = ref ? !strcmp(t, q) : !strcmp(t, s);
		bool s_ok = !ref || !strcmp(s, q);
		bool x_ok = ref ? !strcmp(x, q) : !strcmp(x, s);

		printf("%-6s %-7s %-20s %-20s %-20s %-20s ", rows[i].key,
		       probe_word(probe[rows[i].probe]), t, s, x, q);
		if (ref)
			printf("%-4s %-4s %s\n", t_ok ? "ok" : "WRONG",
			       s_ok ? "ok" : "WRONG", x_ok ? "ok" : "WRONG");
		else
			printf("\n");
		trap_wrong += !t_ok;
		scan_wrong += !s_ok;
		tr_wrong += !x_ok;
		silent += !t_ok && probe[rows[i].probe] != PROBE_TRAPS;
	}
	printf("\ntraps at CPL3: yes = the CPU faults and the monitor sees "
	       "it; no = it runs natively;\n"
	       "  hidden = it faults, but Linux answers it for the process: "
	       "to the monitor, no.\n");
	printf("WRONG: the guest's answer differs from real CPL 0.\n\n");
	if (ref)
		printf("Pure trap-and-emulate: %u of %zu rows are silent "
		       "failures (a wrong answer from an\n"
		       "instruction the monitor never saw).  With the scanner: "
		       "%u wrong; translated: %u wrong.\n", silent, NROWS,
		       scan_wrong, tr_wrong);
	else
		printf("No CPL-0 reference: %s.\nAgainst the scanner's "
		       "answers, pure trap-and-emulate differs on %u of %zu "
		       "rows,\nthe translator on %u.\n", r->why[RUN_QEMU],
		       trap_wrong, NROWS, tr_wrong);
	printf("\nIn 64-bit mode PUSH CS/SS/DS/ES, POP SS/DS/ES and the "
	       "direct far CALL and JMP\n"
	       "(ptr16:32) are invalid opcodes (AMD64 dropped them with most "
	       "of segmentation):\n"
	       "the POP, PUSH, CALL and JMP rows use FS and the indirect far "
	       "forms.  INT n\n"
	       "traps on this host because Linux's IDT gates have DPL 0.\n");
}

/* What --check holds: the scanner and the translator are right on every
 * row, and pure
 * trap-and-emulate is wrong exactly on the rows this host does not trap. */
static int check_theory(const struct results *r,
			const enum probe_result probe[PROBE_COUNT])
{
	unsigned i;
	int bad = 0;

	for (i = 0; i < NROWS; i++) {
		bool t_ok = !strcmp(r->v[RUN_TRAP][i], r->v[RUN_QEMU][i]);
		bool s_ok = !strcmp(r->v[RUN_SCAN][i], r->v[RUN_QEMU][i]);
		bool x_ok = !strcmp(r->v[RUN_TRANSLATE][i], r->v[RUN_QEMU][i]);
		bool traps = probe[rows[i].probe] == PROBE_TRAPS;

		if (!s_ok) {
			fprintf(stderr, "check: %s: the scanner's answer '%s' "
				"is not CPL 0's '%s'\n", rows[i].key,
				r->v[RUN_SCAN][i], r->v[RUN_QEMU][i]);
			bad = 1;
		}
		if (!x_ok) {
			fprintf(stderr, "check: %s: the translator's answer "
				"'%s' is not CPL 0's '%s'\n", rows[i].key,
				r->v[RUN_TRANSLATE][i], r->v[RUN_QEMU][i]);
			bad = 1;
		}
		if (t_ok != traps) {
			fprintf(stderr, "check: %s: it %s on this host, yet "
				"trap-and-emulate is %s\n", rows[i].key,
				traps ? "traps" : "does not trap",
				t_ok ? "right" : "wrong");
			bad = 1;
		}
	}
	return bad;
}

void demo_usage(FILE *f)
{
	fputs("Usage: trapeze demo popek-goldberg [OPTIONS]\n"
	      "       trapeze demo techniques [OPTIONS]\n\n"
	      "popek-goldberg: show, instruction by instruction, how x86 "
	      "fails the\n"
	      "Popek-Goldberg condition and how patching and translation "
	      "repair it: the\n"
	      "built-in demonstration guest runs under --cpu=trap, "
	      "--cpu=scan, --cpu=translate\n"
	      "and, when installed, under QEMU (real CPL 0).\n\n"
	      "techniques: one workload (the toy kernel's system calls, "
	      "yields and spawns)\n"
	      "under each technique: pure trapping, in-place patching, "
	      "binary translation and\n"
	      "paravirtualization, with the time, the host signals and the "
	      "calls into the\n"
	      "emulator each took, in one table from one run.\n\n"
	      "      --guest=FILE  (popek-goldberg) run this image instead of "
	      "the built-in one\n"
	      "      --no-qemu     leave out the CPL-0 reference\n"
	      "      --check       (popek-goldberg) exit 1 unless patching "
	      "and translation\n"
	      "                    match CPL 0 on every row and "
	      "trap-and-emulate is wrong\n"
	      "                    exactly where the host does not trap "
	      "(needs QEMU; 77\n"
	      "                    without it)\n"
	      "  -h, --help        show this help\n", f);
}

struct demo_opts {
	const char *given;        /* --guest, or NULL for the built-in one */
	bool qemu, check;
	bool techniques;          /* which demonstration */
};

/* demo_parse's answer when the options leave something to run. */
#define DEMO_RUN (-1)

/* The options and the demonstration's name: DEMO_RUN, or the exit status
 * of --help or of a usage error. */
static int demo_parse(int argc, char **argv, struct demo_opts *o)
{
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "no-qemu", no_argument, NULL, 'n' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'g': o->given = optarg; break;
		case 'n': o->qemu = false; break;
		case 'c': o->check = true; break;
		case 'h': demo_usage(stdout); return 0;
		default:
			fprintf(stderr, "trapeze: demo: unknown option '%s' "
				"(see trapeze demo --help)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc || optind + 1 < argc ||
	    (strcmp(argv[optind], "popek-goldberg") != 0 &&
	     strcmp(argv[optind], "techniques") != 0)) {
		fprintf(stderr, "trapeze: demo: %s (the demonstrations are "
			"popek-goldberg and techniques)\n",
			optind >= argc ? "which one?" : optind + 1 < argc
			? "one demonstration at a time"
			: "unknown demonstration");
		return EXIT_USAGE;
	}
	o->techniques = !strcmp(argv[optind], "techniques");
	if (o->techniques && (o->given || o->check)) {
		fprintf(stderr, "trapeze: demo: techniques takes neither "
			"--guest nor --check\n");
		return EXIT_USAGE;
	}
	return DEMO_RUN;
}

/* The image to run: --guest's, or the built-in one as a file at tmp.
 * 0, or the exit status of the error reported. */
static int demo_guest(const char *given, char *tmp, size_t size,
		      const char **guest)
{
	if (given && access(given, R_OK) != 0) {
		fprintf(stderr, "trapeze: demo: %s: %s\n", given,
			strerror(errno));
		return EXIT_USAGE;
	}
	*guest = given;
	if (!*guest) {
		if (embedded_path(EMBEDDED_POPEK_GOLDBERG, tmp, size)) {
			fprintf(stderr, "trapeze: demo: cannot hold the "
				"built-in guest: %s\n", strerror(errno));
			return EXIT_INTERNAL;
		}
		*guest = tmp;
	}
	return 0;
}

/* The guest under --cpu=trap, scan and translate, and QEMU.  Without all
 * of Trapeze's answers there is no table: 0, or the exit status. */
static int demo_runs(struct results *r, const char *guest, bool qemu)
{
	run_trapeze(r, RUN_TRAP, guest);
	run_trapeze(r, RUN_SCAN, guest);
	run_trapeze(r, RUN_TRANSLATE, guest);
	if (qemu)
		run_qemu(r, guest);
	else
		snprintf(r->why[RUN_QEMU], sizeof(r->why[RUN_QEMU]),
			 "--no-qemu");
	for (int i = RUN_TRAP; i < RUN_QEMU; i++)
		if (!r->have[i]) {
			fprintf(stderr, "trapeze: demo: %s\n", r->why[i]);
			return EXIT_INTERNAL;
		}
	return 0;
}

int cmd_demo(int argc, char **argv)
{
	static struct results r;
	struct demo_opts o = { NULL, true, false, false };
	enum probe_result probe[PROBE_COUNT];
	struct host_features host;
	const char *guest;
	char tmp[4096];
	int st;

	st = demo_parse(argc, argv, &o);
	if (st != DEMO_RUN)
		return st;
	if (o.techniques)
		return demo_techniques(o.qemu);
	st = demo_guest(o.given, tmp, sizeof(tmp), &guest);
	if (st)
		return st;
	hostcpu_detect(&host);
	if (probe_host(host.umip, host.cpuid_faulting, probe) != 0)
		memset(probe, 0, sizeof(probe));
	st = demo_runs(&r, guest, o.qemu);
	if (st)
		return st;
	print_header(&host);
	print_table(&r, probe);
	if (!o.check)
		return 0;
	if (!r.have[RUN_QEMU]) {
		fprintf(stderr, "check: skipped: %s\n", r.why[RUN_QEMU]);
		return 77;
	}
	return check_theory(&r, probe);
}
