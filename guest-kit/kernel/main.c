/*
 * The toy kernel: boot.  Both entries end here, in guest_main(): Trapeze's
 * through its ELF note, QEMU's through guest-kit's multiboot code, which
 * builds the same boot state first.  The one difference the kernel looks
 * for is the hypercall feature; with it, and without "pv=off" on the
 * command line, it runs paravirtualized (pvops.h).
 *
 * Then: descriptor tables, system calls, memory, the timer, and init
 * (pid 1), which runs the other programs.  The kernel ends when init
 * does, with init's exit status.  "verbose" on the command line adds
 * diagnostics that depend on the machine and on timing, "times" one line
 * at the end on where the CPU's time went; "init=PROGRAM"
 * runs that built-in program as pid 1 instead (init=sieve times the sieve
 * alone, init=ops the kernel's operations, for make bench).
 */
#include "kernel.h"

const struct pv_ops *pv = &pv_native;

/* init=NAME on the command line: the program to run as pid 1. */
static int first_program(const char *cmdline)
{
	static const char *const names[] = { PROG_NAMES };
	char word[32] = "init=";
	int i;

	_Static_assert(sizeof(names) / sizeof(names[0]) == PROG_COUNT,
		       "PROG_NAMES names every program");
	for (i = 0; i < PROG_COUNT; i++) {
		size_t n = strlen(names[i]) + 1;

		if (n > sizeof(word) - 5)
			panic("program name %s is too long", names[i]);
		memcpy(word + 5, names[i], n);
		if (cmdline_has(cmdline, word))
			return i;
	}
	return PROG_INIT;
}

static void choose_pv_ops(const struct trapeze_boot_info *bi,
			  const char *cmdline)
{
	long r;

	if (!(bi->features & TRAPEZE_FEAT_HYPERCALL) ||
	    cmdline_has(cmdline, "pv=off")) {
		uart_init();
		return;
	}
	r = pv_trapeze_init();
	if (r < 0) {
		uart_init();
		panic("pv: the monitor refused the paravirtual interface "
		      "(error %ld); boot with pv=off", r);
	}
	pv = &pv_trapeze;
}

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmdline = (const char *)(uintptr_t)bi->cmdline;
	int r;

	cpu_time_init(bi->tsc_khz, cmdline_has(cmdline, "times"));
	verbose = cmdline_has(cmdline, "verbose");
	choose_pv_ops(bi, cmdline);
	gdt_init();
	trap_init();
	syscall_init();
	kalloc_init(bi->image_end, bi->ram_size, pv == &pv_trapeze &&
		    (bi->features & TRAPEZE_FEAT_ZERO_RAM));
	vm_init(bi->ram_size);
	vprint("kernel: pv ops %s, %llu MiB of RAM, %llu pages free, tsc "
	       "%llu kHz\n", pv->name, (unsigned long long)(bi->ram_size >> 20),
	       (unsigned long long)kalloc_free_count(),
	       (unsigned long long)bi->tsc_khz);
	kprintf("toy kernel: %d built-in programs, round robin at %d Hz\n",
		PROG_COUNT, TIMER_HZ);
	r = pv->timer_start(TIMER_HZ, TIMER_VECTOR);
	if (r < 0)
		panic("timer: %d", r);
	tick_init(bi->tsc_khz);
	if (proc_spawn(first_program(cmdline), NULL) != 1)
		panic("cannot start init");
	scheduler();
}
