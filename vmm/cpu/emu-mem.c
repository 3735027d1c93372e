/*
 * Ordinary instructions with a memory operand, emulated when the access
 * cannot run natively: a store to a guest page table (write-protected by
 * the shadow MMU so that every change to it is seen), or an access to
 * device memory.  (mov to or from a control, debug or segment register
 * belongs to other families: emulate.c's emu_id.)
 *
 * Flags are computed as the SDM's flag tables say (vol. 1 appendix A);
 * an emulated `lock` instruction is atomic because the vCPU is stopped.
 */
#include "cpu/emulate.h"
#include "cpu/gmem.h"

/* a op b with flags, for the two-operand ALU instructions. */
static uint64_t alu(struct vcpu *v, unsigned id, uint64_t a, uint64_t b,
		    unsigned size)
{
	uint64_t m = emu_mask(size), top = 1ull << (8 * size - 1);
	unsigned __int128 wide;
	uint64_t r, carry = (v->rflags & RFLAGS_CF) ? 1 : 0;

	a &= m, b &= m;
	switch (id) {
	case X86_INS_AND: case X86_INS_TEST: r = a & b; break;
	case X86_INS_OR: r = a | b; break;
	case X86_INS_XOR: r = a ^ b; break;
	case X86_INS_ADD: case X86_INS_ADC:
		if (id == X86_INS_ADD)
			carry = 0;
		wide = (unsigned __int128)a + b + carry;
		r = (uint64_t)wide & m;
		emu_set_flags(v, r, size,
			  size == 8 ? (wide >> 64) != 0 : ((uint64_t)wide >> (8 * size)) != 0,
			  ((a ^ r) & (b ^ r) & top) != 0, ((a ^ b ^ r) >> 4) & 1);
		return r;
	case X86_INS_SUB: case X86_INS_SBB: case X86_INS_CMP:
		if (id != X86_INS_SBB)
			carry = 0;
		r = (a - b - carry) & m;
		emu_set_flags(v, r, size,
			  (unsigned __int128)a < (unsigned __int128)b + carry,
			  ((a ^ b) & (a ^ r) & top) != 0, ((a ^ b ^ r) >> 4) & 1);
		return r;
	default:
		return a;
	}
	emu_set_flags(v, r, size, false, false, false);
	return r;
}

static enum emu_result emulate_alu(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	uint64_t a, b, r;

	if (!op_read(v, insn, dst, &a) || !op_read(v, insn, src, &b))
		return EMU_FAULT;
	if (src->type == X86_OP_IMM)
		b = (uint64_t)src->imm;   /* sign-extended by the encoding */
	r = alu(v, insn->id, a, b, dst->size);
	if (insn->id == X86_INS_CMP || insn->id == X86_INS_TEST)
		return EMU_NEXT;
	return op_write(v, insn, dst, r) ? EMU_NEXT : EMU_FAULT;
}

static enum emu_result emulate_incdec(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	uint64_t a, r, cf = v->rflags & RFLAGS_CF;

	if (!op_read(v, insn, dst, &a))
		return EMU_FAULT;
	r = alu(v, insn->id == X86_INS_INC ? X86_INS_ADD : X86_INS_SUB, a, 1,
		dst->size);
	v->rflags = (v->rflags & ~RFLAGS_CF) | cf;   /* CF is untouched */
	return op_write(v, insn, dst, r) ? EMU_NEXT : EMU_FAULT;
}

/* not (no flags) and neg (flags of 0 - x; CF unless x was 0). */
static enum emu_result emulate_notneg(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	uint64_t a, r;

	if (!op_read(v, insn, dst, &a))
		return EMU_FAULT;
	if (insn->id == X86_INS_NOT)
		r = ~a;
	else
		r = alu(v, X86_INS_SUB, 0, a, dst->size);
	return op_write(v, insn, dst, r & emu_mask(dst->size)) ? EMU_NEXT
							      : EMU_FAULT;
}

/* xadd: the destination gets the sum, the source its old value. */
static enum emu_result emulate_xadd(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	uint64_t a, b, r;

	if (!op_read(v, insn, dst, &a) || !op_read(v, insn, src, &b))
		return EMU_FAULT;
	r = alu(v, X86_INS_ADD, a, b, dst->size);
	if (!op_write(v, insn, dst, r))
		return EMU_FAULT;
	return op_write(v, insn, src, a) ? EMU_NEXT : EMU_FAULT;
}

static enum emu_result emulate_mov_mem(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	uint64_t val;

	if (!op_read(v, insn, src, &val))
		return EMU_FAULT;
	if (src->type == X86_OP_IMM)
		val = (uint64_t)src->imm & emu_mask(dst->size);
	return op_write(v, insn, dst, val) ? EMU_NEXT : EMU_FAULT;
}

static enum emu_result emulate_movx(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	uint64_t val;

	if (!op_read(v, insn, src, &val))
		return EMU_FAULT;
	if (insn->id != X86_INS_MOVZX)
		val = (uint64_t)emu_sign_extend(val, src->size);
	reg_write(v, dst->reg, val & emu_mask(dst->size));
	return EMU_NEXT;
}

static enum emu_result emulate_xchg(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *a = &x86(insn)->operands[0];
	const cs_x86_op *b = &x86(insn)->operands[1];
	uint64_t va, vb;

	if (!op_read(v, insn, a, &va) || !op_read(v, insn, b, &vb))
		return EMU_FAULT;
	/* Memory first: if the store faults, the register is unchanged. */
	if (a->type == X86_OP_MEM)
		return op_write(v, insn, a, vb) &&
			       op_write(v, insn, b, va) ? EMU_NEXT : EMU_FAULT;
	return op_write(v, insn, b, va) && op_write(v, insn, a, vb)
		       ? EMU_NEXT
		       : EMU_FAULT;
}

static enum emu_result emulate_cmpxchg(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	unsigned size = dst->size;
	uint64_t cur, acc = v->gpr[RAX] & emu_mask(size), nv;

	if (!op_read(v, insn, dst, &cur) || !op_read(v, insn, src, &nv))
		return EMU_FAULT;
	alu(v, X86_INS_CMP, acc, cur, size);
	if (acc == cur)
		return op_write(v, insn, dst, nv) ? EMU_NEXT : EMU_FAULT;
	/* The destination is written back unchanged, as the SDM says. */
	if (!op_write(v, insn, dst, cur))
		return EMU_FAULT;
	if (size == 4)
		v->gpr[RAX] = cur;
	else
		v->gpr[RAX] = (v->gpr[RAX] & ~emu_mask(size)) | cur;
	return EMU_NEXT;
}

/* bt, bts, btr, btc with a memory operand: a register bit offset reaches
 * anywhere in the bit string (SDM vol. 2 BT). */
static enum emu_result emulate_bt(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	unsigned bits = 8 * dst->size;
	uint64_t off, addr, word = 0;
	int64_t soff;

	if (!op_read(v, insn, src, &off))
		return EMU_FAULT;
	if (dst->type != X86_OP_MEM)
		return EMU_NONE;
	addr = op_addr(v, insn, dst);
	if (src->type == X86_OP_REG) {
		soff = emu_sign_extend(off, src->size);
		addr += (uint64_t)((soff >> (bits == 64 ? 6 : bits == 32 ? 5
							     : 4)) *
				   (int64_t)dst->size);
		off = (uint64_t)soff & (bits - 1);
	} else {
		off &= bits - 1;
	}
	if (!gmem_read(v, addr, &word, dst->size, 0))
		return EMU_FAULT;
	v->rflags = (v->rflags & ~RFLAGS_CF) |
		    (((word >> off) & 1) ? RFLAGS_CF : 0);
	switch (insn->id) {
	case X86_INS_BTS: word |= 1ull << off; break;
	case X86_INS_BTR: word &= ~(1ull << off); break;
	case X86_INS_BTC: word ^= 1ull << off; break;
	default: return EMU_NEXT;
	}
	return gmem_write(v, addr, &word, dst->size, 0) ? EMU_NEXT : EMU_FAULT;
}

/* The string instructions, with rep, repe and repne: each element
 * completes before the next, so a fault leaves RCX/RSI/RDI where the
 * hardware would.  Which index registers each one steps, and whether it
 * compares (SDM vol. 1 7.3.9). */
enum { S_SRC = 1, S_DST = 2, S_CMP = 4, S_TO_ACC = 8 };

static unsigned string_kind(unsigned id)
{
	switch (id) {
	case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD:
	case X86_INS_STOSQ:
		return S_DST;
	case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD:
	case X86_INS_MOVSQ:
		return S_SRC | S_DST;
	case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD:
	case X86_INS_LODSQ:
		return S_SRC | S_TO_ACC;
	case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD:
	case X86_INS_SCASQ:
		return S_DST | S_CMP;
	case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD:
	case X86_INS_CMPSQ:
		return S_SRC | S_DST | S_CMP;
	}
	return 0;
}

static enum emu_result emulate_string(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);
	unsigned kind = string_kind(insn->id), i, nmem = 0;
	bool rep = d->prefix[0] == X86_PREFIX_REP ||
		   d->prefix[0] == X86_PREFIX_REPNE;
	bool repne = d->prefix[0] == X86_PREFIX_REPNE;
	unsigned size = insn_string_size(insn), asz = d->addr_size;
	uint64_t amask = emu_mask(asz), m = emu_mask(size);
	int64_t step = (v->rflags & RFLAGS_DF) ? -(int64_t)size : size;

	/* X86_INS_MOVSD and CMPSD are also SSE's: those have XMM operands. */
	for (i = 0; i < d->op_count; i++)
		nmem += d->operands[i].type == X86_OP_MEM;
	if (nmem != (unsigned)((kind & S_SRC) != 0) + ((kind & S_DST) != 0))
		return EMU_NONE;
	while (!rep || (v->gpr[RCX] & amask)) {
		uint64_t src = v->gpr[RAX], dst = 0;

		/* [rsi] is Capstone's first operand of cmps, else its
		 * second (after [rdi] or the accumulator). */
		if ((kind & S_SRC) &&
		    !gmem_read(v, op_addr(v, insn, &d->operands[
					   (kind & S_CMP) ? 0 : 1]),
			       &src, size, 0))
			return EMU_FAULT;
		if (kind & S_CMP) {
			if (!gmem_read(v, op_addr(v, insn, &d->operands[1]),
				       &dst, size, 0))
				return EMU_FAULT;
			/* cmps: [rsi] - [rdi]; scas: acc - [rdi] */
			alu(v, X86_INS_CMP, src & m, dst & m, size);
		} else if (kind & S_TO_ACC) {
			if (size == 4)
				v->gpr[RAX] = src & m;
			else
				v->gpr[RAX] = (v->gpr[RAX] & ~m) | (src & m);
		} else if (!gmem_write(v, op_addr(v, insn, &d->operands[0]),
				       &src, size, 0)) {
			return EMU_FAULT;
		}
		if (kind & S_DST)
			gpr_set_width(&v->gpr[RDI], v->gpr[RDI] + step, asz);
		if (kind & S_SRC)
			gpr_set_width(&v->gpr[RSI], v->gpr[RSI] + step, asz);
		if (!rep)
			break;
		gpr_set_width(&v->gpr[RCX], v->gpr[RCX] - 1, asz);
		if ((kind & S_CMP) &&
		    !!(v->rflags & RFLAGS_ZF) == repne)
			break;
	}
	return EMU_NEXT;
}

const struct emu_entry emu_mem_table[] = {
	{ X86_INS_MOV, emulate_mov_mem },
	{ X86_INS_MOVABS, emulate_mov_mem },
	{ X86_INS_MOVZX, emulate_movx },
	{ X86_INS_MOVSX, emulate_movx },
	{ X86_INS_MOVSXD, emulate_movx },
	{ X86_INS_XCHG, emulate_xchg },
	{ X86_INS_CMPXCHG, emulate_cmpxchg },
	{ X86_INS_AND, emulate_alu },
	{ X86_INS_OR, emulate_alu },
	{ X86_INS_XOR, emulate_alu },
	{ X86_INS_ADD, emulate_alu },
	{ X86_INS_ADC, emulate_alu },
	{ X86_INS_SUB, emulate_alu },
	{ X86_INS_SBB, emulate_alu },
	{ X86_INS_CMP, emulate_alu },
	{ X86_INS_TEST, emulate_alu },
	{ X86_INS_NOT, emulate_notneg },
	{ X86_INS_NEG, emulate_notneg },
	{ X86_INS_XADD, emulate_xadd },
	{ X86_INS_INC, emulate_incdec },
	{ X86_INS_DEC, emulate_incdec },
	{ X86_INS_BT, emulate_bt },
	{ X86_INS_BTS, emulate_bt },
	{ X86_INS_BTR, emulate_bt },
	{ X86_INS_BTC, emulate_bt },
	{ X86_INS_STOSB, emulate_string },
	{ X86_INS_STOSW, emulate_string },
	{ X86_INS_STOSD, emulate_string },
	{ X86_INS_STOSQ, emulate_string },
	{ X86_INS_MOVSB, emulate_string },
	{ X86_INS_MOVSW, emulate_string },
	{ X86_INS_MOVSD, emulate_string },
	{ X86_INS_MOVSQ, emulate_string },
	{ X86_INS_LODSB, emulate_string },
	{ X86_INS_LODSW, emulate_string },
	{ X86_INS_LODSD, emulate_string },
	{ X86_INS_LODSQ, emulate_string },
	{ X86_INS_SCASB, emulate_string },
	{ X86_INS_SCASW, emulate_string },
	{ X86_INS_SCASD, emulate_string },
	{ X86_INS_SCASQ, emulate_string },
	{ X86_INS_CMPSB, emulate_string },
	{ X86_INS_CMPSW, emulate_string },
	{ X86_INS_CMPSD, emulate_string },
	{ X86_INS_CMPSQ, emulate_string },
	{ 0, NULL },
};
