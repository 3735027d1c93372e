/*
 * The program table: the kernel starts every process at ustart with a
 * program number (uapi.h), and this runs that program.
 */
#include "ulib.h"

void user_main(int prog) __attribute__((noreturn));

static int (*const programs[PROG_COUNT])(void) = {
	[PROG_INIT] = init_main,
	[PROG_HELLO] = hello_main,
	[PROG_SIEVE] = sieve_main,
	[PROG_MEMORY] = memory_main,
	[PROG_SLEEPER] = sleeper_main,
	[PROG_CLI] = cli_main,
	[PROG_PEEK] = peek_main,
	[PROG_DIVZERO] = divzero_main,
	[PROG_OPS] = ops_main,
	[PROG_YIELDER] = yielder_main,
	[PROG_TRUE] = true_main,
};

void user_main(int prog)
{
	exit(prog >= 0 && prog < PROG_COUNT ? programs[prog]() : -1);
}
