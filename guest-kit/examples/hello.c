/*
 * hello: the smallest guest.  It prints a greeting and what the monitor
 * told it at boot, reads CR0 (a privileged instruction: under Trapeze it
 * traps and the monitor answers), and exits with status 0.
 */
#include "trapeze/guest.h"

int guest_main(const struct trapeze_boot_info *bi)
{
	printf("Hello from a guest kernel running at user mode in an "
	       "ordinary process!\n");
	if (bi && bi->magic == TRAPEZE_BOOT_MAGIC)
		printf("boot info: ABI v%u, %llu MiB of RAM, command line "
		       "\"%s\"\n", bi->version,
		       (unsigned long long)(bi->ram_size >> 20),
		       (const char *)(uintptr_t)bi->cmdline);
	printf("mov %%cr0 says CR0 = 0x%llx (paging %s)\n",
	       (unsigned long long)read_cr0(),
	       (read_cr0() & (1u << 31)) ? "on" : "off");
	return 0;
}
