/*
 * The boot state (see trapeze/bootstate.h).  Plain C over integer
 * addresses, so that it compiles hosted in the monitor and freestanding
 * in a guest.
 */
#include "trapeze/bootstate.h"

static uint64_t *entry(uintptr_t ram, uint64_t gpa)
{
	return (uint64_t *)(ram + (uintptr_t)gpa);
}

static void zero(uintptr_t ram, uint64_t gpa, uint64_t len)
{
	volatile uint8_t *p = (volatile uint8_t *)(ram + (uintptr_t)gpa);

	while (len--)
		*p++ = 0;
}

/*
 * The identity map of guest RAM: 2 MiB pages, except the first 2 MiB,
 * mapped with 4 KiB pages so that page 0 can stay absent (a host process
 * cannot map address 0).  Supervisor-only, writable; no NX bit, because
 * EFER.NXE starts clear.  Returns the end of the tables.
 */
static uint64_t build_identity_map(uintptr_t ram, uint64_t ram_size)
{
	uint64_t pml4 = TRAPEZE_BOOT_PT_GPA, pdpt = pml4 + 4096;
	uint64_t npd = (ram_size + (1ull << 30) - 1) >> 30;
	uint64_t pd = pdpt + 4096, pt = pd + npd * 4096, a, i;

	zero(ram, pml4, pt + 4096 - pml4);
	*entry(ram, pml4) = pdpt | 3;
	for (i = 0; i < npd; i++)
		*entry(ram, pdpt + 8 * i) = (pd + i * 4096) | 3;
	for (a = 0; a < ram_size; a += 1ull << 21)
		*entry(ram, pd + (a >> 21) * 8) = a ? a | 0x83 : pt | 3;
	for (i = 1; i < 512; i++)
		*entry(ram, pt + 8 * i) = (i << 12) | 3;
	return pt + 4096;
}

void trapeze_build_boot_state(uintptr_t ram, uint64_t ram_size,
			      const char *cmdline)
{
	struct trapeze_boot_info *bi =
		(struct trapeze_boot_info *)(ram + TRAPEZE_BOOT_INFO_GPA);
	char *cl = (char *)(ram + TRAPEZE_CMDLINE_GPA);
	uint64_t *gdt = entry(ram, TRAPEZE_BOOT_GDT_GPA);
	unsigned i;

	zero(ram, TRAPEZE_BOOT_INFO_GPA, sizeof(*bi));
	for (i = 0; cmdline && cmdline[i] && i < TRAPEZE_CMDLINE_MAX - 1; i++)
		cl[i] = cmdline[i];
	cl[i] = 0;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull;   /* 0x08: 64-bit code, DPL 0 */
	gdt[2] = 0x00cf93000000ffffull;   /* 0x10: flat data, DPL 0 */
	bi->magic = TRAPEZE_BOOT_MAGIC;
	bi->version = TRAPEZE_ABI_VERSION;
	bi->ram_size = ram_size;
	bi->cmdline = TRAPEZE_CMDLINE_GPA;
	bi->pt_start = TRAPEZE_BOOT_PT_GPA;
	bi->pt_end = build_identity_map(ram, ram_size);
}
