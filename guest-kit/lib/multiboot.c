/*
 * After a multiboot loader: build the Trapeze boot state (the same boot
 * info, GDT, identity map and registers the monitor gives) and enter the
 * guest at _start, so the guest cannot tell which of the two booted it,
 * except by asking for hypercalls (features is 0 here).
 *
 * Two things the firmware leaves that Trapeze does not give are put
 * right: the PICs are masked (the BIOS routes its timer to vector 8 with
 * IRQ 0 open; a guest that sets IF before it programs them would take
 * that as a double fault), and the TSC's rate, which Trapeze takes from
 * the host, is measured against PIT channel 2.
 */
#include "trapeze/bootstate.h"
#include "trapeze/guest.h"
#include "trapeze/multiboot.h"

void _start(void);
void mb_enter(uint64_t entry) __attribute__((noreturn));
void multiboot_boot(uint32_t info) __attribute__((noreturn));

extern char __image_start[], __image_end[];

/* Ten milliseconds of PIT channel 2 (mode 0: OUT2, bit 5 of port 0x61,
 * rises at the terminal count), in TSC cycles; 0 if it never ends. */
static uint64_t tsc_khz_from_pit(void)
{
	const unsigned count = TRAPEZE_PIT_HZ / 100;
	uint64_t t0, i;

	outb(0x61, (inb(0x61) & ~0x02) | 0x01);     /* gate on, speaker off */
	outb(0x43, 0xb0);                           /* ch 2, lo/hi, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	t0 = rdtsc();
	for (i = 0; i < 100000000 && !(inb(0x61) & 0x20); i++)
		;
	return inb(0x61) & 0x20 ? (rdtsc() - t0) / 10 : 0;
}

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
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	trapeze_build_boot_state(0, ram, cmdline);
	bi = (struct trapeze_boot_info *)(uintptr_t)TRAPEZE_BOOT_INFO_GPA;
	bi->tsc_khz = tsc_khz_from_pit();
	bi->image_start = (uintptr_t)__image_start;
	bi->image_end = (uintptr_t)__image_end;
	mb_enter((uintptr_t)_start);
}
