/*
 * Port I/O: in, out, ins, outs (every width, the imm8 and dx forms, rep).
 *
 * At host CPL 3 with IOPL 0 and no I/O bitmap, every port instruction
 * raises #GP; here it meets the guest's own rule instead (SDM vol. 1
 * 19.5): allowed when CPL <= IOPL, else only for ports the guest's TSS
 * I/O bitmap opens.  The bus (io.c) finds the device.
 */
#include "cpu/emulate.h"
#include "cpu/gmem.h"
#include "dev/io.h"

static bool bitmap_allows(struct vcpu *v, uint16_t port, unsigned size)
{
	uint16_t base, bits;

	if (v->tr.limit < 0x67 || (v->tr.sel & ~3u) == 0)
		return false;
	if (!gmem_read(v, v->tr.base + 0x66, &base, 2, ACC_SUPER))
		return false;
	if ((uint32_t)base + port / 8 + 1 > v->tr.limit)
		return false;
	if (!gmem_read(v, v->tr.base + base + port / 8, &bits, 2, ACC_SUPER))
		return false;
	return ((bits >> (port & 7)) & ((1u << size) - 1)) == 0;
}

static bool io_allowed(struct vcpu *v, uint16_t port, unsigned size)
{

	if (!(v->cr0 & CR0_PE) || vcpu_cpl(v) <= vcpu_iopl(v))
		return true;
	if (bitmap_allows(v, port, size))
		return true;
	if (!v->exc.pending)
		vcpu_raise_gp(v, 0);
	return false;
}

/* The port operand: an immediate or DX. */
static uint16_t port_of(const struct vcpu *v, const cs_x86_op *op)
{
	return op->type == X86_OP_IMM ? (uint16_t)op->imm
				      : (uint16_t)v->gpr[RDX];
}

static enum emu_result emulate_in(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	uint16_t port = port_of(v, &x86(insn)->operands[1]);
	uint32_t val = 0;

	if (!io_allowed(v, port, dst->size))
		return EMU_FAULT;
	io_port(v->io, port, dst->size, false, &val);
	reg_write(v, dst->reg, val);
	return EMU_NEXT;
}

static enum emu_result emulate_out(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *src = &x86(insn)->operands[1];
	uint16_t port = port_of(v, &x86(insn)->operands[0]);
	uint32_t val = (uint32_t)reg_read(v, src->reg);

	if (!io_allowed(v, port, src->size))
		return EMU_FAULT;
	io_port(v->io, port, src->size, true, &val);
	return EMU_NEXT;
}

/*
 * ins and outs, with or without rep.  Each element updates RSI/RDI and the
 * count as it completes, so a page fault in the middle leaves the
 * registers where the hardware would and the instruction restarts there.
 */
static enum emu_result emulate_string(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);
	bool out = insn->id == X86_INS_OUTSB || insn->id == X86_INS_OUTSW ||
		   insn->id == X86_INS_OUTSD;
	bool rep = d->prefix[0] == X86_PREFIX_REP ||
		   d->prefix[0] == X86_PREFIX_REPNE;
	unsigned size = insn_string_size(insn), asz = d->addr_size;
	uint64_t amask = asz == 8 ? ~0ull : (1ull << (8 * asz)) - 1;
	const cs_x86_op *mem = &d->operands[out ? 1 : 0];
	enum gpr ptr = out ? RSI : RDI;
	uint16_t port = (uint16_t)v->gpr[RDX];
	int64_t step = (v->rflags & RFLAGS_DF) ? -(int64_t)size : size;

	if (!io_allowed(v, port, size))
		return EMU_FAULT;
	while (!rep || (v->gpr[RCX] & amask)) {
		uint64_t addr = op_addr(v, insn, mem);
		uint32_t val = 0;

		if (out) {
			if (!gmem_read(v, addr, &val, size, 0))
				return EMU_FAULT;
			io_port(v->io, port, size, true, &val);
		} else {
			io_port(v->io, port, size, false, &val);
			if (!gmem_write(v, addr, &val, size, 0))
				return EMU_FAULT;
		}
		gpr_set_width(&v->gpr[ptr], v->gpr[ptr] + step, asz);
		if (!rep)
			break;
		gpr_set_width(&v->gpr[RCX], v->gpr[RCX] - 1, asz);
	}
	return EMU_NEXT;
}

const struct emu_entry emu_io_table[] = {
	{ X86_INS_IN, emulate_in },
	{ X86_INS_OUT, emulate_out },
	{ X86_INS_INSB, emulate_string },
	{ X86_INS_INSW, emulate_string },
	{ X86_INS_INSD, emulate_string },
	{ X86_INS_OUTSB, emulate_string },
	{ X86_INS_OUTSW, emulate_string },
	{ X86_INS_OUTSD, emulate_string },
	{ 0, NULL },
};
