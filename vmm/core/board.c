/*
 * Building the virtual machine: the vCPU's feature masks, its devices
 * wired to the interrupt controllers, the firmware tables, and the boot
 * of a loaded image (the trap path is vm.c).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trapeze/abi.h"

#include "core/hypercall.h"

#include "engine/ahead.h"
#include "engine/bt.h"
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

static void irq_set_line(void *opaque, unsigned line, bool level)
{
	struct vm *vm = opaque;

	if (line < 16)
		pic_set_irq(vm->pic, line, level);
	/* IRQ 0 on pin 2, as QEMU wires the PIT (and as the MP and ACPI
	 * tables say). */
	ioapic_set_irq(vm->ioapic, line == 0 ? 2 : line, level);
}

static void com1_irq(void *opaque, bool level)
{
	irq_set_line(opaque, TRAPEZE_IRQ_COM1, level);
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

	uart_flush(vm->com1);
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

	uart_flush(vm->com1);
	if (!vm->opt.quiet)
		fprintf(stderr, "trapeze: the guest reset the machine (8042 "
			"keyboard controller); ending the run\n");
	vm_exit(vm, EXIT_HALTED);
}

_Static_assert(VM_DRIVES == IDE_DRIVES, "one --drive index per IDE drive");

static int setup_devices(struct vm *vm)
{
	unsigned i;

	vm->com1 = uart_create(vm->opt.console_in, vm->opt.console_out);
	vm->pic = pic_create();
	vm->pit = pit_create(&vm->timers, irq_set_line, vm);
	vm->lapic = lapic_create(&vm->timers, vm->host.tsc_khz, lapic_tsc,
				 &vm->cpu);
	vm->ioapic = vm->lapic ? ioapic_create(vm->lapic) : NULL;
	vm->fwcfg = fwcfg_create(vm->ram_size, 1);
	vm->acpi_pm = acpi_pm_create();
	vm->testdev = testdev_create(irq_set_line, vm);
	vm->ide = ide_create(irq_set_line, vm);
	vm->kbd = i8042_create(irq_set_line, guest_reset, vm);
	vm->crtc = crtc_create();
	vm->rtc = rtc_create(rtc_host_clock);
	if (!vm->com1 || !vm->pic || !vm->pit || !vm->ioapic || !vm->fwcfg ||
	    !vm->acpi_pm || !vm->testdev || !vm->ide || !vm->kbd ||
	    !vm->crtc || !vm->rtc)
		return -1;
	/* A disk that takes some time, as a PC's and QEMU's do: the guest's
	 * kernel sleeps on its I/O and runs something else meanwhile. */
	ide_set_latency(vm->ide, &vm->timers, IDE_LATENCY_NS);
	uart__register(vm->com1, &vm->io, TRAPEZE_PORT_COM1);
	uart_set_irq(vm->com1, com1_irq, vm);
	uart_set_input_filter(vm->com1, console_input, vm);
	pic__register(vm->pic, &vm->io);
	pit__register(vm->pit, &vm->io);
	if (debug_exit__register(&vm->io, TRAPEZE_PORT_DEBUG_EXIT, guest_exit,
				 vm))
		return -1;
	fwcfg__register(vm->fwcfg, &vm->io);
	acpi_pm__register(vm->acpi_pm, &vm->io);
	acpi_pm_on_sleep(vm->acpi_pm, guest_sleep, vm);
	if (vm_apics_fit(vm)) {
		lapic__register(vm->lapic, &vm->mmio);
		ioapic__register(vm->ioapic, &vm->mmio);
		lapic_set_eoi_hook(vm->lapic, ioapic_eoi, vm->ioapic);
	} else {
		/* No APIC: the 8259s are the only interrupt controllers. */
		lapic_remove(vm->lapic);
	}
	testdev__register(vm->testdev, &vm->io,
			  vm->ram_size <= TESTDEV_IOMEM ? &vm->mmio : NULL);
	for (i = 0; i < VM_DRIVES; i++)
		if (vm->opt.drive[i].disk)
			ide_attach(vm->ide, i, vm->opt.drive[i].disk);
	ide__register(vm->ide, &vm->io);
	i8042__register(vm->kbd, &vm->io);
	crtc__register(vm->crtc, &vm->io);
	rtc__register(vm->rtc, &vm->io);
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
	v->mem.mmio = &vm->mmio;
	v->mem.window_lo = vm->window_lo;
	v->mem.window_hi = vm->window_hi;
	v->io = &vm->io;
	v->lapic = vm->lapic;
	v->pic = vm->pic;
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

int vm_init(struct vm *vm, const struct vm_options *opt,
	    const struct shadow_ops *ops, char *err, size_t errlen)
{
	struct shadow_config cfg;

	memset(vm, 0, sizeof(*vm));
	vm->opt = *opt;
	vm->window_lo = 0x10000;
	vm->window_hi = TRAPEZE_GVA_LIMIT;
	the_vm = vm;
	hostcpu_detect(&vm->host);
	emulate_init();
	ahead_init();
	if (ops == NULL && memory_reserve_window(vm, err, errlen))
		return -1;
	if (memory_create_ram(vm, opt->mem_size, err, errlen))
		return -1;
	cfg = (struct shadow_config){
		.ram = vm->ram, .ram_size = vm->ram_size,
		.gva_limit = vm->window_hi, .gva_floor = vm->window_lo,
		.maxphyaddr = vm->host.maxphyaddr,
		.ops = ops ? *ops : memory_shadow_ops(vm),
		.cache = opt->shadow_cache,
	};
	vm->mmu = shadow_create(&cfg);
	vm->cpu.dec = decoder_create();
	if (!vm->mmu || !vm->cpu.dec || setup_devices(vm))
		goto out_of_memory;
	wire_cpu(vm, ops == NULL);
	irq_init(&vm->cpu);
	/* The engines that run the guest's kernel code. */
	if (opt->exec == EXEC_SCAN &&
	    (!(vm->scan = scan_create(&vm->cpu, 8192, 65536)) ||
	     !(vm->ahead = ahead_create(&vm->cpu, vm->scan))))
		goto out_of_memory;
	/* (Unit tests pass ops: their guests are not run natively.) */
	if (!ops)
		vm->bt = bt_create(&vm->cpu, vm->scan, &cfg.ops, opt->translate,
				   &vm->bt_off_why);
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

int vm_create(struct vm *vm, const struct vm_options *opt, char *err,
	      size_t errlen)
{
	struct boot_image img;

	if (vm_init(vm, opt, NULL, err, errlen) ||
	    loader_load_file(vm, opt->guest_path, &img, err, errlen))
		return -1;
	if (opt->initrd &&
	    multiboot_load_module(vm, opt->initrd, &img, err, errlen))
		return -1;
	vm_boot(vm, &img);
	return 0;
}
