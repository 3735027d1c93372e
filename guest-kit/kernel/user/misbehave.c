/*
 * Three programs that do what user mode may not, each to be killed by the
 * kernel while the others go on.  If one ever returns, it exits 0, which
 * init reports as a failure.
 */
#include "ulib.h"

#define KERNEL_IMAGE 0x100000    /* identity-mapped, supervisor-only */

/* IOPL is 0: cli at CPL 3 is a general protection fault. */
int cli_main(void)
{
	__asm__ volatile("cli");
	return 0;
}

/* The kernel's own memory is mapped, but not for CPL 3: a page fault
 * with the present bit set in the error code, not demand-zero. */
int peek_main(void)
{
	return *(volatile int *)KERNEL_IMAGE != 0;
}

/* In assembly: the compiler may not divide by a zero it can see. */
int divzero_main(void)
{
	unsigned q;

	__asm__ volatile("divl %2" : "=a"(q) : "a"(1), "r"(0), "d"(0));
	return (int)q & 0;
}
