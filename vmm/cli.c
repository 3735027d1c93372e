/*
 * Option parsing with getopt_long.  Every mistake a user can make gets one
 * line naming it and exit status 2, before any guest starts.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loader.h"

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
	      "  run GUEST.elf   boot a guest and run it until it exits\n"
	      "  demo popek-goldberg\n"
	      "                  x86's sensitive instructions that do not "
	      "trap, side by side\n"
	      "                  with what real CPL-0 hardware does\n\n"
	      "  -h, --help      show this help; `trapeze run --help` for "
	      "the options of run\n"
	      "  -V, --version   show the version\n\n"
	      "Exit status: the guest's own through isa-debug-exit "
	      "((v << 1) | 1, odd),\n"
	      "0 when it halts for good, 2 for a usage or image error, 4 "
	      "when the guest\n"
	      "crashes (triple fault), 124 on --timeout, 126 on an internal "
	      "error, 130 on Ctrl-C.\n", f);
}

void cli_run_usage(FILE *f)
{
	fputs("Usage: trapeze run [OPTIONS] GUEST.elf\n"
	      "Boot GUEST.elf, a static ELF64 x86-64 image "
	      "(docs/guest-abi.md) or a\n"
	      "multiboot kernel (ELF32, ELF64 or flat with address fields), "
	      "and run it.\n"
	      "Its COM1 serial port is this terminal: output to stdout, "
	      "input from stdin.\n\n"
	      "  -m, --mem=SIZE         guest RAM: 64M (default), 1G...; a "
	      "multiple of 2 MiB\n"
	      "                         from 4 MiB to 64 GiB\n"
	      "  -a, --append=STRING    the guest's command line (in its "
	      "boot info)\n"
	      "      --initrd=FILE      a multiboot kernel's module 0\n"
	      "      --cpu=MODE         scan (default): patch the sensitive "
	      "instructions that\n"
	      "                         do not trap before they run; trap: "
	      "pure trap-and-emulate,\n"
	      "                         where they run natively and leak the "
	      "host's state\n"
	      "      --timeout=SECONDS  stop the guest after SECONDS "
	      "(exit status 124)\n"
	      "      --no-shadow-cache  rebuild the shadow page tables on "
	      "every cr3 switch\n"
	      "      --stats            at exit, count the traps by kind and "
	      "instruction\n"
	      "  -q, --quiet            no monitor messages on stderr\n"
	      "  -h, --help             show this help\n\n"
	      "Example:\n"
	      "  trapeze run --mem=128M --append='verbose' guest.elf\n", f);
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

enum cli_result cli_parse_run(int argc, char **argv, struct vm_options *opt)
{
	enum { OPT_TIMEOUT = 256, OPT_NO_CACHE, OPT_STATS, OPT_CPU,
	       OPT_INITRD };
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "append", required_argument, NULL, 'a' },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "no-shadow-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(opt, 0, sizeof(*opt));
	opt->mem_size = DEFAULT_MEM;
	opt->shadow_cache = true;
	opt->exec = EXEC_SCAN;
	opt->console_in = 0;
	opt->console_out = 1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+m:a:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_mem(optarg, opt))
				return CLI_ERROR;
			break;
		case 'a':
			if (strlen(optarg) >= 2048)
				return error("--append: the command line is "
					     "longer than %s bytes", "2047");
			opt->append = optarg;
			break;
		case OPT_INITRD:
			opt->initrd = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, opt))
				return CLI_ERROR;
			break;
		case OPT_CPU:
			if (!strcmp(optarg, "scan"))
				opt->exec = EXEC_SCAN;
			else if (!strcmp(optarg, "trap"))
				opt->exec = EXEC_TRAP;
			else
				return error("--cpu: '%s' is not a mode (trap or "
					     "scan)", optarg);
			break;
		case OPT_NO_CACHE:
			opt->shadow_cache = false;
			break;
		case 'q':
			opt->quiet = true;
			break;
		case OPT_STATS:
			opt->stats = true;
			break;
		case 'h':
			cli_run_usage(stdout);
			return CLI_EXIT_OK;
		case ':':
			return error("option '%s' needs a value",
				     argv[optind - 1]);
		default:
			return error("unknown option '%s' (see trapeze run "
				     "--help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return error("%s", "run: no guest given (usage: trapeze run "
			     "[OPTIONS] GUEST.elf)");
	if (optind + 1 < argc)
		return error("run: unexpected argument '%s' after the guest",
			     argv[optind + 1]);
	opt->guest_path = argv[optind];
	return CLI_OK;
}
