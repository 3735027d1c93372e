/*
 * After a multiboot loader: build the Trapeze boot state (the same boot
 * info, GDT, identity map and registers the monitor gives) and enter the
 * guest at _start, so the guest cannot tell which of the two booted it,
 * except by asking for hypercalls (features is 0 here).
 */
#include "trapeze/bootstate.h"
#include "trapeze/guest.h"
#include "trapeze/multiboot.h"

void _start(void);
void mb_enter(uint64_t entry) __attribute__((noreturn));
void multiboot_boot(uint32_t info) __attribute__((noreturn));

extern char __image_start[], __image_end[];

void multiboot_boot(uint32_t info)
{
	const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)info;
	static char cmdline[TRAPEZE_CMDLINE_MAX];
	uint64_t ram = 64ull << 20;
	struct trapeze_boot_info *bi;
	unsigned i;

	/* Copy what we need out of the loader's data before the boot state
	 * may overwrite it. */
	/* Loaders count RAM above 1 MiB minus what firmware reserves at its
	 * top; the boot map covers whole 2 MiB pages, so round up. */
	if (mbi->flags & MB_INFO_MEMORY)
		ram = ((uint64_t)mbi->mem_upper << 10) + (1ull << 20);
	ram = (ram + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	if (ram > (1ull << 30))
		ram = 1ull << 30;    /* the throw-away map covers 1 GiB */
	/* The first word of a multiboot command line is the kernel's own
	 * name (QEMU and GRUB put it there): the guest's arguments follow. */
	if (mbi->flags & MB_INFO_CMDLINE) {
		const char *s = (const char *)(uintptr_t)mbi->cmdline;

		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
		for (i = 0; s[i] && i < sizeof(cmdline) - 1; i++)
			cmdline[i] = s[i];
		cmdline[i] = 0;
	}
	trapeze_build_boot_state(0, ram, cmdline);
	bi = (struct trapeze_boot_info *)(uintptr_t)TRAPEZE_BOOT_INFO_GPA;
	bi->image_start = (uintptr_t)__image_start;
	bi->image_end = (uintptr_t)__image_end;
	mb_enter((uintptr_t)_start);
}
