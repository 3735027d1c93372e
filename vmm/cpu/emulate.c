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
static bool ordinary[X86_INS_ENDING];

/*
 * The instructions the emulator knows only for where they touch memory
 * that cannot be reached natively (a device, a page table, the upper
 * half): anywhere else they run natively, and the same.
 */
static void init_ordinary(void)
{
	static const unsigned ids[] = {
		X86_INS_MOV, X86_INS_MOVABS, X86_INS_MOVZX, X86_INS_MOVSX,
		X86_INS_MOVSXD, X86_INS_LEA, X86_INS_NOP, X86_INS_XCHG,
		X86_INS_ADD, X86_INS_ADC, X86_INS_SUB, X86_INS_SBB,
		X86_INS_AND, X86_INS_OR, X86_INS_XOR, X86_INS_CMP,
		X86_INS_TEST, X86_INS_INC, X86_INS_DEC, X86_INS_NOT,
		X86_INS_NEG, X86_INS_PUSH, X86_INS_POP, X86_INS_JMP,
		X86_INS_CALL, X86_INS_LEAVE, X86_INS_SHL, X86_INS_SAL,
		X86_INS_SHR, X86_INS_SAR, X86_INS_IMUL,
		X86_INS_STOSB, X86_INS_STOSW, X86_INS_STOSD, X86_INS_STOSQ,
		X86_INS_MOVSB, X86_INS_MOVSW, X86_INS_MOVSD, X86_INS_MOVSQ,
		X86_INS_LODSB, X86_INS_LODSW, X86_INS_LODSD, X86_INS_LODSQ,
		X86_INS_SCASB, X86_INS_SCASW, X86_INS_SCASD, X86_INS_SCASQ,
		X86_INS_CMPSB, X86_INS_CMPSW, X86_INS_CMPSD, X86_INS_CMPSQ,
		X86_INS_BT, X86_INS_BTS, X86_INS_BTR, X86_INS_BTC,
		X86_INS_CMPXCHG, X86_INS_XADD,
	};
	const struct emu_entry *e;
	unsigned i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ordinary[ids[i]] = true;
	for (e = emu_plain_table; e->fn; e++)
		ordinary[e->id] = true;
}

bool emulate_is_ordinary(unsigned id)
{
	return id < X86_INS_ENDING && ordinary[id];
}

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
	init_ordinary();
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
 * processor's fetch would (a fetch that faults is the guest's #PF, or
 * #GP at a non-canonical address), and
 * the decoder caches what they mean by RIP. */
enum emu_result emulate_at_rip(struct vcpu *v)
{
	uint8_t bytes[INSN_MAX];
	uint32_t pf_err;
	size_t n = gmem_fetch(v, v->rip, bytes, sizeof(bytes), &pf_err);
	const cs_insn *insn;

	if (n == 0) {
		if (!gva_canonical(v, v->rip))
			vcpu_raise_gp(v, 0);      /* (SDM: a fetch there) */
		else
			vcpu_raise_pf(v, v->rip, pf_err);
		return EMU_FAULT;
	}
	insn = decode(v->dec, vcpu_mode(v), v->rip, bytes, n);
	if (!insn)
		return EMU_NONE;
	return emulate_insn(v, insn);
}
