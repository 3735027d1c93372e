/*
 * Instructions that ask the processor about itself: cpuid, lar, lsl,
 * verr, verw, xgetbv, rdpid.  None of them faults at CPL 3, and each
 * answers from the host's state instead of the guest's: cpuid describes
 * the host processor and the host's CR4, lar and friends read the host's
 * GDT, xgetbv the host's XCR0, rdpid the host's TSC_AUX.  The scanner
 * patches them into traps (or the host's CPUID faulting makes cpuid trap)
 * and they land here, where they answer from the vCPU.
 */
#include <string.h>

#include "trapeze/abi.h"

#include "dev/lapic.h"
#include "cpu/emulate.h"
#include "host/hostcpu.h"
#include "cpu/segment.h"

/* CPUID leaf 0x40000000: the hypervisor's signature, 12 bytes. */
#define SIGNATURE "TrapezeVMM  "

static void cpuid_leaf1(const struct vcpu *v, uint32_t r[4])
{

	r[1] &= 0x0000ffff;                /* APIC ID 0, one logical CPU */
	r[1] |= 1u << 16;
	r[2] &= ~(1u << 5);                /* no VMX */
	r[2] &= ~(1u << 27);               /* OSXSAVE mirrors the guest CR4 */
	if (v->cr4 & CR4_OSXSAVE)
		r[2] |= 1u << 27;
	r[2] |= 1u << 31;                  /* running under a hypervisor */
	r[3] &= ~(1u << 28);               /* no hyper-threading */
	/* The local APIC of lapic.c: x2APIC and TSC-deadline always; the
	 * APIC bit follows IA32_APIC_BASE's global enable (SDM 11.4.3). */
	r[2] |= (1u << 21) | (1u << 24);
	r[3] &= ~(1u << 9);
	if (lapic_hw_enabled(v->lapic))
		r[3] |= 1u << 9;
}

/* Extended topology: one thread, one core; EDX is the x2APIC ID (0). */
static void cpuid_topology(uint32_t sub, uint32_t r[4])
{
	r[0] = 0;
	r[1] = sub == 0 ? 1 : sub == 1 ? 1 : 0;
	r[2] = sub == 0 ? (1u << 8) | sub : sub == 1 ? (2u << 8) | sub : sub;
	r[3] = 0;
}

static void cpuid_leaf7(const struct vcpu *v, uint32_t r[4])
{
	/* What this vCPU cannot give: PKU and OSPKE, LA57, WAITPKG, SGX,
	 * and IA32_TSC_ADJUST (rdtsc is the host's: an adjustment could not
	 * be seen, docs/limits.md). */
	r[1] &= ~((1u << 1) | (1u << 2));
	r[2] &= ~((1u << 3) | (1u << 4) | (1u << 5) | (1u << 16));
	if (!(v->cr4_valid & CR4_SMEP))
		r[1] &= ~(1u << 7);
	if (!(v->cr4_valid & CR4_SMAP))
		r[1] &= ~(1u << 20);
}

void vcpu_cpuid(const struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	if (leaf == 0x40000000) {
		r[0] = 0x40000001;
		memcpy(&r[1], SIGNATURE, 4);
		memcpy(&r[2], SIGNATURE + 4, 4);
		memcpy(&r[3], SIGNATURE + 8, 4);
		return;
	}
	if (leaf == 0x40000001) {
		r[0] = TRAPEZE_ABI_VERSION;
		r[1] = r[2] = r[3] = 0;
		return;
	}
	hostcpu_cpuid_cached(v->host, leaf, sub, r);
	if (leaf == 1)
		cpuid_leaf1(v, r);
	else if ((leaf == 0xb || leaf == 0x1f) && r[0] | r[1] | r[2] | r[3])
		cpuid_topology(sub, r);
	else if (leaf == 7 && sub == 0)
		cpuid_leaf7(v, r);
}

static enum emu_result emulate_cpuid(struct vcpu *v, const cs_insn *insn)
{
	uint32_t r[4];

	vcpu_cpuid(v, (uint32_t)v->gpr[RAX], (uint32_t)v->gpr[RCX], r);
	v->gpr[RAX] = r[0];
	v->gpr[RBX] = r[1];
	v->gpr[RCX] = r[2];
	v->gpr[RDX] = r[3];
	return EMU_NEXT;
}

static void set_zf(struct vcpu *v, bool on)
{
	v->rflags = on ? v->rflags | RFLAGS_ZF : v->rflags & ~RFLAGS_ZF;
}

/*
 * The checks lar, lsl, verr and verw share (SDM vol. 2): a selector the
 * tables hold, a type the instruction accepts, and a privilege the caller
 * may see (DPL >= CPL and >= RPL, unless conforming code).
 */
static bool visible_descriptor(struct vcpu *v, uint16_t sel,
			       struct descriptor *d)
{
	unsigned cpl = vcpu_cpl(v);

	if ((sel & ~3u) == 0 || !desc_read(v, sel, d, false, X86_GP)) {
		v->exc.pending = false;   /* out of bounds: ZF=0, no fault */
		return false;
	}
	if (desc_is_code(d) && (desc_type(d) & SEG_TYPE_DC))
		return true;
	return desc_dpl(d) >= cpl && desc_dpl(d) >= (sel & 3u);
}

/* System types lar (and, but for gates, lsl) accept in long mode. */
static bool system_type_ok(unsigned type, bool lar)
{
	return type == SYS_LDT || type == SYS_TSS_AVAIL ||
	       type == SYS_TSS_BUSY || (lar && type == SYS_CALL_GATE);
}

static enum emu_result emulate_lar_lsl(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	bool lar = insn->id == X86_INS_LAR;
	struct descriptor d;
	uint64_t sel, val;

	if (!op_read(v, insn, &x86(insn)->operands[1], &sel))
		return EMU_FAULT;
	if (!visible_descriptor(v, (uint16_t)sel, &d) ||
	    (desc_is_system(&d) && !system_type_ok(desc_type(&d), lar))) {
		set_zf(v, false);
		return EMU_NEXT;
	}
	if (lar) {
		val = d.hi & (dst->size == 2 ? 0xff00u : 0x00f0ff00u);
	} else {
		struct segment s;

		segment_from_descriptor(&s, (uint16_t)sel, d.lo, d.hi);
		val = s.limit;
	}
	reg_write(v, dst->reg, val);
	set_zf(v, true);
	return EMU_NEXT;
}

static enum emu_result emulate_verr_verw(struct vcpu *v, const cs_insn *insn)
{
	struct descriptor d;
	uint64_t sel;
	unsigned type;
	bool ok;

	if (!op_read(v, insn, &x86(insn)->operands[0], &sel))
		return EMU_FAULT;
	ok = visible_descriptor(v, (uint16_t)sel, &d) && !desc_is_system(&d);
	type = ok ? desc_type(&d) : 0;
	if (insn->id == X86_INS_VERR)
		ok = ok && (!(type & SEG_TYPE_CODE) || (type & SEG_TYPE_RW));
	else
		ok = ok && !(type & SEG_TYPE_CODE) && (type & SEG_TYPE_RW);
	set_zf(v, ok);
	return EMU_NEXT;
}

static enum emu_result emulate_xgetbv(struct vcpu *v, const cs_insn *insn)
{

	if (!(v->cr4 & CR4_OSXSAVE) || (uint32_t)v->gpr[RCX] != 0) {
		if (v->cr4 & CR4_OSXSAVE)
			vcpu_raise_gp(v, 0);
		else
			vcpu_raise_ud(v);
		return EMU_FAULT;
	}
	v->gpr[RAX] = (uint32_t)v->xcr0;
	v->gpr[RDX] = v->xcr0 >> 32;
	return EMU_NEXT;
}

bool insn_is_rdpid(const cs_insn *insn)
{
	unsigned i;

	if (insn->id != X86_INS_RDSEED)
		return false;
	for (i = 0; i < insn->size && insn->bytes[i] != 0x0f; i++)
		if (insn->bytes[i] == 0xf3)
			return true;
	return false;
}

/* rdpid reads TSC_AUX; Capstone 4 knows it only as a prefixed rdseed. */
static enum emu_result emulate_rdpid(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];

	if (!insn_is_rdpid(insn))
		return EMU_NONE;          /* a real rdseed: not ours */
	/* rdpid always writes the full register in 64-bit mode. */
	v->gpr[reg_gpr(dst->reg)] = v->tsc_aux;
	return EMU_NEXT;
}

const struct emu_entry emu_query_table[] = {
	{ X86_INS_CPUID, emulate_cpuid },
	{ X86_INS_LAR, emulate_lar_lsl },
	{ X86_INS_LSL, emulate_lar_lsl },
	{ X86_INS_VERR, emulate_verr_verw },
	{ X86_INS_VERW, emulate_verr_verw },
	{ X86_INS_XGETBV, emulate_xgetbv },
	{ X86_INS_RDSEED, emulate_rdpid },
	{ 0, NULL },
};
