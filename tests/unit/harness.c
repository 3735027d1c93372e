/*
 * The unit-test VM (see harness.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/uart.h"
#include "harness.h"
#include "core/loader.h"
#include "cpu/segment.h"
#include "trapeze/abi.h"

struct host_calls host_calls;
static int console_fd = -1;

static int rec_map(void *ctx, uint64_t gva, uint64_t gpa, uint64_t len,
		   int prot)
{
	host_calls.maps++;
	host_calls.last_gva = gva;
	host_calls.last_len = len;
	host_calls.last_prot = prot;
	return 0;
}

static int rec_protect(void *ctx, uint64_t gva, uint64_t len, int prot)
{
	host_calls.protects++;
	host_calls.last_gva = gva;
	host_calls.last_len = len;
	host_calls.last_prot = prot;
	return 0;
}

static int rec_unmap(void *ctx, uint64_t gva, uint64_t len)
{
	host_calls.unmaps++;
	host_calls.last_gva = gva;
	host_calls.last_len = len;
	return 0;
}

static struct vm *make_vm(enum exec_mode exec)
{
	static struct vm vm;
	static const struct vm_host host = {
		.ops = { rec_map, rec_protect, rec_unmap, NULL } };
	struct vm_options opt = { .mem_size = 16ull << 20,
				  .shadow_cache = true, .quiet = true,
				  .console_in = -1, .exec = exec };
	struct boot_image img = { .entry = CODE_GPA, .start = CODE_GPA,
				  .end = CODE_GPA + 4096, .nseg = 1 };
	FILE *tmp = tmpfile();
	char err[256];

	ck_assert_ptr_nonnull(tmp);
	console_fd = fileno(tmp);
	opt.console_out = console_fd;
	memset(&host_calls, 0, sizeof(host_calls));
	ck_assert_msg(vm_init(&vm, &opt, &host, err, sizeof(err)) == 0, "%s",
		      err);
	vm_boot(&vm, &img);
	vm.cpu.gpr[RSP] = STACK_TOP;
	return &vm;
}

struct vm *harness_vm(void)
{
	return make_vm(EXEC_TRAP);
}

struct vm *harness_vm_scan(void)
{
	return make_vm(EXEC_SCAN);
}

enum emu_result harness_run(struct vm *vm, const char *bytes, size_t n)
{
	struct paging pg;
	struct walk w;

	vcpu_paging(&vm->cpu, &pg);
	ck_assert_int_eq(shadow_walk(vm->mmu, &pg, vm->cpu.rip, ACC_SUPER,
				     &w), WALK_OK);
	memcpy(vm->ram + w.gpa, bytes, n);
	return emulate_at_rip(&vm->cpu);
}

const char *harness_console(struct vm *vm)
{
	static char buf[8192];
	ssize_t n;

	uart_flush(vm->pc.com1);
	n = pread(console_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

void harness_map_devices(struct vm *vm)
{
	uint64_t pdpt3 = DEV_PD_GPA | 3, e;
	unsigned i;

	for (i = 0x1f6; i <= 0x1f8; i++) {
		e = (0xc0000000ull + ((uint64_t)i << 21)) | 0x83;
		harness_poke(vm, DEV_PD_GPA + 8 * i, &e, 8);
	}
	harness_poke(vm, TRAPEZE_BOOT_PT_GPA + 4096 + 3 * 8, &pdpt3, 8);
	shadow_flush(vm->mmu);
}

void harness_poke(struct vm *vm, uint64_t gpa, const void *p, size_t n)
{
	memcpy(vm->ram + gpa, p, n);
}

uint64_t harness_peek64(struct vm *vm, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, vm->ram + gpa, 8);
	return v;
}

void harness_gdt(struct vm *vm)
{
	uint64_t gdt[8] = {
		0,
		0x00af9b000000ffffull,   /* 0x08 code64 DPL0 */
		0x00cf93000000ffffull,   /* 0x10 data DPL0 */
		0x00affb000000ffffull,   /* 0x18 code64 DPL3 */
		0x00cff3000000ffffull,   /* 0x20 data DPL3 */
		0x00cf9b000000ffffull,   /* 0x28 code32 DPL0 */
		0, 0,                    /* 0x30 TSS, filled below */
	};
	uint64_t base = TSS_GPA;

	gdt[6] = 0x67 | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 ((base >> 24 & 0xff) << 56);
	gdt[7] = base >> 32;
	harness_poke(vm, GDT_GPA, gdt, sizeof(gdt));
	vm->cpu.gdtr.base = GDT_GPA;
	vm->cpu.gdtr.limit = sizeof(gdt) - 1;
	vm->cpu.idtr.base = IDT_GPA;
	vm->cpu.idtr.limit = 256 * 16 - 1;
	segment_from_descriptor(&vm->cpu.tr, 0x30, (uint32_t)gdt[6],
				(uint32_t)(gdt[6] >> 32));
	vm->cpu.tr.attr = (vm->cpu.tr.attr & ~0xfu) | SYS_TSS_BUSY;
	/* RSP0 for entries from user mode; no I/O bitmap (its base lies
	 * past the TSS limit). */
	{
		uint64_t rsp0 = 0x2e0000;
		uint16_t iomap = 0x68;

		harness_poke(vm, TSS_GPA + 4, &rsp0, 8);
		harness_poke(vm, TSS_GPA + 0x66, &iomap, 2);
	}
}

void harness_gate(struct vm *vm, unsigned vec, uint64_t handler,
		  unsigned dpl, unsigned type)
{
	uint32_t g[4] = {
		(uint32_t)(handler & 0xffff) | (0x08u << 16),
		(uint32_t)(handler & 0xffff0000u) | 0x8000u | (dpl << 13) |
			(type << 8),
		(uint32_t)(handler >> 32), 0,
	};

	harness_poke(vm, IDT_GPA + vec * 16, g, sizeof(g));
}

/* Give every entry of the boot identity map the U bit. */
static void open_boot_map(struct vm *vm)
{
	uint64_t table = vm->cpu.cr3 & PTE_ADDR;
	uint64_t *pml4 = (uint64_t *)(vm->ram + table), *pdpt, *pd, *pt;
	unsigned i, j;

	pml4[0] |= PTE_U;
	pdpt = (uint64_t *)(vm->ram + (pml4[0] & PTE_ADDR));
	pdpt[0] |= PTE_U;
	pd = (uint64_t *)(vm->ram + (pdpt[0] & PTE_ADDR));
	for (i = 0; i < 512; i++) {
		if (!(pd[i] & PTE_P))
			continue;
		pd[i] |= PTE_U;
		if (pd[i] & PTE_PS)
			continue;
		pt = (uint64_t *)(vm->ram + (pd[i] & PTE_ADDR));
		for (j = 0; j < 512; j++)
			if (pt[j] & PTE_P)
				pt[j] |= PTE_U;
	}
	shadow_flush(vm->mmu);
}

void harness_user_mode(struct vm *vm)
{
	struct descriptor d;

	open_boot_map(vm);
	ck_assert(desc_read(&vm->cpu, 0x18, &d, false, X86_GP));
	segment_from_descriptor(&vm->cpu.seg[SR_CS], 0x1b, d.lo, d.hi);
	ck_assert(desc_read(&vm->cpu, 0x20, &d, false, X86_GP));
	segment_from_descriptor(&vm->cpu.seg[SR_SS], 0x23, d.lo, d.hi);
	vm->cpu.rflags |= RFLAGS_IF;
	vcpu_cpl_changed(&vm->cpu);
}
