/*
 * Building the virtual machine: the vCPU's feature masks, its devices
 * wired to the interrupt controllers, the firmware tables, and the boot
 * of a loaded image (the trap path is run.c).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trapeze/abi.h"

#include "core/hypercall.h"

#include "engine/ahead.h"
#include "engine/bt.h"
#include "engine/translate.h"
#include "engine/upper.h"
#include "cpu/decode.h"
#include "dev/acpi.h"
#include "dev/debug-exit.h"
#include "dev/fwcfg.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "dev/crtc.h"
#include "dev/i8042.h"
#include "dev/ide.h"
#include "dev/pic.h"
#include "dev/pit.h"
#include "dev/rtc.h"
#include "dev/testdev.h"
#include "dev/uart.h"
#include "core/loader.h"
#include "core/memory.h"
#include "core/multiboot.h"
#include "core/mptable.h"
#include "core/report.h"
#include "engine/scan.h"
#include "host/terminal.h"
#include "core/vm.h"

/* CR4 bits this vCPU implements: what the host CPU has, minus what a
 * process cannot give a guest (VMX, SMX, protection keys, LA57). */
static uint64_t cr4_valid_bits(void)
{
	uint32_t r[4];
	uint64_t bits = CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |
			CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_TSD | CR4_DE |
			CR4_UMIP;

	hostcpu_cpuid(1, 0, r);
	if (r[2] & (1u << 26))
		bits |= CR4_OSXSAVE;
	if (r[2] & (1u << 17))
		bits |= CR4_PCIDE;
	hostcpu_cpuid(7, 0, r);
	if (r[1] & (1u << 0))
		bits |= CR4_FSGSBASE;
	if (r[1] & (1u << 7))
		bits |= CR4_SMEP;
	if (r[1] & (1u << 20))
		bits |= CR4_SMAP;
	return bits;
}

static uint64_t host_xcr0(void)
{
	uint32_t r[4], lo, hi;

	hostcpu_cpuid(1, 0, r);
	if (!(r[2] & (1u << 27)))   /* OSXSAVE */
		return 1;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t lapic_tsc(void *opaque)
{
	return vcpu_tsc(opaque);
}

/* The APICs' pages must lie outside RAM: above 3.5 GiB of RAM they
 * would hide it (a PC has a hole there; this RAM is one block). */
static bool vm_apics_fit(const struct vm *vm)
{
	return vm->ram_size <= 0xe0000000ull;
}

/* What the user types on a terminal in raw mode: Ctrl-A escapes are the
 * monitor's, the rest the guest's.  Ctrl-A x ends the run as Ctrl-C did
 * before the terminal was raw. */
static size_t console_input(void *opaque, uint8_t *buf, size_t n)
{
	struct vm *vm = opaque;
	enum terminal_action act;

	if (!terminal_is_raw())
		return n;
	n = terminal_escapes(&vm->escape_armed, buf, n, &act);
	if (act == TERM_HELP &&
	    write(2, TERMINAL_HELP, sizeof(TERMINAL_HELP) - 1) < 0)
		act = TERM_NONE;
	if (act == TERM_QUIT)
		vm_request(vm, VM_STOP_QUIT);
	return n;
}

/* The guest pulsed the CPU's reset line through the 8042.  A PC would
 * reboot; Trapeze ends the run, as QEMU does with -no-reboot. */
/* The guest set SLP_EN: no sleep state is modelled and nothing could
 * wake the machine from one, so the run ends, as at a halt for good. */
static void guest_sleep(void *opaque, unsigned slp_typ)
{
	struct vm *vm = opaque;

	uart_flush(vm->pc.com1);
	if (!vm->opt.quiet)
		fprintf(stderr, "trapeze: the guest put the machine in ACPI "
			"sleep (SLP_TYP %u); sleep states are not modelled "
			"(waking starts the CPU in real mode, which cannot run "
			"natively): ending the run\n", slp_typ);
	vm_exit(vm, EXIT_HALTED);
}

/* The guest wrote its status to isa-debug-exit. */
static void guest_exit(void *opaque, int status)
{
	vm_exit(opaque, status);
}

static void guest_reset(void *opaque)
{
	struct vm *vm = opaque;

	uart_flush(vm->pc.com1);
	if (!vm->opt.quiet)
		fprintf(stderr, "trapeze: the guest reset the machine (8042 "
			"keyboard controller); ending the run\n");
	vm_exit(vm, EXIT_HALTED);
}

/*
 * The PC, device by device: each init creates its device and plugs it
 * into the buses and lines of vm->pc (dev/pc.h).  The order matters only
 * where one device needs another: the 8259s and the local APIC before
 * the I/O APIC, which routes to them.
 */
static const struct {
	const char *name;
	pc_device_init init;
} pc_devices[] = {
	{ "the 8259 PICs", pic__init },
	{ "the local APIC", lapic__init },
	{ "the I/O APIC", ioapic__init },
	{ "the 8254 PIT", pit__init },
	{ "COM1", uart__init },
	{ "isa-debug-exit", debug_exit__init },
	{ "fw_cfg", fwcfg__init },
	{ "the ACPI PM registers", acpi_pm__init },
	{ "pc-testdev", testdev__init },
	{ "the IDE controller", ide__init },
	{ "the 8042 keyboard controller", i8042__init },
	{ "the CGA CRT controller", crtc__init },
	{ "the CMOS clock", rtc__init },
};

/* What the board tells its devices, then each device's init. */
static int setup_devices(struct vm *vm, char *err, size_t errlen)
{
	struct pc *pc = &vm->pc;
	unsigned i;

	pc->timers = &vm->timers;
	pc->ram_size = vm->ram_size;
	pc->apics = vm_apics_fit(vm);
	pc->tsc_khz = vm->host.tsc_khz;
	pc->tsc = lapic_tsc;
	pc->tsc_ctx = &vm->cpu;
	pc->console_in = vm->opt.console_in;
	pc->console_out = vm->opt.console_out;
	pc->console_filter = console_input;
	pc->console_ctx = vm;
	for (i = 0; i < VM_DRIVES; i++)
		pc->drive[i] = vm->opt.drive[i].disk;
	pc->exit = guest_exit;
	pc->reset = guest_reset;
	pc->sleep = guest_sleep;
	pc->power_ctx = vm;
	for (i = 0; i < sizeof(pc_devices) / sizeof(pc_devices[0]); i++)
		if (pc_devices[i].init(pc)) {
			snprintf(err, errlen, "out of memory setting up %s",
				 pc_devices[i].name);
			return -1;
		}
	return 0;
}

static __attribute__((noreturn)) void crash(void *ctx, const char *fmt,
					  va_list ap)
{
	vm_crashv(ctx, fmt, ap);
}

/* The CPU's wires: its memory, buses, APIC and clock, and the hooks by
 * which it tells the core what only the core can do. */
static void wire_cpu(struct vm *vm, bool arm_debugregs)
{
	struct vcpu *v = &vm->cpu;
	unsigned i;

	v->mem.ram = vm->ram;
	v->mem.ram_size = vm->ram_size;
	v->mem.mmu = vm->mmu;
	v->mem.mmio = &vm->pc.mmio;
	v->mem.window_lo = vm->window_lo;
	v->mem.window_hi = vm->window_hi;
	v->io = &vm->pc.io;
	v->lapic = vm->pc.lapic;
	v->pic = vm->pc.pic;
	v->timers = &vm->timers;
	v->host = &vm->host;
	v->cr4_valid = cr4_valid_bits();
	v->xcr0_valid = host_xcr0();
	v->hooks.hypercall = hypercall;
	v->hooks.crash = crash;
	v->hooks.ctx = vm;
	/* (Unit tests' guests are not run natively: nothing to arm.) */
	v->dbg.arm = arm_debugregs;
	for (i = 0; i < 4; i++)
		v->dbg.fd[i] = -1;
}

/* The guest's window: from the host's lowest mappable page (page 0
 * never is) up to the guest ABI's limit, reserved through host. */
static int reserve_window(struct vm *vm, const struct vm_host *host,
			  char *err, size_t errlen)
{
	uint64_t lo = (vm->host.mmap_min_addr + 4095) & ~4095ull;

	vm->window_lo = 0x10000;
	vm->window_hi = TRAPEZE_GVA_LIMIT;
	if (!host->reserve)
		return 0;
	if (host->reserve(host->ops.ctx, lo, TRAPEZE_GVA_LIMIT, err, errlen))
		return -1;
	vm->window_lo = lo;
	return 0;
}

/* Records for every 4 KiB page of RAM mapped once, and as many again
 * for aliases and 2 MiB pages: a guest that maps its RAM page by page
 * (kvm-unit-tests' vmalloc, a kernel's heap) does not go round the pool,
 * dropping everything each time it is full. */
static unsigned shadow_mappings_for(uint64_t ram_size)
{
	uint64_t n = ram_size / 4096 + 16384;

	return n > (1u << 20) ? 1u << 20 : (unsigned)n;
}

int vm_init(struct vm *vm, const struct vm_options *opt,
	    const struct vm_host *host, char *err, size_t errlen)
{
	struct shadow_config cfg;

	memset(vm, 0, sizeof(*vm));
	vm->opt = *opt;
	hostcpu_detect(&vm->host);
	if (vm->host.tsc_clock && vm->host.tsc_khz)
		timer_use_tsc(vm->host.tsc_khz);
	emulate_init();
	ahead_init();
	if (pipe2(vm->wake_fd, O_NONBLOCK | O_CLOEXEC)) {
		snprintf(err, errlen, "cannot make a pipe: %s",
			 strerror(errno));
		return -1;
	}
	if (reserve_window(vm, host, err, errlen) ||
	    memory_create_ram(vm, opt->mem_size, err, errlen))
		return -1;
	/* The translator's rewritten accesses reach the upper half through
	 * aliases, which the shadow MMU maps like the window. */
	if (opt->exec == EXEC_TRANSLATE && host->native)
		vm->upper = hostcpu_has_bmi2(&vm->host)
				    ? upper_create(&host->ops, &vm->upper_off_why)
				    : NULL;
	if (opt->exec == EXEC_TRANSLATE && host->native && !vm->upper &&
	    !vm->upper_off_why)
		vm->upper_off_why = "the host CPU has no BMI2 (rorx)";
	cfg = (struct shadow_config){
		.ram = vm->ram, .ram_size = vm->ram_size,
		.gva_limit = vm->window_hi, .gva_floor = vm->window_lo,
		.upper = vm->upper != NULL,
		.maxphyaddr = vm->host.maxphyaddr,
		.ops = vm->upper ? upper_ops(vm->upper) : host->ops,
		.cache = opt->shadow_cache,
		.max_mappings = shadow_mappings_for(vm->ram_size),
	};
	vm->mmu = shadow_create(&cfg);
	vm->cpu.dec = decoder_create();
	if (!vm->mmu || !vm->cpu.dec)
		goto out_of_memory;
	if (setup_devices(vm, err, errlen))
		return -1;
	wire_cpu(vm, host->native);
	irq_init(&vm->cpu);
	/* The engines that run the guest's kernel code.  The translator
	 * needs a native guest and a host that can run its trampoline;
	 * without, the scanner does the work. */
	if (opt->exec == EXEC_TRANSLATE && host->native &&
	    !(vm->tr = tc_create(&vm->cpu, host->callout, &vm->tc_off_why)))
		vm->opt.exec = EXEC_SCAN;
	if (vm->tr && vm->upper)
		tc_set_upper(vm->tr, upper_table(vm->upper));
	if (vm->opt.exec == EXEC_SCAN &&
	    (!(vm->scan = scan_create(&vm->cpu, 8192, 65536)) ||
	     !(vm->ahead = ahead_create(&vm->cpu, vm->scan))))
		goto out_of_memory;
	/* (With the translator, the older cache only bounces device
	 * accesses the emulator does not know.) */
	if (host->native)
		vm->bt = bt_create(&vm->cpu, vm->scan, &host->ops,
				   opt->translate && !vm->tr, &vm->bt_off_why);
	return 0;
out_of_memory:
	snprintf(err, errlen, "out of memory setting up the VM");
	return -1;
}

/* The tables a PC's firmware leaves in low memory, for kernels written
 * for PCs (xv6 finds its CPU and I/O APIC in the MP tables).  They sit
 * in RAM no guest-kit guest uses (docs/guest-abi.md), so every guest
 * gets them.  The APIC addresses and the I/O APIC's id are the PC's. */
static void bios_tables(struct vm *vm)
{
	struct mptable_config mp = {
		.lapic_addr = 0xfee00000u, .ioapic_addr = 0xfec00000u,
		.ioapic_id = 0,   /* the I/O APIC's ID register after reset */
	};
	uint32_t r[4];
	int rc;

	vcpu_cpuid(&vm->cpu, 1, 0, r);
	mp.cpu_signature = r[0];
	mp.cpu_features = r[3];
	rc = mptable_build(vm->ram, vm->ram_size, TRAPEZE_MPTABLE_GPA, &mp);
	assert(rc == 0);   /* RAM is at least 4 MiB: it always fits */
	(void)rc;
}

void vm_boot(struct vm *vm, const struct boot_image *img)
{
	struct paging pg;

	if (img->proto == BOOT_MULTIBOOT)
		multiboot_boot_setup(vm, img, vm->opt.guest_path,
				     vm->opt.append, vm->opt.initrd);
	else
		loader_boot_setup(vm, img, vm->opt.append);
	/* ACPI first: it clears the BIOS area (0xe0000-0xfffff) it fills;
	 * the MP tables go in after it, at 0xf1000. */
	acpi_build_tables(vm->ram, vm_apics_fit(vm));
	bios_tables(vm);
	vcpu_paging(&vm->cpu, &pg);
	shadow_reset(vm->mmu, &pg);
}

int vm_create(struct vm *vm, const struct vm_options *opt,
	      const struct vm_host *host, char *err, size_t errlen)
{
	struct boot_image img;

	if (vm_init(vm, opt, host, err, errlen) ||
	    loader_load_file(vm, opt->guest_path, &img, err, errlen))
		return -1;
	if (opt->initrd &&
	    multiboot_load_module(vm, opt->initrd, &img, err, errlen))
		return -1;
	vm_boot(vm, &img);
	return 0;
}
