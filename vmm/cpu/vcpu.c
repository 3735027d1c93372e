/*
 * The vCPU's reset state and small helpers over its architectural state.
 */
#include <stdlib.h>
#include <string.h>

#include "trapeze/abi.h"
#include "trapeze/bootstate.h"
#include "cpu/vcpu.h"

void vcpu_raise(struct vcpu *v, unsigned vector, bool has_err, uint32_t err)
{
	v->exc.pending = true;
	v->exc.vector = vector;
	v->exc.has_err = has_err;
	v->exc.err = err;
}

void vcpu_raise_pf(struct vcpu *v, uint64_t cr2, uint32_t err)
{
	v->cr2 = cr2;
	vcpu_raise(v, X86_PF, true, err);
}

void vcpu_crash(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (v->hooks.crash)
		v->hooks.crash(v->hooks.ctx, fmt, ap);
	abort();      /* a CPU wired to no board: a test's bug */
}

/*
 * Fill a segment register's hidden part from a descriptor (SDM vol. 3A
 * 3.4.5): base in bits 16-39 and 56-63, limit in 0-15 and 48-51 scaled by
 * G, access rights in 40-47 and 52-55.
 */
void segment_from_descriptor(struct segment *s, uint16_t sel, uint32_t lo,
			     uint32_t hi)
{
	uint32_t limit = (lo & 0xffff) | (hi & 0x000f0000);

	s->sel = sel;
	s->base = (lo >> 16) | ((uint64_t)(hi & 0xff) << 16) |
		  ((uint64_t)(hi & 0xff000000));
	s->attr = (hi >> 8) & 0xf0ff;
	s->limit = (s->attr & SEG_G) ? (limit << 12) | 0xfff : limit;
}

static void flat(struct segment *s, uint16_t sel, uint16_t attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr;
}

/* What both boot states share: the rest of the SDM's reset values
 * (vol. 3A 10.1.1) and an empty TR and LDTR. */
static void reset_common(struct vcpu *v)
{
	memset(v, 0, VCPU_STATE_SIZE);
	v->rflags = RFLAGS_FIXED;
	v->tr.attr = SEG_P | SYS_TSS_BUSY;
	v->tr.limit = 0xffff;
	v->ldtr.limit = 0xffff;
	v->pat = 0x0007040600070406ull;
	v->dr[6] = 0xffff0ff0ull;
	v->dr[7] = 0x400;
	v->xcr0 = 1;
	v->misc_enable = 1;
}

/* A flat code segment (64-bit when l, else 32-bit) and flat data
 * segments in every other register, as both boot states have them. */
static void flat_segments(struct vcpu *v, uint16_t cs, bool l, uint16_t ds)
{
	const uint16_t code = SEG_P | SEG_S | SEG_TYPE_CODE | SEG_TYPE_RW |
			      SEG_TYPE_ACCESSED | (l ? SEG_L : SEG_DB) | SEG_G;
	const uint16_t data = SEG_P | SEG_S | SEG_TYPE_RW | SEG_TYPE_ACCESSED |
			      SEG_DB | SEG_G;
	unsigned i;

	flat(&v->seg[SR_CS], cs, code);
	for (i = 0; i < NR_SREGS; i++)
		if (i != SR_CS)
			flat(&v->seg[i], ds, data);
}

void vcpu_reset_long(struct vcpu *v, uint64_t entry, uint64_t boot_info,
		     uint64_t cr3)
{
	reset_common(v);
	v->rip = entry;
	v->gpr[RDI] = boot_info;
	v->gpr[RSP] = TRAPEZE_BOOT_STACK_TOP;
	flat_segments(v, TRAPEZE_BOOT_CS, true, TRAPEZE_BOOT_DS);
	/* FS and GS hold the null selector; their bases are theirs. */
	v->seg[SR_FS] = (struct segment){ 0 };
	v->seg[SR_GS] = (struct segment){ 0 };
	v->gdtr.base = TRAPEZE_BOOT_GDT_GPA;
	v->gdtr.limit = TRAPEZE_BOOT_GDT_LIMIT;
	v->idtr.limit = 0;
	v->cr0 = TRAPEZE_BOOT_CR0;
	v->cr3 = cr3;
	v->cr4 = TRAPEZE_BOOT_CR4;
	v->efer = EFER_LME | EFER_LMA;
}

/*
 * 32-bit protected mode, paging off, flat 4 GiB code and data segments
 * (selectors cs and ds of the GDT at gdt), IF and VM clear: what a boot
 * loader leaves (the multiboot loader, core/multiboot.c, says which).
 */
void vcpu_reset_prot32(struct vcpu *v, uint32_t entry, uint16_t cs,
		       uint16_t ds, struct dtable gdt)
{
	reset_common(v);
	v->rip = entry;
	flat_segments(v, cs, false, ds);
	v->gdtr = gdt;
	v->cr0 = CR0_PE | CR0_ET;
}

const char *sreg_name(enum sreg sr)
{
	static const char *const n[NR_SREGS] = { "es", "cs", "ss", "ds", "fs",
						 "gs" };

	return sr < NR_SREGS ? n[sr] : "?";
}

const char *exception_name(unsigned vector)
{
	static const char *const n[] = {
		[X86_DE] = "#DE divide error",
		[X86_DB] = "#DB debug",
		[X86_NMI] = "NMI",
		[X86_BP] = "#BP breakpoint",
		[X86_OF] = "#OF overflow",
		[X86_BR] = "#BR bound range",
		[X86_UD] = "#UD invalid opcode",
		[X86_NM] = "#NM device not available",
		[X86_DF] = "#DF double fault",
		[9] = "coprocessor segment overrun",
		[X86_TS] = "#TS invalid TSS",
		[X86_NP] = "#NP segment not present",
		[X86_SS] = "#SS stack fault",
		[X86_GP] = "#GP general protection",
		[X86_PF] = "#PF page fault",
		[X86_MF] = "#MF x87 floating point",
		[X86_AC] = "#AC alignment check",
		[X86_MC] = "#MC machine check",
		[X86_XM] = "#XM SIMD floating point",
		[X86_VE] = "#VE virtualization",
		[X86_CP] = "#CP control protection",
	};

	if (vector < sizeof(n) / sizeof(n[0]) && n[vector])
		return n[vector];
	return vector < 32 ? "reserved exception" : "interrupt";
}

bool exception_has_error_code(unsigned vector)
{
	switch (vector) {
	case X86_DF: case X86_TS: case X86_NP: case X86_SS: case X86_GP:
	case X86_PF: case X86_AC: case X86_CP:
		return true;
	default:
		return false;
	}
}
