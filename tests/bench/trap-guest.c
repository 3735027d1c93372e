/*
 * The benchmark guest: runs one trapping operation in a loop and prints
 * the TSC cycles per iteration.  rdtsc itself runs natively (it does not
 * trap), so the loop measures only what it is asked to.
 * Command line: "OP COUNT" with OP one of cli, out, nop.
 */
#include "trapeze/guest.h"

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	unsigned long n, i;
	uint64_t t0, t1;

	if (!strcmp(cmd, "") || strlen(cmd) < 4) {
		printf("usage: OP COUNT\n");
		return 1;
	}
	n = strtoul(cmd + 3, NULL, 10);
	t0 = rdtsc();
	if (!memcmp(cmd, "cli", 3))
		for (i = 0; i < n; i++)
			__asm__ volatile("cli");
	else if (!memcmp(cmd, "out", 3))
		for (i = 0; i < n; i++)
			outb(0x80, 0);
	else
		for (i = 0; i < n; i++)
			__asm__ volatile("nop");
	t1 = rdtsc();
	printf("%.3s %lu iterations: %llu cycles each, tsc %llu kHz\n", cmd, n,
	       (unsigned long long)((t1 - t0) / (n ? n : 1)),
	       (unsigned long long)bi->tsc_khz);
	return 0;
}
