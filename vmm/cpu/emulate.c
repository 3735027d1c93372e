/*
 * The emulator's dispatch (see emulate.h): the instruction at RIP is
 * fetched through the guest's page tables, decoded by Capstone (cached
 * by RIP), and handed by its id to the family that emulates it, one
 * function per instruction family in emu-*.c.  Nothing here allocates:
 * the table is built once at start-up.
 */
#include <assert.h>

#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "cpu/gmem.h"

static emu_fn table[EMU_IDS];

static void add_table(const struct emu_entry *t)
{
	for (; t->fn; t++) {
		assert(t->id < EMU_IDS && !table[t->id]);
		table[t->id] = t->fn;
	}
}

void emulate_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	operand_init();
	add_table(emu_io_table);
	add_table(emu_sysreg_table);
	add_table(emu_seg_table);
	add_table(emu_msr_table);
	add_table(emu_flags_table);
	add_table(emu_sys_table);
	add_table(emu_mem_table);
	add_table(emu_query_table);
	add_table(emu_branch_table);
	add_table(emu_plain_table);
}

emu_fn emulate_lookup(unsigned id)
{
	return id < EMU_IDS ? table[id] : NULL;
}

unsigned emu_id(const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);
	unsigned i;

	if (insn->id != X86_INS_MOV)
		return insn->id;
	for (i = 0; i < d->op_count; i++) {
		const cs_x86_op *op = &d->operands[i];

		if (op->type != X86_OP_REG)
			continue;
		if (reg_cr(op->reg) >= 0 || reg_dr(op->reg) >= 0)
			return EMU_MOV_CR;
		if (reg_sreg(op->reg) >= 0)
			return EMU_MOV_SREG;
	}
	return X86_INS_MOV;
}

/* Here the instruction reaches its family's emulator. */
enum emu_result emulate(struct vcpu *v, const cs_insn *insn)
{
	emu_fn fn = emulate_lookup(emu_id(insn));
	enum emu_result r;

	if (!fn)
		return EMU_NONE;
	r = fn(v, insn);
	if (r == EMU_NEXT || r == EMU_HALT) {
		v->rip += insn->size;
		if (vcpu_mode(v) != MODE_LONG64)
			v->rip &= 0xffffffffull;
	}
	return r;
}

enum emu_result emulate_insn(struct vcpu *v, const cs_insn *insn)
{
	enum emu_result r;

	v->stats.by_insn[insn->id]++;
	v->insn = insn;
	r = emulate(v, insn);
	if (r == EMU_HALT)
		v->halted = true;
	if (r == EMU_NEXT || r == EMU_JUMP || r == EMU_HALT)
		v->stats.emulated++;
	return r;
}

/* The instruction's bytes come through the guest's page tables, as the
 * processor's fetch would (a fetch that faults is the guest's #PF), and
 * the decoder caches what they mean by RIP. */
enum emu_result emulate_at_rip(struct vcpu *v)
{
	uint8_t bytes[INSN_MAX];
	uint32_t pf_err;
	size_t n = gmem_fetch(v, v->rip, bytes, sizeof(bytes), &pf_err);
	const cs_insn *insn;

	if (n == 0) {
		vcpu_raise_pf(v, v->rip, pf_err);
		return EMU_FAULT;
	}
	insn = decode(v->dec, vcpu_mode(v), v->rip, bytes, n);
	if (!insn)
		return EMU_NONE;
	return emulate_insn(v, insn);
}
