/*
 * Branches in the translator's cache (see tc-emit.c for the whole list):
 * direct ones to links, calls as the push of the guest's return address
 * and a link, and indirect ones (ret, jmp or call through a register or
 * memory) through a guess the site saw last, then the hash lookup.
 */
#include <string.h>

#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "cpu/vcpu.h"
#include "engine/bt.h"
#include "engine/bt-internal.h"
#include "engine/tc-internal.h"

/* ---- branches ------------------------------------------------------- */

/* (32-bit code's targets wrap at 4 GiB.) */
static uint64_t branch_target(const cs_insn *insn, bool wide)
{
	uint64_t t = (uint64_t)insn->detail->x86.operands[0].imm;

	return wide ? t : (uint32_t)t;
}

/* jcc rel32 to a link the block emits after its body (tc-block.c asks
 * tc_pending for it): the rel32 is filled in then. */
static enum tc_next emit_jcc(struct tc_emitter *e, const cs_insn *insn,
			     uint64_t pc, int cc, bool wide)
{
	struct tc_rec *r = tc_begin(e, TK_INSN, pc, insn);

	if (!r)
		return TN_FAIL;
	tc_put8(e, 0x0f);
	tc_put8(e, (uint8_t)(0x80 | cc));
	tc_put32(e, 0);
	r->clean = r->done = (uint8_t)(tc_here(e) - r->host);
	r->target = branch_target(insn, wide);
	tc_end(e, r);
	return TN_GO_ON;
}

/*
 * loop, loope, loopne, jrcxz and jecxz have only a rel8 form: the same
 * instruction jumping two bytes on, over a short jmp past a jmp to the
 * taken target's link.  In 32-bit code, with 67: the count is ecx.
 */
static enum tc_next emit_loop(struct tc_emitter *e, const cs_insn *insn,
			      uint64_t pc, bool wide)
{
	struct tc_rec *r = tc_begin(e, TK_INSN, pc, insn);

	if (!r)
		return TN_FAIL;
	if (!wide)
		tc_put8(e, 0x67);
	memcpy(e->p, insn->bytes, insn->size - 1);
	e->p += insn->size - 1;
	tc_put8(e, 2);                         /* taken: to the jmp rel32 */
	tc_put8(e, 0xeb);                      /* not taken: over it */
	tc_put8(e, 5);
	tc_put8(e, 0xe9);
	r->clean = r->done = (uint8_t)(tc_here(e) - r->host - 3);
	r->taken = (uint8_t)(tc_here(e) - r->host - 1);
	tc_put32(e, 0);                        /* to the link (tc_pending) */
	r->target = branch_target(insn, wide);
	tc_end(e, r);
	return TN_GO_ON;
}

/* A direct call: the guest's return address pushed, then its target. */
static enum tc_next emit_call(struct tc_emitter *e, const cs_insn *insn,
			      uint64_t pc, bool wide)
{
	uint64_t ret = pc + insn->size;
	struct tc_rec *r;

	if (wide && !tc_fits32(ret))
		return TN_FAIL;
	if (!(r = tc_begin(e, TK_CALL, pc, insn)))
		return TN_FAIL;
	if (wide) {
		tc_put8(e, 0x68);              /* push imm32 */
		tc_put32(e, (uint32_t)ret);
	} else {
		tc32_put_call_push(e, (uint32_t)ret);
		r->flags = TRF_STEPS;
	}
	r->clean = 0;
	r->done = (uint8_t)(tc_here(e) - r->host);
	r->target = branch_target(insn, wide);
	tc_end(e, r);
	tc_emit_link(e, r->target);
	return TN_END;
}

/* ---- indirect branches ---------------------------------------------- */

/* Offsets, from the record's `done`, of what a miss patches: the guess
 * in lea -GUESS(%rcx),%rcx, and the hit's jmp rel32. */
#define IND_GUESS_AT 3u
#define IND_MISS_AT 9u
#define IND_HIT_JMP_AT 32u

/* mov OPERAND,%rcx: the target of a jmp or call through a register or
 * memory (its own ModRM memory operand, made absolute if RIP-relative). */
static bool load_target(struct tc_emitter *e, const cs_insn *insn,
			uint64_t pc)
{
	const cs_x86_op *op = &insn->detail->x86.operands[0];
	const uint8_t *b = insn->bytes;
	struct bt_enc n;
	int g;

	if (op->type == X86_OP_REG) {
		if ((g = reg_gpr(op->reg)) < 0 || op->size != 8)
			return false;
		tc_put8(e, (uint8_t)(0x48 | (g >> 3)));   /* mov %g,%rcx */
		tc_put8(e, 0x8b);
		tc_put8(e, (uint8_t)(0xc8 | (g & 7)));
		return true;
	}
	if (op->type != X86_OP_MEM || op->size != 8 || !bt_parse_enc(insn, &n) ||
	    n.npfx)
		return false;
	if (n.rip_relative) {
		uint64_t abs = pc + insn->size +
			       (uint64_t)(int64_t)insn->detail->x86.disp;

		if (!tc_fits32(abs))
			return false;
		tc_put8(e, 0x48);                  /* mov [abs],%rcx */
		tc_put8(e, 0x8b);
		tc_put8(e, 0x0c);
		tc_put8(e, 0x25);
		tc_put32(e, (uint32_t)abs);
		return true;
	}
	/* The same memory operand, with mov's opcode and rcx as reg. */
	tc_put8(e, (uint8_t)(0x48 | (n.rex & 0x03)));
	tc_put8(e, 0x8b);
	tc_put8(e, (uint8_t)((b[n.modrm_at] & 0xc7) | (1u << 3)));
	memcpy(e->p, b + n.modrm_at + 1, n.mem_end - n.modrm_at - 1);
	e->p += n.mem_end - n.modrm_at - 1;
	return true;
}

/* What the instruction itself does once its target is known: a ret
 * pops it (and its immediate more), a call pushes the return address. */
static bool commit(struct tc_emitter *e, const cs_insn *insn, uint64_t pc,
		   bool wide)
{
	const cs_x86 *x = &insn->detail->x86;
	uint64_t ret = pc + insn->size;
	uint32_t more = x->op_count && insn->id == X86_INS_RET
				? (uint32_t)x->operands[0].imm : 0;

	if (!wide) {
		if (insn->id == X86_INS_RET)
			tc32_put_ret_pop(e, 4 + more);
		else if (insn->id == X86_INS_CALL)
			tc32_put_call_push(e, (uint32_t)ret);
		return true;
	}
	if (insn->id == X86_INS_RET) {
		uint32_t pop = 8 + more;

		tc_put8(e, 0x48);                  /* lea pop(%rsp),%rsp */
		tc_put8(e, 0x8d);
		tc_put8(e, 0xa4);
		tc_put8(e, 0x24);
		tc_put32(e, pop);
	} else if (insn->id == X86_INS_CALL) {
		if (!tc_fits32(ret))
			return false;
		tc_put8(e, 0x68);                  /* push imm32 */
		tc_put32(e, (uint32_t)ret);
	}
	return true;
}

static enum tc_next emit_indirect(struct tc_emitter *e, const cs_insn *insn,
				  uint64_t pc, bool wide)
{
	struct translator *tr = e->tr;
	struct tc_rec *r = tc_begin(e, TK_INDIRECT, pc, insn);
	uint8_t *start = e->p, *jrcxz;

	if (!r)
		return TN_FAIL;
	tc_state_move(e, RCX, &tr->xs->slot[0], false);
	r->clean = (uint8_t)(e->p - start);
	r->nscratch = 1;
	r->scratch[0] = RCX;
	if (insn->id == X86_INS_RET && wide && tr->upper && tr->synth &&
	    tc_site_upper(tr, pc)) {
		/* RSP in the upper half: the load through the aliases, its
		 * registers borrowed in slot[1..] (a fault can come only
		 * there, and a signal from outside waits: TRF_STEPS). */
		static const uint8_t load[] = { 0x48, 0x8b, 0x0c, 0x24 };
		const uint8_t *code = load;
		size_t n = sizeof(load);
		uint64_t addr = pc;
		csh h = decoder_handle(tr->cpu->dec, MODE_LONG64);
		struct emitter be = { e->p, &tr->xs->slot[1], tr->upper };
		struct rec br;
		unsigned k;

		if (!cs_disasm_iter(h, &code, &n, &addr, tr->synth) ||
		    !bt_emit_insn(&be, h, tr->synth, pc, true, &br) ||
		    br.nscratch > 3) {
			e->p = start;
			tr->nrecs--;
			return TN_FAIL;
		}
		e->p = be.p;
		for (k = 0; k < br.nscratch; k++)
			r->scratch[1 + k] = br.scratch[k];
		r->nscratch = (uint8_t)(1 + br.nscratch);
		r->flags |= TRF_STEPS;
	} else if (insn->id == X86_INS_RET) {
		if (!wide)
			tc_put8(e, 0x67);          /* mov (%esp),%ecx */
		else
			tc_put8(e, 0x48);          /* mov (%rsp),%rcx */
		tc_put8(e, 0x8b);
		tc_put8(e, 0x0c);
		tc_put8(e, 0x24);
	} else if (wide ? !load_target(e, insn, pc)
			: !tc32_load_target(e, insn)) {
		e->p = start;
		tr->nrecs--;
		return TN_FAIL;
	}
	tc_state_move(e, RCX, &tr->xs->target, false);
	if (!commit(e, insn, pc, wide)) {
		e->p = start;
		tr->nrecs--;
		return TN_FAIL;
	}
	r->done = (uint8_t)(e->p - start);
	/* lea -GUESS(%rcx),%rcx; in 32-bit code the 32-bit lea (with an
	 * empty REX, the same length), so that any target has a guess */
	tc_put8(e, wide ? 0x48 : 0x40);
	tc_put8(e, 0x8d);
	tc_put8(e, 0x89);
	tc_put32(e, 0);
	jrcxz = e->p;
	tc_put8(e, 0xe3);                          /* jrcxz hit */
	tc_put8(e, 0);
	tc_put8(e, 0xc7);                          /* the miss: the lookup */
	tc_put8(e, 0x05);
	tc_put_state_rel(e, &tr->xs->rec, 4);
	tc_put32(e, tc_rec_index(tr, r));
	tc_put_jmp(e, tr->lookup);
	jrcxz[1] = (uint8_t)(e->p - (jrcxz + 2));
	tc_state_move(e, RCX, &tr->xs->slot[0], true);   /* hit: */
	tc_put_jmp(e, r->host + r->done + IND_MISS_AT); /* (no guess yet) */
	tc_end(e, r);
	return TN_END;
}

/*
 * The lookup of an indirect branch that missed its guess: the target
 * (in xs->target) in a hash table of the translations made, indexed by
 * its low 16 bits; each entry holds -(target + bias + 1), bias the mode
 * and CPL (tc_key) in the top bits, and the host address.  No flag
 * changes: lea, and jrcxz for the compare.  Not found: a callout for the
 * site (xs->rec), which translates and fills the entry.  rcx comes in
 * borrowed (the guest's in slot[0]); it lives with the trampoline, where
 * no guest state is taken.
 */
void tc_emit_lookup(struct tc_emitter *e)
{
	struct translator *tr = e->tr;
	struct tc_state *xs = tr->xs;
	uint8_t *jrcxz;

	tc_state_move(e, RDX, &xs->slot[1], false);
	tc_state_move(e, RAX, &xs->slot[2], false);
	tc_state_move(e, RCX, &xs->target, true);
	tc_state_move(e, RAX, &xs->bias, true);
	tc_put_bytes(e, "\x48\x8d\x0c\x01", 4);       /* lea (%rcx,%rax),%rcx */
	tc_put_bytes(e, "\x0f\xb7\xc1", 3);           /* movzwl %cx,%eax */
	tc_put_bytes(e, "\x48\x8d\x04\x00", 4);       /* lea (%rax,%rax),%rax */
	tc_put8(e, 0x48);                          /* lea table(%rip),%rdx */
	tc_put8(e, 0x8d);
	tc_put8(e, 0x15);
	tc_put_state_rel(e, tr->hash, 0);
	tc_put_bytes(e, "\x48\x8d\x14\xc2", 4);       /* lea (%rdx,%rax,8),%rdx */
	tc_put_bytes(e, "\x48\x8b\x02", 3);           /* mov (%rdx),%rax */
	tc_put_bytes(e, "\x48\x8d\x4c\x01\x01", 5);   /* lea 1(%rcx,%rax),%rcx */
	jrcxz = e->p;
	tc_put_bytes(e, "\xe3\x00", 2);               /* jrcxz hit */
	tc_state_move(e, RAX, &xs->slot[2], true);
	tc_state_move(e, RDX, &xs->slot[1], true);
	tc_state_move(e, RCX, &xs->slot[0], true);
	tc_put_jmp(e, tr->trampoline);             /* (the site's callout) */
	jrcxz[1] = (uint8_t)(e->p - (jrcxz + 2));
	tc_put_bytes(e, "\x48\x8b\x42\x08", 4);       /* hit: mov 8(%rdx),%rax */
	tc_state_move(e, RAX, &xs->jump, false);
	tc_state_move(e, RAX, &xs->slot[2], true);
	tc_state_move(e, RDX, &xs->slot[1], true);
	tc_state_move(e, RCX, &xs->slot[0], true);
	tc_put8(e, 0xff);                          /* jmp *jump(%rip) */
	tc_put8(e, 0x25);
	tc_put_state_rel(e, &xs->jump, 0);
}

/* A miss at the indirect branch r: guess `target` next, which the cache
 * runs at code offset host. */
void tc_guess(struct translator *tr, struct tc_rec *r, uint64_t target,
	      uint32_t host)
{
	uint8_t *at = tr->code + r->host + r->done;
	uint32_t guess = (uint32_t)-(int32_t)(uint32_t)target;
	uint32_t rel = host - (r->host + r->done + IND_HIT_JMP_AT + 4);

	if (at[0] == 0x48 ? !tc_fits32(target) : target >> 32)
		return;
	memcpy(at + IND_GUESS_AT, &guess, 4);
	memcpy(at + IND_HIT_JMP_AT, &rel, 4);
}

bool tc_emit_branch(struct tc_emitter *e, const cs_insn *insn, uint64_t pc,
		    bool wide, enum tc_next *next)
{
	bool p66 = bt_has_prefix(insn, 0x66);
	bool direct = insn->detail->x86.op_count &&
		      insn->detail->x86.operands[0].type == X86_OP_IMM;
	int cc;

	switch (insn->id) {
	case X86_INS_JMP:
		if (!direct)
			*next = emit_indirect(e, insn, pc, wide);
		else if (p66)
			*next = TN_FAIL;
		else {
			tc_emit_link(e, branch_target(insn, wide));
			*next = TN_END;
		}
		return true;
	case X86_INS_CALL:
		if (!direct)
			*next = emit_indirect(e, insn, pc, wide);
		else
			*next = p66 ? TN_FAIL : emit_call(e, insn, pc, wide);
		return true;
	case X86_INS_RET:
		*next = p66 ? TN_FAIL : emit_indirect(e, insn, pc, wide);
		return true;
	case X86_INS_LOOP: case X86_INS_LOOPE: case X86_INS_LOOPNE:
	case X86_INS_JRCXZ: case X86_INS_JECXZ:
		*next = emit_loop(e, insn, pc, wide);
		return true;
	}
	if ((cc = bt_jcc_condition(insn)) < 0 || insn->detail->x86.op_count != 1 ||
	    !direct)
		return false;
	*next = p66 ? TN_FAIL : emit_jcc(e, insn, pc, cc, wide);
	return true;
}
