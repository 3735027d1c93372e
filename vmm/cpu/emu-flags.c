/*
 * The interrupt flag and its kin: cli, sti, pushf, popf, hlt, stac, clac.
 *
 * The guest's IF exists only in the vCPU: the real CPU runs the guest with
 * interrupts enabled, always.  cli and sti fault at CPL 3 by themselves;
 * pushf and popf do not (popf silently ignores IF at CPL 3, the classic
 * Popek-Goldberg failure), so the scanner patches them into traps that
 * land here.  The rules are the SDM's (vol. 2, CLI, STI, POPF): IF moves
 * only when CPL <= IOPL, IOPL only at CPL 0.
 */
#include "cpu/emulate.h"

static enum emu_result emulate_cli(struct vcpu *v, const cs_insn *insn)
{

	if (vcpu_cpl(v) > vcpu_iopl(v)) {
		vcpu_raise_gp(v, 0);
		return EMU_FAULT;
	}
	v->rflags &= ~RFLAGS_IF;
	return EMU_NEXT;
}

static enum emu_result emulate_sti(struct vcpu *v, const cs_insn *insn)
{

	if (vcpu_cpl(v) > vcpu_iopl(v)) {
		vcpu_raise_gp(v, 0);
		return EMU_FAULT;
	}
	/* Interrupts stay blocked until after the next instruction. */
	if (!(v->rflags & RFLAGS_IF))
		v->irq_shadow = true;
	v->rflags |= RFLAGS_IF;
	return EMU_NEXT;
}

static enum emu_result emulate_pushf(struct vcpu *v, const cs_insn *insn)
{
	unsigned size = insn_opsize(v, insn);

	if (vcpu_mode(v) == MODE_LONG64 && size == 4)
		size = 8;
	/* The image has VM and RF clear (SDM vol. 2 PUSHF). */
	if (!stack_push(v, v->rflags & ~(RFLAGS_VM | RFLAGS_RF), size))
		return EMU_FAULT;
	return EMU_NEXT;
}

static enum emu_result emulate_popf(struct vcpu *v, const cs_insn *insn)
{
	unsigned size = insn_opsize(v, insn);
	uint64_t val;

	if (vcpu_mode(v) == MODE_LONG64 && size == 4)
		size = 8;
	if (!stack_pop(v, &val, size))
		return EMU_FAULT;
	rflags_load(v, val, size, false);
	return EMU_NEXT;
}

static enum emu_result emulate_hlt(struct vcpu *v, const cs_insn *insn)
{
	if (!require_cpl0(v))
		return EMU_FAULT;
	return EMU_HALT;
}

/* stac/clac raise #UD at CPL > 0 or on a CPU without SMAP (SDM vol. 2
 * STAC); CR4.SMAP does not matter: a kernel clears AC before it turns
 * SMAP on (kvm-unit-tests' smap test does). */
static enum emu_result emulate_ac(struct vcpu *v, const cs_insn *insn)
{

	if (vcpu_cpl(v) > 0 || !(v->cr4_valid & CR4_SMAP)) {
		vcpu_raise_ud(v);
		return EMU_FAULT;
	}
	if (insn->id == X86_INS_STAC)
		v->rflags |= RFLAGS_AC;
	else
		v->rflags &= ~RFLAGS_AC;
	vcpu_cpl_changed(v);   /* SMAP access rights follow AC */
	return EMU_NEXT;
}

const struct emu_entry emu_flags_table[] = {
	{ X86_INS_CLI, emulate_cli },
	{ X86_INS_STI, emulate_sti },
	{ X86_INS_PUSHF, emulate_pushf },
	{ X86_INS_PUSHFD, emulate_pushf },
	{ X86_INS_PUSHFQ, emulate_pushf },
	{ X86_INS_POPF, emulate_popf },
	{ X86_INS_POPFD, emulate_popf },
	{ X86_INS_POPFQ, emulate_popf },
	{ X86_INS_HLT, emulate_hlt },
	{ X86_INS_STAC, emulate_ac },
	{ X86_INS_CLAC, emulate_ac },
	{ 0, NULL },
};
