/*
 * What the instruction families share (emulate.h): registers by
 * Capstone's name with x86's rules for partial writes, the address and
 * the value of a memory operand (through the guest's page tables, cpu/
 * gmem.c), the stack in each mode, operand sizes, and the flags an ALU
 * result leaves.  Nothing here allocates: the register table is built
 * once at start-up.
 */
#include <string.h>

#include "cpu/emulate.h"
#include "cpu/gmem.h"

struct reg_info {
	int8_t gpr;       /* GPR index, or -1 */
	uint8_t size;     /* bytes */
	uint8_t shift;    /* 8 for AH, CH, DH, BH */
	int8_t sreg, cr, dr;
};

static struct reg_info regs[X86_REG_ENDING];

void operand_init(void)
{
	static const x86_reg names[NR_GPRS][4] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
	};
	static const x86_reg high[4] = { X86_REG_AH, X86_REG_CH, X86_REG_DH,
					 X86_REG_BH };
	static const x86_reg sregs[NR_SREGS] = {
		X86_REG_ES, X86_REG_CS, X86_REG_SS, X86_REG_DS, X86_REG_FS,
		X86_REG_GS };
	static const uint8_t sizes[4] = { 8, 4, 2, 1 };
	unsigned i, j;

	for (i = 0; i < X86_REG_ENDING; i++)
		regs[i] = (struct reg_info){ -1, 0, 0, -1, -1, -1 };
	for (i = 0; i < NR_GPRS; i++)
		for (j = 0; j < 4; j++) {
			regs[names[i][j]].gpr = i;
			regs[names[i][j]].size = sizes[j];
		}
	for (i = 0; i < 4; i++) {
		regs[high[i]].gpr = i;
		regs[high[i]].size = 1;
		regs[high[i]].shift = 8;
	}
	for (i = 0; i < NR_SREGS; i++) {
		regs[sregs[i]].sreg = i;
		regs[sregs[i]].size = 2;
	}
	for (i = 0; i <= 15; i++) {
		regs[X86_REG_CR0 + i].cr = i;
		regs[X86_REG_CR0 + i].size = 8;
		regs[X86_REG_DR0 + i].dr = i;
		regs[X86_REG_DR0 + i].size = 8;
	}
}

/* ---- registers ------------------------------------------------------- */

int reg_gpr(x86_reg r)
{
	return r < X86_REG_ENDING ? regs[r].gpr : -1;
}

int reg_sreg(x86_reg r)
{
	return r < X86_REG_ENDING ? regs[r].sreg : -1;
}

int reg_cr(x86_reg r)
{
	return r < X86_REG_ENDING ? regs[r].cr : -1;
}

int reg_dr(x86_reg r)
{
	return r < X86_REG_ENDING ? regs[r].dr : -1;
}

uint64_t reg_read(const struct vcpu *v, x86_reg r)
{
	const struct reg_info *ri;

	if (r == X86_REG_RIP)
		return v->rip;
	if (r == X86_REG_EIP)
		return v->rip & 0xffffffffull;
	if (r >= X86_REG_ENDING)
		return 0;
	ri = &regs[r];
	if (ri->gpr >= 0)
		return (v->gpr[ri->gpr] >> ri->shift) & emu_mask(ri->size);
	if (ri->sreg >= 0)
		return v->seg[ri->sreg].sel;
	return 0;
}

void reg_write(struct vcpu *v, x86_reg r, uint64_t val)
{
	const struct reg_info *ri;
	uint64_t *g, m;

	if (r >= X86_REG_ENDING || regs[r].gpr < 0)
		return;
	ri = &regs[r];
	g = &v->gpr[ri->gpr];
	if (ri->size == 8) {
		*g = val;
	} else if (ri->size == 4) {
		*g = val & 0xffffffffull;
	} else {
		m = emu_mask(ri->size) << ri->shift;
		*g = (*g & ~m) | ((val << ri->shift) & m);
	}
}

void gpr_set_width(uint64_t *r, uint64_t val, unsigned width)
{
	if (width >= 8)
		*r = val;
	else if (width == 4)
		*r = val & 0xffffffffull;
	else
		*r = (*r & ~emu_mask(width)) | (val & emu_mask(width));
}

/* ---- operands -------------------------------------------------------- */

static enum sreg default_seg(const x86_op_mem *m)
{
	if (m->base == X86_REG_RSP || m->base == X86_REG_ESP ||
	    m->base == X86_REG_RBP || m->base == X86_REG_EBP ||
	    m->base == X86_REG_SP || m->base == X86_REG_BP)
		return SR_SS;
	return SR_DS;
}

uint64_t op_offset(const struct vcpu *v, const cs_insn *insn,
		   const cs_x86_op *op)
{
	const x86_op_mem *m = &op->mem;
	unsigned asz = x86(insn)->addr_size;
	uint64_t a = (uint64_t)m->disp;

	if (m->base == X86_REG_RIP || m->base == X86_REG_EIP)
		a += insn->address + insn->size;
	else if (m->base != X86_REG_INVALID)
		a += reg_read(v, m->base);
	if (m->index != X86_REG_INVALID)
		a += reg_read(v, m->index) * (uint64_t)m->scale;
	return a & emu_mask(asz ? asz : 8);
}

uint64_t op_addr(struct vcpu *v, const cs_insn *insn, const cs_x86_op *op)
{
	const x86_op_mem *m = &op->mem;
	uint64_t a = op_offset(v, insn, op);
	int sr;

	sr = m->segment != X86_REG_INVALID ? reg_sreg(m->segment)
					   : (int)default_seg(m);
	if (vcpu_mode(v) == MODE_LONG64) {
		if (sr == SR_FS || sr == SR_GS)
			a += v->seg[sr].base;
	} else {
		a = (a + v->seg[sr].base) & 0xffffffffull;
	}
	return a;
}

static unsigned stack_flag(const cs_x86_op *op)
{
	const x86_op_mem *m = &op->mem;

	return default_seg(m) == SR_SS && m->segment == X86_REG_INVALID
		       ? ACC_STACK
		       : 0;
}

bool op_read(struct vcpu *v, const cs_insn *insn, const cs_x86_op *op,
	     uint64_t *val)
{
	*val = 0;
	switch (op->type) {
	case X86_OP_REG:
		*val = reg_read(v, op->reg);
		return true;
	case X86_OP_IMM:
		*val = (uint64_t)op->imm & emu_mask(op->size);
		return true;
	case X86_OP_MEM:
		return gmem_read(v, op_addr(v, insn, op), val, op->size,
				 stack_flag(op));
	default:
		return true;
	}
}

bool op_write(struct vcpu *v, const cs_insn *insn, const cs_x86_op *op,
	      uint64_t val)
{
	switch (op->type) {
	case X86_OP_REG:
		reg_write(v, op->reg, val);
		return true;
	case X86_OP_MEM:
		return gmem_write(v, op_addr(v, insn, op), &val, op->size,
				  stack_flag(op));
	default:
		return true;
	}
}

unsigned insn_string_size(const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);

	if (!(d->opcode[0] & 1))
		return 1;
	if (d->rex & 8)
		return 8;
	return d->prefix[2] == X86_PREFIX_OPSIZE ? 2 : 4;
}

unsigned insn_opsize(const struct vcpu *v, const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);

	if (vcpu_mode(v) == MODE_LONG64) {
		if (d->rex & 8)
			return 8;
		return d->prefix[2] == X86_PREFIX_OPSIZE ? 2 : 4;
	}
	/* 32-bit code segments default to 32-bit operands. */
	if (v->seg[SR_CS].attr & SEG_DB)
		return d->prefix[2] == X86_PREFIX_OPSIZE ? 2 : 4;
	return d->prefix[2] == X86_PREFIX_OPSIZE ? 4 : 2;
}

/* ---- the stack ------------------------------------------------------- */

static unsigned stack_width(const struct vcpu *v)
{
	if (vcpu_mode(v) == MODE_LONG64)
		return 8;
	return (v->seg[SR_SS].attr & SEG_DB) ? 4 : 2;
}

static uint64_t stack_addr(const struct vcpu *v, uint64_t sp)
{
	if (vcpu_mode(v) == MODE_LONG64)
		return sp;
	return (sp & emu_mask(stack_width(v))) + v->seg[SR_SS].base;
}

static void set_sp(struct vcpu *v, uint64_t sp)
{
	unsigned w = stack_width(v);

	if (w == 8)
		v->gpr[RSP] = sp;
	else
		v->gpr[RSP] = (v->gpr[RSP] & ~emu_mask(w)) | (sp & emu_mask(w));
}

bool stack_push(struct vcpu *v, uint64_t val, unsigned size)
{
	uint64_t sp = v->gpr[RSP] - size;

	if (!gmem_write(v, stack_addr(v, sp), &val, size, ACC_STACK))
		return false;
	set_sp(v, sp);
	return true;
}

bool stack_peek(struct vcpu *v, unsigned offset, uint64_t *val, unsigned size)
{

	*val = 0;
	return gmem_read(v, stack_addr(v, v->gpr[RSP] + offset), val, size,
			 ACC_STACK);
}

bool stack_pop(struct vcpu *v, uint64_t *val, unsigned size)
{
	if (!stack_peek(v, 0, val, size))
		return false;
	set_sp(v, v->gpr[RSP] + size);
	return true;
}

bool require_cpl0(struct vcpu *v)
{
	if (vcpu_cpl(v) == 0)
		return true;
	vcpu_raise_gp(v, 0);
	return false;
}

void rflags_load(struct vcpu *v, uint64_t val, unsigned size, bool is_iret)
{
	unsigned cpl = vcpu_cpl(v);
	uint64_t keep = RFLAGS_VM | RFLAGS_VIF | RFLAGS_VIP;
	uint64_t changeable = RFLAGS_LIVE & ~keep;

	if (!is_iret)
		changeable &= ~RFLAGS_RF;
	if (cpl > 0)
		changeable &= ~RFLAGS_IOPL;
	if (cpl > vcpu_iopl(v))
		changeable &= ~RFLAGS_IF;
	if (size < 8)
		changeable &= emu_mask(size);
	v->rflags = (v->rflags & ~changeable) | (val & changeable) |
		    RFLAGS_FIXED;
}

/* ---- flags ---------------------------------------------------------- */

static bool parity_even(uint64_t r)
{
	return !__builtin_parity((unsigned)(r & 0xff));
}

void emu_set_flags(struct vcpu *v, uint64_t r, unsigned size, bool cf,
		   bool of, bool af)
{
	uint64_t f = v->rflags & ~RFLAGS_ARITH;

	r &= emu_mask(size);
	if (cf)
		f |= RFLAGS_CF;
	if (of)
		f |= RFLAGS_OF;
	if (af)
		f |= RFLAGS_AF;
	if (r == 0)
		f |= RFLAGS_ZF;
	if (r >> (8 * size - 1))
		f |= RFLAGS_SF;
	if (parity_even(r))
		f |= RFLAGS_PF;
	v->rflags = f;
}
