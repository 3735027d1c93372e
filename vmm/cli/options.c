/*
 * Option parsing with getopt_long.  Every mistake a user can make gets one
 * line naming it and exit status 2, before any guest starts.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "host/disk.h"
#include "trace/trace.h"
#include "core/loader.h"

#define DEFAULT_MEM (64ull << 20)
#define MIN_MEM (4ull << 20)
#define MAX_MEM (64ull << 30)

void cli_usage(FILE *f)
{
	fputs("Usage: trapeze COMMAND [OPTIONS] ...\n"
	      "Run an x86-64 guest kernel directly on the CPU, inside this "
	      "process, at user\n"
	      "mode, catching and emulating every privileged instruction it "
	      "executes.\n\n"
	      "Commands:\n"
	      "  run [GUEST.elf] boot a guest and run it until it exits; "
	      "with no guest,\n"
	      "                  the built-in toy kernel (guest-kit/kernel)\n"
	      "  trace [GUEST.elf]\n"
	      "                  run a guest and print every trap as it "
	      "happens, as strace\n"
	      "                  prints system calls\n"
	      "  demo popek-goldberg\n"
	      "                  x86's sensitive instructions that do not "
	      "trap, side by side\n"
	      "                  with what real CPL-0 hardware does\n"
	      "  demo techniques\n"
	      "                  one workload under trapping, patching, "
	      "translation and\n"
	      "                  paravirtualization, measured side by side\n\n"
	      "  -h, --help      show this help; `trapeze run --help` for "
	      "the options of run,\n"
	      "                  `trapeze trace --help`, `trapeze demo --help`; "
	      "man trapeze\n"
	      "  -V, --version   show the version\n\n"
	      "Exit status: the guest's own through isa-debug-exit "
	      "((v << 1) | 1, odd),\n"
	      "0 when it halts for good, 2 for a usage or image error, 4 "
	      "when the guest\n"
	      "crashes (triple fault), 124 on --timeout, 126 on an internal "
	      "error, 130 on\n"
	      "Ctrl-A x (on a terminal Ctrl-C belongs to the guest), SIGINT "
	      "or SIGTERM.\n", f);
}

void cli_run_usage(FILE *f)
{
	fputs("Usage: trapeze run [OPTIONS] [GUEST.elf]\n"
	      "Boot GUEST.elf, a static ELF64 x86-64 image "
	      "(docs/guest-abi.md) or a\n"
	      "multiboot kernel (ELF32, ELF64 or flat with address fields), "
	      "and run it;\n"
	      "with no GUEST.elf, the built-in toy kernel "
	      "(guest-kit/kernel).\n"
	      "Its COM1 serial port is this terminal: output to stdout, "
	      "input from stdin.\n\n"
	      "  -m, --mem=SIZE         guest RAM: 64M (default), 1G...; a "
	      "multiple of 2 MiB\n"
	      "                         from 4 MiB to 64 GiB\n"
	      "  -a, --append=STRING    the guest's command line (in its "
	      "boot info)\n"
	      "      --initrd=FILE      a multiboot kernel's module 0\n"
	      "      --cpu=MODE         how guest kernel code runs (user code "
	      "always runs\n"
	      "                         natively):\n"
	      "                         translate (default): from a "
	      "translation cache in the\n"
	      "                         monitor, sensitive instructions "
	      "inline, privileged\n"
	      "                         ones called out to the emulator; "
	      "guest memory is\n"
	      "                         never patched (binary translation)\n"
	      "                         scan: natively, the sensitive "
	      "instructions patched\n"
	      "                         into traps in guest memory before "
	      "they run (stubbing,\n"
	      "                         for the demonstration and as a "
	      "fallback)\n"
	      "                         trap: natively, unpatched: pure "
	      "trap-and-emulate,\n"
	      "                         where the sensitive instructions leak "
	      "the host's state\n"
	      "                         (Popek and Goldberg's failure on x86)\n"
	      "      --timeout=SECONDS  stop the guest after SECONDS "
	      "(exit status 124)\n"
	      "      --drive=file=PATH[,index=N][,snapshot=on][,format=raw]"
	      "[,media=disk]\n"
	      "                         a raw disk image (a whole number of "
	      "512-byte sectors)\n"
	      "                         on the IDE controller: index 0-3 is "
	      "primary master,\n"
	      "                         primary slave, secondary master, "
	      "secondary slave\n"
	      "                         (default: the first free); every "
	      "write the guest\n"
	      "                         completes is in the file at once; "
	      "snapshot=on leaves\n"
	      "                         the file untouched (writes stay in "
	      "memory); repeatable\n"
	      "      --no-shadow-cache  rebuild the shadow page tables on "
	      "every cr3 switch\n"
	      "      --no-run-ahead     stop after each emulated trap; by "
	      "default (with\n"
	      "                         --cpu=scan) the monitor emulates on "
	      "through the next\n"
	      "                         instructions while they would trap "
	      "too\n"
	      "      --no-translate     emulate every access to the top 4 GiB "
	      "of the address\n"
	      "                         space; by default (with --cpu=scan) "
	      "hot code that\n"
	      "                         makes them runs natively from a "
	      "rewritten copy\n"
	      "      --stats            at exit, count the traps by kind and "
	      "instruction\n"
	      "  -q, --quiet            no monitor messages on stderr\n"
	      "  -h, --help             show this help\n\n"
	      "The terminal: when stdin is a terminal it is put in raw mode "
	      "while the guest\n"
	      "runs (no echo, no line editing; Ctrl-C goes to the guest) and "
	      "restored at exit.\n"
	      "Ctrl-A x ends the run (exit status 130), Ctrl-A Ctrl-A sends "
	      "one Ctrl-A,\n"
	      "Ctrl-A h lists these.  Input from a pipe or a file is passed "
	      "as it is.\n\n"
	      "Examples:\n"
	      "  trapeze run                           the toy kernel\n"
	      "  trapeze run --append=pv=off           the same, every "
	      "privileged operation\n"
	      "                                        trapped instead of "
	      "paravirtualized\n"
	      "  trapeze run --mem=128M --append='verbose' guest.elf\n"
	      "  trapeze run --drive file=fs.img,index=1 kernel\n", f);
}

void cli_trace_usage(FILE *f)
{
	fputs("Usage: trapeze trace [OPTIONS] [GUEST.elf]\n"
	      "Run a guest as `trapeze run` does and print one line per "
	      "event of the trap\n"
	      "path on stderr: sequence number or time, virtual mode, guest "
	      "RIP and symbol,\n"
	      "the instruction, the kind of event and what it did.  "
	      "With no GUEST.elf,\n"
	      "the built-in toy kernel.\n\n"
	      "Output:\n"
	      "  -o, --output=FILE      write the trace to FILE, not stderr\n"
	      "  -t                     prefix the time of day; -tt with "
	      "microseconds;\n"
	      "                         -ttt as seconds since the epoch\n"
	      "  -r                     prefix the time since the previous "
	      "event\n"
	      "  -T                     add the time spent in the monitor "
	      "<in us>\n"
	      "  -c, --summary-only     count events instead: a table at exit "
	      "per kind and\n"
	      "                         instruction, with monitor time, "
	      "sorted by time,\n"
	      "                         and traps a second (runs ahead, as "
	      "run does)\n"
	      "  -C, --summary          the events and the table\n"
	      "  -k, --stack-trace      the guest's call stack under each "
	      "event (libunwind\n"
	      "                         over guest memory, with the guest's "
	      ".eh_frame)\n"
	      "      --json             one JSON object per event (schema in "
	      "trapeze(1))\n\n"
	      "Filters (-e may be repeated; all must match):\n"
	      "  -e trace=KIND[,KIND...]  priv, patched, exception, interrupt, "
	      "syscall,\n"
	      "                         hypercall, ptwrite, shadow, scan, "
	      "mmio, or all\n"
	      "  -e insn=NAME[,NAME...] instructions by Capstone's mnemonic "
	      "(cli, out, iretq...)\n"
	      "  -e port=N[,N...]       in/out and string I/O to these ports\n\n"
	      "All options of `trapeze run` apply (--mem, --append, --cpu, "
	      "--timeout...).\n\n"
	      "Examples:\n"
	      "  trapeze trace guest-kit/examples/hello.elf\n"
	      "  trapeze trace -e port=0x3f8 -tt hello.elf\n"
	      "  trapeze trace -c --append=pv=off          the toy kernel's "
	      "traps, counted\n"
	      "  trapeze trace -k -e trace=exception -o trace.txt guest.elf\n",
	      f);
}

static int error(const char *fmt, const char *arg)
{
	fprintf(stderr, "trapeze: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return CLI_ERROR;
}

static int parse_mem(const char *arg, struct vm_options *opt)
{
	uint64_t v = parse_size(arg);

	if (!v)
		return error("--mem: '%s' is not a size (try 64M or 1G)", arg);
	if (v < MIN_MEM || v > MAX_MEM || v % (2ull << 20))
		return error("--mem: %s is not a multiple of 2 MiB between "
			     "4 MiB and 64 GiB", arg);
	opt->mem_size = v;
	return CLI_OK;
}

static int parse_timeout(const char *arg, struct vm_options *opt)
{
	char *end;
	double t = strtod(arg, &end);

	if (end == arg || *end || t <= 0 || t > 1e7)
		return error("--timeout: '%s' is not a positive number of "
			     "seconds", arg);
	opt->timeout = t;
	return CLI_OK;
}

/* One key=value of --drive into d; the value ends at a single comma
 * (",," is a comma in a file name, as QEMU spells it). */
static int drive_key(struct vm_drive *d, const char *key, const char *val,
		     long *index)
{
	char *end;

	if (!strcmp(key, "file")) {
		d->path = val;
	} else if (!strcmp(key, "index")) {
		*index = strtol(val, &end, 10);
		if (!*val || *end || *index < 0 || *index >= VM_DRIVES)
			return error("--drive: 'index=%s': the index is 0-3 "
				     "(primary master, primary slave, "
				     "secondary master, secondary slave)", val);
	} else if (!strcmp(key, "snapshot")) {
		if (strcmp(val, "on") && strcmp(val, "off"))
			return error("--drive: 'snapshot=%s': on or off", val);
		d->snapshot = !strcmp(val, "on");
	} else if (!strcmp(key, "format")) {
		if (strcmp(val, "raw"))
			return error("--drive: 'format=%s': only raw images "
				     "are supported", val);
	} else if (!strcmp(key, "media")) {
		if (strcmp(val, "disk"))
			return error("--drive: 'media=%s': only disks are "
				     "supported", val);
	} else if (!strcmp(key, "if")) {
		if (strcmp(val, "ide"))
			return error("--drive: 'if=%s': only ide is "
				     "supported", val);
	} else {
		return error("--drive: unknown key '%s' (keys: file, index, "
			     "snapshot, format, media, if)", key);
	}
	return CLI_OK;
}

/* --drive file=PATH,index=N,...: split at commas, each part key=value. */
static int parse_drive(const char *arg, struct vm_options *opt)
{
	struct vm_drive d = { NULL, false, NULL };
	char *copy = malloc(strlen(arg) + 1), *key = copy, *w;
	const char *r = arg;
	long index = -1;

	if (!copy)
		return error("--drive: %s", "out of memory");
	while (key) {
		char *val;

		for (w = key; *r && !(r[0] == ',' && r[1] != ','); r++)
			*w++ = (*r == ',') ? *r++ : *r;
		*w = 0;
		if (!(val = strchr(key, '=')))
			return error("--drive: '%s' is not key=value", key);
		*val++ = 0;
		if (drive_key(&d, key, val, &index))
			return CLI_ERROR;
		key = *r ? w + 1 : NULL;
		if (*r)
			r++;
	}
	if (!d.path || !*d.path)
		return error("--drive: '%s' names no file (file=PATH)", arg);
	if (index < 0)
		for (index = 0; index < VM_DRIVES && opt->drive[index].path;
		     index++)
			;
	if (index >= VM_DRIVES)
		return error("--drive: %s", "all four drive indexes (0-3) are "
			     "taken");
	if (opt->drive[index].path) {
		char n[4] = { (char)('0' + index), 0 };

		return error("--drive: index %s is given twice", n);
	}
	opt->drive[index] = d;
	return CLI_OK;
}

int cli_open_drives(struct vm_options *opt)
{
	char err[256];
	unsigned i;

	for (i = 0; i < VM_DRIVES; i++) {
		struct vm_drive *d = &opt->drive[i];

		if (!d->path)
			continue;
		d->disk = disk_open(d->path, d->snapshot, err, sizeof(err));
		if (!d->disk) {
			fprintf(stderr, "trapeze: --drive file=%s: %s\n",
				d->path, err);
			return CLI_ERROR;
		}
	}
	return CLI_OK;
}

static int parse_trace_opt(int c, const char *arg, struct trace_options *t)
{
	char err[256];

	switch (c) {
	case 'o':
		t->out_path = arg;
		return CLI_OK;
	case 't':
		if (t->timestamps < 3)
			t->timestamps++;
		return CLI_OK;
	case 'r':
		t->relative = true;
		return CLI_OK;
	case 'T':
		t->show_time = true;
		return CLI_OK;
	case 'c':
		t->summary = true;
		return CLI_OK;
	case 'C':
		t->summary = t->summary_too = true;
		return CLI_OK;
	case 'k':
		t->stack = true;
		return CLI_OK;
	case 'j':
		t->json = true;
		return CLI_OK;
	case 'e':
		if (trace_parse_filter(t, arg, err, sizeof(err)))
			return error("trace: %s", err);
		return CLI_OK;
	}
	return CLI_ERROR;
}

/* Options past the single letters: getopt_long returns these. */
enum { OPT_TIMEOUT = 256, OPT_NO_CACHE, OPT_NO_AHEAD, OPT_NO_BT, OPT_STATS,
       OPT_CPU, OPT_INITRD, OPT_DRIVE };

/* trace takes every option of run, and its own after them. */
#define RUN_OPTIONS \
		{ "mem", required_argument, NULL, 'm' }, \
		{ "append", required_argument, NULL, 'a' }, \
		{ "initrd", required_argument, NULL, OPT_INITRD }, \
		{ "drive", required_argument, NULL, OPT_DRIVE }, \
		{ "timeout", required_argument, NULL, OPT_TIMEOUT }, \
		{ "cpu", required_argument, NULL, OPT_CPU }, \
		{ "no-shadow-cache", no_argument, NULL, OPT_NO_CACHE }, \
		{ "no-run-ahead", no_argument, NULL, OPT_NO_AHEAD }, \
		{ "no-translate", no_argument, NULL, OPT_NO_BT }, \
		{ "quiet", no_argument, NULL, 'q' }, \
		{ "stats", no_argument, NULL, OPT_STATS }, \
		{ "help", no_argument, NULL, 'h' }
static const struct option run_opts[] = {
	RUN_OPTIONS,
	{ NULL, 0, NULL, 0 },
};
static const struct option trace_opts[] = {
	RUN_OPTIONS,
	{ "output", required_argument, NULL, 'o' },
	{ "summary-only", no_argument, NULL, 'c' },
	{ "summary", no_argument, NULL, 'C' },
	{ "stack-trace", no_argument, NULL, 'k' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};
#undef RUN_OPTIONS

/* parse_run_opt's answer for an option that is not one of run's. */
#define NOT_RUN_OPT (-1)

static int parse_append(const char *arg, struct vm_options *opt)
{
	if (strlen(arg) >= 2048)
		return error("--append: the command line is longer than %s "
			     "bytes", "2047");
	opt->append = arg;
	return CLI_OK;
}

static int parse_cpu(const char *arg, struct vm_options *opt)
{
	if (!strcmp(arg, "scan"))
		opt->exec = EXEC_SCAN;
	else if (!strcmp(arg, "trap"))
		opt->exec = EXEC_TRAP;
	else if (!strcmp(arg, "translate"))
		opt->exec = EXEC_TRANSLATE;
	else
		return error("--cpu: '%s' is not a mode (translate, scan or "
			     "trap)", arg);
	return CLI_OK;
}

/* An option run and trace share: CLI_OK or CLI_ERROR, or NOT_RUN_OPT
 * when c is none of them. */
static int parse_run_opt(int c, const char *arg, struct vm_options *opt)
{
	switch (c) {
	case 'm':
		return parse_mem(arg, opt);
	case 'a':
		return parse_append(arg, opt);
	case OPT_INITRD:
		opt->initrd = arg;
		return CLI_OK;
	case OPT_TIMEOUT:
		return parse_timeout(arg, opt);
	case OPT_CPU:
		return parse_cpu(arg, opt);
	case OPT_DRIVE:
		return parse_drive(arg, opt);
	case OPT_NO_CACHE:
		opt->shadow_cache = false;
		return CLI_OK;
	case OPT_NO_AHEAD:
		opt->run_ahead = false;
		return CLI_OK;
	case OPT_NO_BT:
		opt->translate = false;
		return CLI_OK;
	case 'q':
		opt->quiet = true;
		return CLI_OK;
	case OPT_STATS:
		opt->stats = true;
		return CLI_OK;
	}
	return NOT_RUN_OPT;
}

/* One option as getopt_long returned it: run's, trace's, --help, or a
 * mistake.  Anything but CLI_OK ends the parse. */
static enum cli_result parse_opt(int c, char **argv, struct vm_options *opt,
				 struct trace_options *topt)
{
	int r = parse_run_opt(c, optarg, opt);

	if (r != NOT_RUN_OPT)
		return r;
	switch (c) {
	case 'h':
		if (topt)
			cli_trace_usage(stdout);
		else
			cli_run_usage(stdout);
		return CLI_EXIT_OK;
	case ':':
		return error("option '%s' needs a value", argv[optind - 1]);
	case '?':
		return error(topt ? "unknown option '%s' (see trapeze "
				    "trace --help)"
				  : "unknown option '%s' (see trapeze "
				    "run --help)", argv[optind - 1]);
	}
	if (!topt || parse_trace_opt(c, optarg, topt))
		return CLI_ERROR;
	return CLI_OK;
}

static void set_defaults(struct vm_options *opt, struct trace_options *topt)
{
	memset(opt, 0, sizeof(*opt));
	opt->mem_size = DEFAULT_MEM;
	opt->shadow_cache = true;
	opt->run_ahead = true;
	opt->translate = true;
	opt->exec = EXEC_TRANSLATE;
	opt->console_in = 0;
	opt->console_out = 1;
	if (topt)
		memset(topt, 0, sizeof(*topt));
}

enum cli_result cli_parse_run(int argc, char **argv, struct vm_options *opt,
			      struct trace_options *topt)
{
	enum cli_result r;
	int c;

	set_defaults(opt, topt);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, topt ? "+:m:a:qho:trTcCke:"
						 : "+:m:a:qh",
				topt ? trace_opts : run_opts, NULL)) != -1) {
		r = parse_opt(c, argv, opt, topt);
		if (r != CLI_OK)
			return r;
	}
	/* What the options say only together, and the guest. */
	if (topt && topt->relative && topt->timestamps)
		return error("trace: %s", "-r and -t exclude each other");
	if (optind + 1 < argc)
		return error(topt ? "trace: unexpected argument '%s' after the "
				    "guest"
				  : "run: unexpected argument '%s' after the "
				    "guest", argv[optind + 1]);
	opt->guest_path = optind < argc ? argv[optind] : NULL;
	return CLI_OK;
}
