/*
 * The translator's benchmark guest: one operation, 16 times in each
 * iteration of a loop run at CPL 0, and the TSC cycles an iteration
 * takes.  Under --cpu=translate the loop runs from the code cache, so
 * the figure is what the translated form of the operation costs.
 * Command line: "OP COUNT", OP one of nop (the empty loop), cli, sti,
 * pushf, popf, movcs, callret, jmpind, out.
 */
#include "trapeze/guest.h"

#define X16(s) s s s s s s s s s s s s s s s s

/* A function that only returns, for callret. */
void bench_return(void);
__asm__(".text\n.globl bench_return\nbench_return:\n\tret\n");

static int is(const char *cmd, const char *op)
{
	size_t n = strlen(op);

	return !memcmp(cmd, op, n) && cmd[n] == ' ';
}

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	const char *sp = cmd;
	unsigned long n, i, flags;
	uint64_t t0, t1;

	while (*sp && *sp != ' ')
		sp++;
	if (!*sp) {
		printf("usage: OP COUNT\n");
		return 1;
	}
	n = strtoul(sp, NULL, 10);
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	t0 = rdtsc();
	if (is(cmd, "cli"))
		for (i = 0; i < n; i++)
			__asm__ volatile(X16("cli\n\t"));
	else if (is(cmd, "sti"))
		for (i = 0; i < n; i++)
			__asm__ volatile(X16("sti\n\t"));
	else if (is(cmd, "pushf"))
		for (i = 0; i < n; i++)
			__asm__ volatile(X16("pushfq; popq %%rax\n\t") : : : "rax");
	else if (is(cmd, "popf"))
		for (i = 0; i < n; i++)
			__asm__ volatile(X16("pushq %0; popfq\n\t") : : "r"(flags)
					 : "cc");
	else if (is(cmd, "movcs"))
		for (i = 0; i < n; i++)
			__asm__ volatile(X16("movl %%cs, %%eax\n\t") : : : "rax");
	else if (is(cmd, "callret"))
		for (i = 0; i < n; i++)
			__asm__ volatile(X16("call bench_return\n\t")
					 : : : "memory");
	else if (is(cmd, "jmpind"))
		for (i = 0; i < n; i++)
			__asm__ volatile(X16("leaq 1f(%%rip), %%rax; "
					     "jmp *%%rax; 1:\n\t") : : : "rax");
	else if (is(cmd, "out"))
		for (i = 0; i < n; i++)
			__asm__ volatile(X16("outb %%al, $0x80\n\t") : : "a"(0));
	else if (is(cmd, "nop"))
		for (i = 0; i < n; i++)
			__asm__ volatile("");
	else {
		printf("unknown operation: %s\n", cmd);
		return 1;
	}
	t1 = rdtsc();
	printf("%.*s %lu iterations: %llu cycles each, tsc %llu kHz\n",
	       (int)(sp - cmd), cmd, n,
	       (unsigned long long)((t1 - t0) / (n ? n : 1)),
	       (unsigned long long)bi->tsc_khz);
	return 0;
}
