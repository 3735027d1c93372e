/*
 * Near indirect transfers: ret, jmp through a register or memory, call
 * through a register or memory.  They are not sensitive; the scanner
 * patches them only because their targets are known at run time alone,
 * and an unscanned target must be scanned before it runs (see engine/scan.c).
 * Emulating them is plain x86: compute the target, check it is canonical,
 * move the stack, set RIP.  The monitor checks the new RIP is scanned
 * before the guest resumes.
 */
#include "cpu/emulate.h"

static unsigned near_size(const struct vcpu *v, const cs_insn *insn)
{
	if (vcpu_mode(v) == MODE_LONG64)
		return x86(insn)->prefix[2] == X86_PREFIX_OPSIZE ? 2 : 8;
	return insn_opsize(v, insn);
}

static bool go(struct vcpu *v, uint64_t target, unsigned size)
{

	if (size < 8)
		target &= (1ull << (8 * size)) - 1;
	if (vcpu_mode(v) == MODE_LONG64 &&
	    (uint64_t)((int64_t)(target << 16) >> 16) != target) {
		vcpu_raise_gp(v, 0);
		return false;
	}
	v->rip = target;
	return true;
}

static enum emu_result emulate_ret(struct vcpu *v, const cs_insn *insn)
{
	unsigned size = near_size(v, insn);
	uint64_t imm = x86(insn)->op_count ? (uint64_t)x86(insn)->operands[0].imm
					   : 0;
	uint64_t target, rsp = v->gpr[RSP];

	if (!stack_pop(v, &target, size))
		return EMU_FAULT;
	if (!go(v, target, size)) {
		v->gpr[RSP] = rsp;
		return EMU_FAULT;
	}
	v->gpr[RSP] += imm;
	return EMU_JUMP;
}

/* jmp and call with an immediate target are direct: never patched. */
static enum emu_result emulate_jmp_call(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *op = &x86(insn)->operands[0];
	unsigned size = near_size(v, insn);
	uint64_t target, rsp = v->gpr[RSP];

	/* A direct call traps only when its stack is on a scanned code
	 * page (gmem.c sees whether the push overwrites code). */
	if (op->type == X86_OP_IMM)
		target = (uint64_t)op->imm;
	else if (!op_read(v, insn, op, &target))
		return EMU_FAULT;
	if (insn->id == X86_INS_CALL &&
	    !stack_push(v, v->rip + insn->size, size))
		return EMU_FAULT;
	if (!go(v, target, size)) {
		v->gpr[RSP] = rsp;
		return EMU_FAULT;
	}
	return EMU_JUMP;
}

const struct emu_entry emu_branch_table[] = {
	{ X86_INS_RET, emulate_ret },
	{ X86_INS_JMP, emulate_jmp_call },
	{ X86_INS_CALL, emulate_jmp_call },
	{ 0, NULL },
};
