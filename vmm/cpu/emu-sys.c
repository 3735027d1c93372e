/*
 * Entering and leaving the guest kernel: syscall, sysret, int n, int3,
 * int1 (icebp), and the hypercall gate `int $0x82`.
 *
 * A guest syscall never reaches the host: Syscall User Dispatch turns a
 * 64-bit one into SIGSYS (backend/signal.c), the scanner patches a 32-bit
 * one (engine/scan.c), and it lands here, where it does what the
 * hardware does for the guest (SDM vol. 2 SYSCALL): CS and SS from STAR,
 * RIP from LSTAR, RFLAGS masked by SFMASK, CPL 0.  sysretq is privileged
 * and faults by itself at host CPL 3.
 */
#include "trapeze/abi.h"

#include "cpu/emulate.h"
#include "cpu/exception.h"
#include "cpu/segment.h"

/* The flat segments SYSCALL and SYSRET load without reading the GDT. */
static void fixed_segments(struct vcpu *v, uint16_t cs, uint16_t ss,
			   unsigned dpl, bool code64)
{
	uint16_t d = (uint16_t)(dpl << SEG_DPL_SHIFT);

	v->seg[SR_CS] = (struct segment){
		.sel = cs, .base = 0, .limit = 0xffffffff,
		.attr = SEG_P | SEG_S | SEG_TYPE_CODE | SEG_TYPE_RW |
			SEG_TYPE_ACCESSED | SEG_G | d |
			(code64 ? SEG_L : SEG_DB) };
	v->seg[SR_SS] = (struct segment){
		.sel = ss, .base = 0, .limit = 0xffffffff,
		.attr = SEG_P | SEG_S | SEG_TYPE_RW | SEG_TYPE_ACCESSED |
			SEG_G | SEG_DB | d };
}

/* SYSCALL and SYSRET load RFLAGS: the single-step trap follows them
 * when TF is set at their end, not at their start (a popf that sets TF
 * just before a syscall traps nowhere, a sysret that loads TF traps at
 * its target).  The host cannot deliver it: the guest resumes at the
 * target's first instruction, which the host would run first. */
static enum emu_result step_trap(struct vcpu *v)
{

	if (!(v->rflags & RFLAGS_TF))
		return EMU_JUMP;
	v->dr[6] |= DR6_BS;
	event_deliver(v, X86_DB, EV_TRAP, false, 0);
	return EMU_JUMP;
}

static enum emu_result emulate_syscall(struct vcpu *v, const cs_insn *insn)
{
	uint16_t sel = (v->star >> 32) & 0xfffc;
	uint64_t next = v->rip + insn->size;

	if (!(v->efer & EFER_SCE)) {
		vcpu_raise_ud(v);
		return EMU_FAULT;
	}
	if (vcpu_long_mode(v)) {
		v->gpr[RCX] = next;
		v->gpr[R11] = v->rflags & ~RFLAGS_RF;
		v->rip = vcpu_mode(v) == MODE_LONG64 ? v->lstar : v->cstar;
		v->rflags &= ~(v->sfmask | RFLAGS_RF);
		fixed_segments(v, sel, sel + 8, 0, true);
	} else {
		v->gpr[RCX] = (uint32_t)next;
		v->rip = (uint32_t)v->star;
		v->rflags &= ~(RFLAGS_VM | RFLAGS_IF | RFLAGS_RF);
		fixed_segments(v, sel, sel + 8, 0, false);
	}
	v->rflags |= RFLAGS_FIXED;
	vcpu_cpl_changed(v);
	return step_trap(v);
}

static enum emu_result emulate_sysret(struct vcpu *v, const cs_insn *insn)
{
	bool q = (x86(insn)->rex & 8) != 0;
	uint16_t sel = (v->star >> 48) & 0xffff;
	uint64_t rcx = v->gpr[RCX];

	if (!(v->efer & EFER_SCE)) {
		vcpu_raise_ud(v);
		return EMU_FAULT;
	}
	if (!vcpu_long_mode(v) || vcpu_cpl(v) != 0 ||
	    (q && (uint64_t)((int64_t)(rcx << 16) >> 16) != rcx)) {
		vcpu_raise_gp(v, 0);
		return EMU_FAULT;
	}
	fixed_segments(v, (uint16_t)((q ? sel + 16 : sel) | 3),
		       (uint16_t)((sel + 8) | 3), 3, q);
	v->rflags = (v->gpr[R11] & 0x3c7fd7) | RFLAGS_FIXED;
	v->rip = q ? rcx : (uint32_t)rcx;
	vcpu_cpl_changed(v);
	return step_trap(v);
}

/* int n, int3 and int1 go through the guest's IDT; `int $0x82` at CPL 0
 * is the hypercall gate instead. */
static enum emu_result emulate_int(struct vcpu *v, const cs_insn *insn)
{
	uint64_t here = v->rip;
	enum event_kind kind = EV_SOFT_INT;
	unsigned vec;

	switch (insn->id) {
	case X86_INS_INT3:
		vec = X86_BP;
		break;
	case X86_INS_INT1:
		vec = X86_DB;
		kind = EV_TRAP;
		break;
	default:
		vec = (uint8_t)x86(insn)->operands[0].imm;
		if (vec == TRAPEZE_HYPERCALL_VECTOR && vcpu_cpl(v) == 0)
			return v->hooks.hypercall(v->hooks.ctx, v);
	}
	v->rip = here + insn->size;
	if (vcpu_mode(v) != MODE_LONG64)
		v->rip &= 0xffffffffull;
	if (!event_deliver(v, vec, kind, false, 0)) {
		v->rip = here;
		return EMU_FAULT;
	}
	return EMU_JUMP;
}

/*
 * vmcall and vmmcall: KVM's hypercall instructions (either one, as KVM
 * takes both), so that a kernel written for KVM asks and gets "no such
 * hypercall" rather than a fault.  Trapeze's own hypercalls are int
 * $0x82 (hypercall.c).  RAX has the number and gets the result: -1000
 * (KVM_ENOSYS) for all but KVM_HC_VAPIC_POLL_IRQ, -1 (KVM_EPERM) from
 * CPL 3.
 */
static enum emu_result emulate_vmcall(struct vcpu *v, const cs_insn *insn)
{

	if (vcpu_cpl(v) != 0)
		v->gpr[RAX] = (uint64_t)-1;
	else if (v->gpr[RAX] == 1)
		v->gpr[RAX] = 0;
	else
		v->gpr[RAX] = (uint64_t)-1000;
	return EMU_NEXT;
}

const struct emu_entry emu_sys_table[] = {
	{ X86_INS_SYSCALL, emulate_syscall },
	{ X86_INS_SYSRET, emulate_sysret },
	{ X86_INS_INT, emulate_int },
	{ X86_INS_INT3, emulate_int },
	{ X86_INS_INT1, emulate_int },
	{ X86_INS_VMCALL, emulate_vmcall },
	{ X86_INS_VMMCALL, emulate_vmcall },
	{ 0, NULL },
};
