/*
 * Ordinary register and flag instructions: conditional jumps, setcc and
 * cmovcc, lea, leave, nop, shifts and imul.  None of them ever traps by
 * itself.  The monitor emulates them when they touch device memory, and
 * when it runs ahead of a trap (ahead.c) through the few instructions
 * between two that would trap.  Flags follow the SDM's instruction
 * pages; where the SDM leaves a flag undefined it is computed from the
 * result as for the arithmetic instructions.
 */
#include "cpu/emulate.h"
#include "cpu/gmem.h"

/* The x86 condition code (the low nibble of jcc's opcode) of an id. */
static int condition_code(unsigned id)
{
	switch (id) {
	case X86_INS_JO: case X86_INS_SETO: case X86_INS_CMOVO: return 0;
	case X86_INS_JNO: case X86_INS_SETNO: case X86_INS_CMOVNO: return 1;
	case X86_INS_JB: case X86_INS_SETB: case X86_INS_CMOVB: return 2;
	case X86_INS_JAE: case X86_INS_SETAE: case X86_INS_CMOVAE: return 3;
	case X86_INS_JE: case X86_INS_SETE: case X86_INS_CMOVE: return 4;
	case X86_INS_JNE: case X86_INS_SETNE: case X86_INS_CMOVNE: return 5;
	case X86_INS_JBE: case X86_INS_SETBE: case X86_INS_CMOVBE: return 6;
	case X86_INS_JA: case X86_INS_SETA: case X86_INS_CMOVA: return 7;
	case X86_INS_JS: case X86_INS_SETS: case X86_INS_CMOVS: return 8;
	case X86_INS_JNS: case X86_INS_SETNS: case X86_INS_CMOVNS: return 9;
	case X86_INS_JP: case X86_INS_SETP: case X86_INS_CMOVP: return 10;
	case X86_INS_JNP: case X86_INS_SETNP: case X86_INS_CMOVNP: return 11;
	case X86_INS_JL: case X86_INS_SETL: case X86_INS_CMOVL: return 12;
	case X86_INS_JGE: case X86_INS_SETGE: case X86_INS_CMOVGE: return 13;
	case X86_INS_JLE: case X86_INS_SETLE: case X86_INS_CMOVLE: return 14;
	case X86_INS_JG: case X86_INS_SETG: case X86_INS_CMOVG: return 15;
	default: return -1;
	}
}

bool emu_condition(const struct vcpu *v, unsigned id)
{
	uint64_t f = v->rflags;
	bool cf = f & RFLAGS_CF, zf = f & RFLAGS_ZF, sf = f & RFLAGS_SF,
	     of = f & RFLAGS_OF, pf = f & RFLAGS_PF, holds;
	int cc = condition_code(id);

	switch (cc >> 1) {
	case 0: holds = of; break;
	case 1: holds = cf; break;
	case 2: holds = zf; break;
	case 3: holds = cf || zf; break;
	case 4: holds = sf; break;
	case 5: holds = pf; break;
	case 6: holds = sf != of; break;
	default: holds = zf || sf != of; break;
	}
	return (cc & 1) ? !holds : holds;
}

/* Where a near branch goes: the target wraps at the operand size. */
static enum emu_result branch_to(struct vcpu *v, const cs_insn *insn,
				 uint64_t target)
{
	if (vcpu_mode(v) != MODE_LONG64)
		target &= emu_mask(insn_opsize(v, insn));
	v->rip = target;
	return EMU_JUMP;
}

static enum emu_result emulate_jcc(struct vcpu *v, const cs_insn *insn)
{
	bool taken;

	switch (insn->id) {
	case X86_INS_JCXZ:
		taken = (v->gpr[RCX] & 0xffff) == 0;
		break;
	case X86_INS_JECXZ:
		taken = (v->gpr[RCX] & 0xffffffffull) == 0;
		break;
	case X86_INS_JRCXZ:
		taken = v->gpr[RCX] == 0;
		break;
	default:
		taken = emu_condition(v, insn->id);
	}
	if (!taken)
		return EMU_NEXT;
	return branch_to(v, insn, (uint64_t)x86(insn)->operands[0].imm);
}

static enum emu_result emulate_setcc(struct vcpu *v, const cs_insn *insn)
{
	return op_write(v, insn, &x86(insn)->operands[0],
			emu_condition(v, insn->id))
		       ? EMU_NEXT
		       : EMU_FAULT;
}

/* The source is read whether or not the condition holds, as the CPU
 * does; a 32-bit destination is zero-extended either way. */
static enum emu_result emulate_cmovcc(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	uint64_t src, old;

	if (!op_read(v, insn, &x86(insn)->operands[1], &src))
		return EMU_FAULT;
	old = reg_read(v, dst->reg);
	reg_write(v, dst->reg,
		  emu_condition(v, insn->id) ? src : old);
	return EMU_NEXT;
}

/* The effective address, without the segment base, at the address size. */
static enum emu_result emulate_lea(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	uint64_t a = op_offset(v, insn, &x86(insn)->operands[1]);

	reg_write(v, dst->reg, a & emu_mask(dst->size));
	return EMU_NEXT;
}

static enum emu_result emulate_nop(struct vcpu *v, const cs_insn *insn)
{
	(void)v, (void)insn;
	return EMU_NEXT;
}

/* leave: the stack pointer takes the frame pointer, which is popped. */
/* enter size, level (SDM vol. 2 ENTER): a frame for a procedure,
 * level - 1 outer frame pointers copied into it.  Everything is read
 * and pushed before RSP and RBP change, so a fault leaves them. */
static enum emu_result emulate_enter(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86 *x = x86(insn);
	uint64_t rsp = v->gpr[RSP], rbp = v->gpr[RBP], frame, val;
	unsigned size, width, level = (unsigned)x->operands[1].imm & 31, i;

	if (vcpu_mode(v) == MODE_LONG64) {
		size = x->prefix[2] == X86_PREFIX_OPSIZE ? 2 : 8;
		width = 8;
	} else {
		size = insn_opsize(v, insn);
		width = (v->seg[SR_SS].attr & SEG_DB) ? 4 : 2;
	}
	if (!stack_push(v, rbp, size))
		goto fault;
	frame = v->gpr[RSP];
	for (i = 1; i < level; i++) {
		rbp -= size;
		if (!gmem_read(v, rbp & emu_mask(width), &val, size, 0) ||
		    !stack_push(v, val, size))
			goto fault;
	}
	if (level && !stack_push(v, frame, size))
		goto fault;
	gpr_set_width(&v->gpr[RBP], frame, size);
	gpr_set_width(&v->gpr[RSP],
		      v->gpr[RSP] - (uint64_t)(x->operands[0].imm & 0xffff),
		      width);
	return EMU_NEXT;
fault:
	v->gpr[RSP] = rsp;
	return EMU_FAULT;
}

static enum emu_result emulate_leave(struct vcpu *v, const cs_insn *insn)
{
	unsigned size, width;
	uint64_t rsp = v->gpr[RSP], val;

	if (vcpu_mode(v) == MODE_LONG64) {
		size = x86(insn)->prefix[2] == X86_PREFIX_OPSIZE ? 2 : 8;
		width = 8;
	} else {
		size = insn_opsize(v, insn);
		width = (v->seg[SR_SS].attr & SEG_DB) ? 4 : 2;
	}
	gpr_set_width(&v->gpr[RSP], v->gpr[RBP], width);
	if (!stack_pop(v, &val, size)) {
		v->gpr[RSP] = rsp;
		return EMU_FAULT;
	}
	gpr_set_width(&v->gpr[RBP], val, size);
	return EMU_NEXT;
}

/* pusha/popa (32-bit code): the eight registers in the order of their
 * numbers, the stack pointer as it was before pusha, skipped by popa. */
static enum emu_result emulate_pusha(struct vcpu *v, const cs_insn *insn)
{
	unsigned size = insn->id == X86_INS_PUSHAW ? 2 : 4, r;
	uint64_t rsp = v->gpr[RSP];

	for (r = RAX; r <= RDI; r++)
		if (!stack_push(v, r == RSP ? rsp : v->gpr[r], size)) {
			v->gpr[RSP] = rsp;
			return EMU_FAULT;
		}
	return EMU_NEXT;
}

static enum emu_result emulate_popa(struct vcpu *v, const cs_insn *insn)
{
	unsigned size = insn->id == X86_INS_POPAW ? 2 : 4, r;
	uint64_t rsp = v->gpr[RSP], val[8];

	for (r = 8; r-- > 0;)
		if (!stack_pop(v, &val[r], size)) {
			v->gpr[RSP] = rsp;
			return EMU_FAULT;
		}
	for (r = RAX; r <= RDI; r++)
		if (r != RSP)
			gpr_set_width(&v->gpr[r], val[r], size);
	return EMU_NEXT;
}

/*
 * shl/sal, shr, sar by an immediate, by CL or by one.  The count is
 * masked to 5 bits (6 for 64-bit operands); a count of 0 changes
 * nothing, flags included.  CF is the last bit shifted out; OF is defined
 * for a count of 1 only, and is computed the same way for larger ones.
 */
static enum emu_result emulate_shift(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);
	const cs_x86_op *dst = &d->operands[0];
	unsigned size = dst->size, bits = 8 * size;
	uint64_t a, count = 1, r, m = emu_mask(size), top = 1ull << (bits - 1);
	bool cf, of;

	if (!op_read(v, insn, dst, &a))
		return EMU_FAULT;
	if (d->op_count > 1 && !op_read(v, insn, &d->operands[1], &count))
		return EMU_FAULT;
	count &= size == 8 ? 0x3f : 0x1f;
	if (count == 0)
		return EMU_NEXT;
	a &= m;
	switch (insn->id) {
	case X86_INS_SHL: case X86_INS_SAL:
		r = count < 64 ? (a << count) & m : 0;
		cf = count <= bits && ((a >> (bits - count)) & 1);
		of = ((r & top) != 0) != cf;
		break;
	case X86_INS_SHR:
		r = count < 64 ? a >> count : 0;
		cf = count <= bits && ((a >> (count - 1)) & 1);
		of = (a & top) != 0;
		break;
	default: /* SAR */
		r = (uint64_t)(emu_sign_extend(a, size) >>
			       (count < bits ? count : bits - 1)) & m;
		cf = (uint64_t)(emu_sign_extend(a, size) >>
				(count - 1 < bits ? count - 1 : bits - 1)) & 1;
		of = false;
	}
	emu_set_flags(v, r, size, cf, of, false);
	return op_write(v, insn, dst, r) ? EMU_NEXT : EMU_FAULT;
}

/*
 * imul in its three forms: one operand (the double-width product in
 * AX, DX:AX, EDX:EAX or RDX:RAX), two (dst *= src) and three (dst =
 * src * imm).  CF and OF say whether the product lost significant bits.
 */
static enum emu_result emulate_imul(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);
	unsigned size = d->operands[0].size;
	uint64_t a, b, lo;
	__int128 prod;
	bool lost;

	if (d->op_count == 1) {
		if (!op_read(v, insn, &d->operands[0], &b))
			return EMU_FAULT;
		a = v->gpr[RAX];
	} else if (d->op_count == 2) {
		if (!op_read(v, insn, &d->operands[0], &a) ||
		    !op_read(v, insn, &d->operands[1], &b))
			return EMU_FAULT;
	} else {
		if (!op_read(v, insn, &d->operands[1], &a))
			return EMU_FAULT;
		b = (uint64_t)d->operands[2].imm;
	}
	prod = (__int128)emu_sign_extend(a & emu_mask(size), size) *
	       emu_sign_extend(b & emu_mask(size), size);
	lo = (uint64_t)prod & emu_mask(size);
	lost = (__int128)emu_sign_extend(lo, size) != prod;
	emu_set_flags(v, lo, size, lost, lost, false);
	if (d->op_count > 1) {
		reg_write(v, d->operands[0].reg, lo);
		return EMU_NEXT;
	}
	if (size == 1) {
		gpr_set_width(&v->gpr[RAX], (uint64_t)prod & 0xffff, 2);
	} else {
		gpr_set_width(&v->gpr[RAX], lo, size);
		gpr_set_width(&v->gpr[RDX],
			      (uint64_t)(prod >> (8 * size)) & emu_mask(size),
			      size);
	}
	return EMU_NEXT;
}

const struct emu_entry emu_plain_table[] = {
	{ X86_INS_JO, emulate_jcc }, { X86_INS_JNO, emulate_jcc },
	{ X86_INS_JB, emulate_jcc }, { X86_INS_JAE, emulate_jcc },
	{ X86_INS_JE, emulate_jcc }, { X86_INS_JNE, emulate_jcc },
	{ X86_INS_JBE, emulate_jcc }, { X86_INS_JA, emulate_jcc },
	{ X86_INS_JS, emulate_jcc }, { X86_INS_JNS, emulate_jcc },
	{ X86_INS_JP, emulate_jcc }, { X86_INS_JNP, emulate_jcc },
	{ X86_INS_JL, emulate_jcc }, { X86_INS_JGE, emulate_jcc },
	{ X86_INS_JLE, emulate_jcc }, { X86_INS_JG, emulate_jcc },
	{ X86_INS_JCXZ, emulate_jcc }, { X86_INS_JECXZ, emulate_jcc },
	{ X86_INS_JRCXZ, emulate_jcc },
	{ X86_INS_SETO, emulate_setcc }, { X86_INS_SETNO, emulate_setcc },
	{ X86_INS_SETB, emulate_setcc }, { X86_INS_SETAE, emulate_setcc },
	{ X86_INS_SETE, emulate_setcc }, { X86_INS_SETNE, emulate_setcc },
	{ X86_INS_SETBE, emulate_setcc }, { X86_INS_SETA, emulate_setcc },
	{ X86_INS_SETS, emulate_setcc }, { X86_INS_SETNS, emulate_setcc },
	{ X86_INS_SETP, emulate_setcc }, { X86_INS_SETNP, emulate_setcc },
	{ X86_INS_SETL, emulate_setcc }, { X86_INS_SETGE, emulate_setcc },
	{ X86_INS_SETLE, emulate_setcc }, { X86_INS_SETG, emulate_setcc },
	{ X86_INS_CMOVO, emulate_cmovcc }, { X86_INS_CMOVNO, emulate_cmovcc },
	{ X86_INS_CMOVB, emulate_cmovcc }, { X86_INS_CMOVAE, emulate_cmovcc },
	{ X86_INS_CMOVE, emulate_cmovcc }, { X86_INS_CMOVNE, emulate_cmovcc },
	{ X86_INS_CMOVBE, emulate_cmovcc }, { X86_INS_CMOVA, emulate_cmovcc },
	{ X86_INS_CMOVS, emulate_cmovcc }, { X86_INS_CMOVNS, emulate_cmovcc },
	{ X86_INS_CMOVP, emulate_cmovcc }, { X86_INS_CMOVNP, emulate_cmovcc },
	{ X86_INS_CMOVL, emulate_cmovcc }, { X86_INS_CMOVGE, emulate_cmovcc },
	{ X86_INS_CMOVLE, emulate_cmovcc }, { X86_INS_CMOVG, emulate_cmovcc },
	{ X86_INS_LEA, emulate_lea },
	{ X86_INS_NOP, emulate_nop },
	{ X86_INS_LEAVE, emulate_leave },
	{ X86_INS_ENTER, emulate_enter },
	{ X86_INS_PUSHAL, emulate_pusha },
	{ X86_INS_PUSHAW, emulate_pusha },
	{ X86_INS_POPAL, emulate_popa },
	{ X86_INS_POPAW, emulate_popa },
	{ X86_INS_SHL, emulate_shift },
	{ X86_INS_SAL, emulate_shift },
	{ X86_INS_SHR, emulate_shift },
	{ X86_INS_SAR, emulate_shift },
	{ X86_INS_IMUL, emulate_imul },
	{ 0, NULL },
};
