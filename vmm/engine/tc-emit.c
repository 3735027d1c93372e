/*
 * One guest instruction, as the translator's cache runs it (see
 * translate.h).  Each becomes one of:
 *
 *   - itself, copied ("IDENT"): nearly every instruction.  A privileged
 *     one the emulator does not take first traps by itself, and the trap
 *     is the guest's (tc_leave);
 *   - itself with its RIP-relative operand made absolute: [disp32] when
 *     the address fits, else the address in a borrowed register;
 *   - a branch: jcc and jmp to a link (a callout until its target is
 *     translated, then a jmp there), call as the push of the guest's
 *     return address and a link;
 *   - an indirect branch (ret, jmp or call through a register or memory):
 *         mov %rcx,slot0(%rip)       borrow rcx
 *         mov TARGET,%rcx            the guest's target (from the stack...)
 *         mov %rcx,target(%rip)      ...where a trap or a miss finds it
 *         lea 8(%rsp),%rsp           the instruction's own effect (ret)
 *         lea -GUESS(%rcx),%rcx      the target this site saw last
 *         jrcxz hit
 *         mov slot0(%rip),%rcx; callout "miss"
 *     hit: mov slot0(%rip),%rcx; jmp GUESS's translation
 *     None of it touches the flags;
 *   - a callout: the emulator does the instruction (cli, out, pushf,
 *     mov cr3, iret...), without a signal;
 *   - a native step: the host runs it natively, at its own address, for
 *     one instruction (what the cache cannot run and the emulator does
 *     not know).
 */
#include <string.h>

#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "cpu/vcpu.h"
#include "engine/bt.h"
#include "engine/bt-internal.h"
#include "engine/scan.h"
#include "engine/tc-internal.h"
#include "engine/upper.h"

/* The emulator does the instruction; the cache goes on at whatever RIP
 * it leaves (usually the next instruction's translation). */
static enum tc_next emit_callout(struct tc_emitter *e, const cs_insn *insn,
				 uint64_t pc, unsigned kind, bool ends)
{
	struct tc_rec *r = tc_begin(e, kind, pc, insn);

	if (!r)
		return TN_FAIL;
	tc_put_callout(e, tc_rec_index(e->tr, r));
	r->flags = ends ? 0 : TRF_FOLLOWS;
	tc_end(e, r);
	return ends ? TN_END : TN_GO_ON;
}

/* ---- copies --------------------------------------------------------- */

static enum tc_next emit_ident(struct tc_emitter *e, const cs_insn *insn,
			       uint64_t pc)
{
	struct tc_rec *r = tc_begin(e, TK_INSN, pc, insn);

	if (!r)
		return TN_FAIL;
	memcpy(e->p, insn->bytes, insn->size);
	e->p += insn->size;
	r->clean = r->done = (uint8_t)insn->size;
	tc_end(e, r);
	return TN_GO_ON;
}

/* What bt-rewrite.c says of the code it wrote into record r. */
static void take_bt_rec(struct tc_rec *r, const struct rec *br)
{
	r->clean = br->clean;
	r->done = br->done;
	r->nscratch = br->nscratch;
	memcpy(r->scratch, br->scratch, sizeof(br->scratch));
}

/*
 * A RIP-relative operand after the move: the instruction again with
 * [disp32] (ModRM rm=100, a SIB byte with no base and no index), which
 * reaches the same address when it fits 32 signed bits; else the address
 * in a borrowed register (bt-rewrite.c's bt_emit_at).
 */
static enum tc_next emit_rip_relative(struct tc_emitter *e,
				      const cs_insn *insn, uint64_t pc,
				      const struct bt_enc *n)
{
	uint64_t abs = pc + insn->size + (uint64_t)(int64_t)
		       insn->detail->x86.disp;
	const uint8_t *b = insn->bytes;
	struct tc_rec *r = tc_begin(e, TK_INSN, pc, insn);
	struct emitter be;
	struct rec br;

	if (!r)
		return TN_FAIL;
	if (tc_fits32(abs)) {
		memcpy(e->p, b, n->npfx);
		e->p += n->npfx;
		if (n->rex)
			tc_put8(e, (uint8_t)(n->rex & ~0x03)); /* no X, no B */
		memcpy(e->p, b + n->op_start, n->modrm_at - n->op_start);
		e->p += n->modrm_at - n->op_start;
		tc_put8(e, (uint8_t)((b[n->modrm_at] & 0x38) | 0x04));
		tc_put8(e, 0x25);                  /* SIB: no index, no base */
		tc_put32(e, (uint32_t)abs);
		memcpy(e->p, b + n->mem_end, n->size - n->mem_end);
		e->p += n->size - n->mem_end;
		r->clean = r->done = (uint8_t)(tc_here(e) - r->host);
		tc_end(e, r);
		return TN_GO_ON;
	}
	be = (struct emitter){ e->p, e->tr->xs->slot, NULL };
	if (!bt_emit_at(&be, decoder_handle(e->tr->cpu->dec, MODE_LONG64),
			insn, pc, abs, &br)) {
		e->tr->nrecs--;
		return TN_FAIL;
	}
	e->p = be.p;
	take_bt_rec(r, &br);
	tc_end(e, r);
	return TN_GO_ON;
}

/*
 * An access that may reach the upper half, which the host cannot map:
 * through engine/upper.h's table, bt-rewrite.c's sequence (the address
 * the guest computes, plus the offset for its bits 32..47, in borrowed
 * registers; no flag moves).  A fault in it is the guest instruction's,
 * before it.  put_upper writes code's rewritten form in a record for
 * insn (the stack's made-up accesses below); NULL, or false: not one
 * this rewrite takes.
 */
static struct tc_rec *put_upper(struct tc_emitter *e, const cs_insn *code,
				const cs_insn *insn, uint64_t pc)
{
	struct tc_rec *r = tc_begin(e, TK_INSN, pc, insn);
	struct emitter be;
	struct rec br;

	if (!r)
		return NULL;
	be = (struct emitter){ e->p, e->tr->xs->slot, e->tr->upper };
	if (!bt_emit_insn(&be, decoder_handle(e->tr->cpu->dec, MODE_LONG64),
			  code, pc, true, &br)) {
		e->tr->nrecs--;
		return NULL;
	}
	e->p = be.p;
	take_bt_rec(r, &br);
	tc_end(e, r);
	return r;
}

static bool emit_upper(struct tc_emitter *e, const cs_insn *insn,
		       uint64_t pc)
{
	return put_upper(e, insn, insn, pc) != NULL;
}

/*
 * push and pop of a register (or push of an immediate, or a direct
 * call's push of its return address) with RSP in the upper half, where
 * the host cannot map: the same as a store to or load from -8(%rsp) or
 * (%rsp), made up and rewritten for the aliases as any access up there
 * (bt_emit_insn), then the move of RSP.  The guest's
 * state changes only at the end (TRF_STEPS): the access may fault, and
 * then nothing has happened.
 */
static bool emit_upper_stack(struct tc_emitter *e, const cs_insn *insn,
			     uint64_t pc)
{
	const cs_x86 *x = &insn->detail->x86;
	bool pop = insn->id == X86_INS_POP, call = insn->id == X86_INS_CALL;
	uint64_t value = call ? pc + insn->size : (uint64_t)x->operands[0].imm;
	csh h = decoder_handle(e->tr->cpu->dec, MODE_LONG64);
	uint8_t b[16];
	const uint8_t *code = b;
	uint64_t addr = pc;
	size_t n = 0;
	struct tc_rec *r;
	int g = -1;

	if ((insn->id != X86_INS_PUSH && !pop && !call) || x->op_count != 1 ||
	    bt_has_prefix(insn, 0x66) || !e->tr->synth)
		return false;
	if (!call && x->operands[0].type == X86_OP_REG) {
		g = reg_gpr(x->operands[0].reg);
		if (g < 0 || x->operands[0].size != 8)
			return false;
		b[n++] = (uint8_t)(0x48 | ((g >> 3) << 2));
		b[n++] = pop ? 0x8b : 0x89;        /* mov %g,-8(%rsp) / (%rsp),%g */
		b[n++] = (uint8_t)((pop ? 0x04 : 0x44) | ((g & 7) << 3));
		b[n++] = 0x24;
		if (!pop)
			b[n++] = 0xf8;
	} else if (!pop && x->operands[0].type == X86_OP_IMM &&
		   (uint64_t)(int64_t)(int32_t)value == value) {
		/* An immediate, or a direct call's return address (a
		 * kernel's text at -2 GiB, or the low 2 GiB), then for the
		 * call the link to its target. */
		int32_t imm = (int32_t)value;

		memcpy(b, "\x48\xc7\x44\x24\xf8", 5);  /* movq $imm,-8(%rsp) */
		memcpy(b + 5, &imm, 4);
		n = 9;
	} else {
		return false;
	}
	if (!cs_disasm_iter(h, &code, &n, &addr, e->tr->synth) ||
	    !(r = put_upper(e, e->tr->synth, insn, pc)))
		return false;
	if (!pop || g != RSP)                      /* lea -8/8(%rsp),%rsp */
		tc_put_bytes(e, pop ? "\x48\x8d\x64\x24\x08"
				    : "\x48\x8d\x64\x24\xf8", 5);
	r->done = (uint8_t)(tc_here(e) - r->host);
	r->flags |= TRF_STEPS;
	tc_end(e, r);
	/* (Its end is the link's start: a stop there is at the target.) */
	if (call)
		tc_emit_link(e, (uint64_t)x->operands[0].imm);
	return true;
}

/* Does insn read or write memory other than through its stack? */
static bool touches_memory(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	unsigned i;

	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM)
			return true;
	return false;
}

/* ---- classification ------------------------------------------------- */

/* Instructions after which control does not simply go on: a callout
 * for them ends the block (the monitor says where the guest goes). */
static bool leaves(unsigned id)
{
	switch (id) {
	case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
	case X86_INS_SYSCALL: case X86_INS_SYSRET: case X86_INS_SYSENTER:
	case X86_INS_SYSEXIT: case X86_INS_INT: case X86_INS_INT1:
	case X86_INS_INT3: case X86_INS_INTO: case X86_INS_HLT:
	case X86_INS_RETF: case X86_INS_RETFQ: case X86_INS_LJMP:
	case X86_INS_LCALL: case X86_INS_UD2: case X86_INS_UD0:
		return true;
	default:
		return false;
	}
}

/* Does the emulator do this instruction better than the host would?
 * The sensitive ones (the host would answer wrongly) and the
 * privileged ones (the host would trap: a callout is cheaper). */
bool tc_wants_monitor(const cs_insn *insn)
{
	unsigned id = emu_id(insn);

	if (!emulate_lookup(id))
		return false;
	if (scan_classify(insn) == SC_SENSITIVE)
		return true;
	return id >= X86_INS_ENDING || !emulate_is_ordinary(id);
}

enum tc_next tc_emit(struct tc_emitter *e, const cs_insn *insn,
		     uint64_t pc, uint64_t gpa, unsigned mode)
{
	bool wide = mode == MODE_LONG64;
	const struct tc_site *site;
	enum tc_next next;
	struct bt_enc n;

	(void)gpa;
	if (bt_ambiguous(insn) || (!wide && !tc32_takes(insn)))
		return TN_FAIL;
	/* An instruction that reached the upper half through its implicit
	 * stack operand (push, pop, call, ret with RSP up there): push, pop,
	 * a direct call and ret rewritten for the aliases, the others the
	 * emulator's, by callout, rather than a native fault each time. */
	if (wide && e->tr->upper && tc_site_upper(e->tr, pc) &&
	    emit_upper_stack(e, insn, pc))
		return insn->id == X86_INS_CALL ? TN_END : TN_GO_ON;
	if (wide && e->tr->upper && tc_site_upper(e->tr, pc) &&
	    insn->id != X86_INS_RET &&             /* (tc-branch.c's) */
	    !touches_memory(insn) && emulate_lookup(emu_id(insn)))
		return emit_callout(e, insn, pc, TK_CALLOUT,
				    leaves(insn->id) || insn->id == X86_INS_RET ||
					    insn->id == X86_INS_JMP);
	if (tc_emit_branch(e, insn, pc, wide, &next))
		return next;
	/* rdtsc runs natively, as everywhere (docs/limits.md). */
	if (insn->id != X86_INS_RDTSC && tc_wants_monitor(insn) &&
	    tc_inline(e, insn, pc, wide) != TN_FAIL)
		return TN_GO_ON;
	if (insn->id != X86_INS_RDTSC && tc_wants_monitor(insn))
		return emit_callout(e, insn, pc, TK_CALLOUT, leaves(insn->id));
	if (leaves(insn->id) || scan_classify(insn) != SC_PLAIN)
		return TN_FAIL;
	/* One that keeps trapping into the emulator: the emulator's, or
	 * the value of the device register it reads. */
	if ((site = tc_site_callout(e->tr, pc)) && site->fold &&
	    tc_emit_fold(e, insn, pc, site, wide) != TN_FAIL)
		return TN_GO_ON;
	if (site && emulate_lookup(emu_id(insn)))
		return emit_callout(e, insn, pc, TK_CALLOUT, false);
	if (!wide)
		return tc32_emit(e, insn, pc);
	/* Code in the upper half, or an instruction that reached it: its
	 * operand goes through the aliases (else the emulator's). */
	if (e->tr->upper && touches_memory(insn) &&
	    (upper_half(pc) || tc_site_upper(e->tr, pc))) {
		if (insn->id != X86_INS_LEA && insn->id != X86_INS_NOP &&
		    emit_upper(e, insn, pc))
			return TN_GO_ON;
		if (insn->id != X86_INS_LEA && insn->id != X86_INS_NOP &&
		    emulate_lookup(emu_id(insn)))
			return emit_callout(e, insn, pc, TK_CALLOUT, false);
	}
	if (bt_parse_enc(insn, &n) && n.rip_relative)
		return emit_rip_relative(e, insn, pc, &n);
	/* An EIP- or RIP-relative operand bt_parse_enc would not take. */
	if (insn->detail->x86.op_count) {
		unsigned i;

		for (i = 0; i < insn->detail->x86.op_count; i++)
			if (insn->detail->x86.operands[i].type == X86_OP_MEM &&
			    (insn->detail->x86.operands[i].mem.base ==
				     X86_REG_RIP ||
			     insn->detail->x86.operands[i].mem.base ==
				     X86_REG_EIP))
				return TN_FAIL;
	}
	return emit_ident(e, insn, pc);
}

/* What cannot be translated runs natively, one step (tc-run.c). */
enum tc_next tc_emit_native(struct tc_emitter *e, uint64_t pc)
{
	struct tc_rec *r = tc_begin(e, TK_NATIVE, pc, NULL);

	if (!r)
		return TN_FAIL;
	tc_put_callout(e, tc_rec_index(e->tr, r));
	tc_end(e, r);
	return TN_END;
}
