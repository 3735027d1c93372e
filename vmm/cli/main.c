/*
 * trapeze: the command-line entry point.  Parses the command, builds the
 * VM, and hands it to a backend that runs it until it exits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/options.h"
#include "config.h"
#include "cli/demo.h"
#include "cli/embedded.h"
#include "trace/trace.h"
#include "core/vm.h"

/* `run` and `trace`: the same guest, the same options, and for trace the
 * tracer, set up before the guest starts so that a bad option stops here. */
static int cmd_run(int argc, char **argv, bool trace)
{
	static struct vm vm;
	struct vm_options opt;
	struct trace_options topt;
	struct vm_host host;
	char err[512], builtin[64];

	switch (cli_parse_run(argc, argv, &opt, trace ? &topt : NULL)) {
	case CLI_EXIT_OK:
		return 0;
	case CLI_ERROR:
		return EXIT_USAGE;
	case CLI_OK:
		break;
	}
	if (cli_open_drives(&opt))
		return EXIT_USAGE;
	if (!opt.guest_path) {
		if (embedded_path(EMBEDDED_KERNEL, builtin, sizeof(builtin))) {
			fprintf(stderr, "trapeze: cannot hold the built-in "
				"kernel: %s\n", strerror(errno));
			return EXIT_INTERNAL;
		}
		opt.guest_path = builtin;
	}
	host = backend_signal_memory(&vm);
	if (vm_create(&vm, &opt, &host, err, sizeof(err))) {
		fprintf(stderr, "trapeze: %s: %s\n", opt.guest_path == builtin
			? "the built-in kernel" : opt.guest_path, err);
		return EXIT_USAGE;
	}
	if (trace && !trace_create(&vm, &topt, opt.guest_path, err,
				   sizeof(err))) {
		fprintf(stderr, "trapeze: trace: %s\n", err);
		return EXIT_USAGE;
	}
	return backend_signal_run(&vm);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		cli_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s\n", PACKAGE_STRING);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1, false);
	if (!strcmp(argv[1], "trace"))
		return cmd_run(argc - 1, argv + 1, true);
	if (!strcmp(argv[1], "demo"))
		return cmd_demo(argc - 1, argv + 1);
	fprintf(stderr, "trapeze: unknown command '%s' (try trapeze --help)\n",
		argv[1]);
	return EXIT_USAGE;
}
