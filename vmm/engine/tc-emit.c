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

/* ---- encoding ----------------------------------------------------------- */

void tc_put8(struct tc_emitter *e, uint8_t b)
{
	*e->p++ = b;
}

void tc_put32(struct tc_emitter *e, uint32_t x)
{
	memcpy(e->p, &x, 4);
	e->p += 4;
}

void tc_put_state_rel(struct tc_emitter *e, const void *field,
		      unsigned after)
{
	tc_put32(e, (uint32_t)((uint64_t)field - (uint64_t)(e->p + 4 + after)));
}

static void put_bytes(struct tc_emitter *e, const char *b, unsigned n)
{
	memcpy(e->p, b, n);
	e->p += n;
}

static uint32_t here(const struct tc_emitter *e)
{
	return (uint32_t)(e->p - e->tr->code);
}

void tc_put_jmp(struct tc_emitter *e, uint32_t to)
{
	tc_put8(e, 0xe9);
	tc_put32(e, (uint32_t)(to - (here(e) + 4)));
}

void tc_put_callout(struct tc_emitter *e, uint32_t rec)
{
	tc_put8(e, 0xc7);                      /* mov dword [rip+rec], imm */
	tc_put8(e, 0x05);
	tc_put_state_rel(e, &e->tr->xs->rec, 4);
	tc_put32(e, rec);
	tc_put_jmp(e, e->tr->trampoline);
}

/* mov %reg,field(%rip) (store) or mov field(%rip),%reg (load) */
void tc_state_move(struct tc_emitter *e, unsigned reg, const void *field,
		   bool load)
{
	tc_put8(e, (uint8_t)(0x48 | ((reg >> 3) << 2)));
	tc_put8(e, load ? 0x8b : 0x89);
	tc_put8(e, (uint8_t)(0x05 | ((reg & 7) << 3)));
	tc_put_state_rel(e, field, 0);
}

uint32_t tc_rec_index(const struct translator *tr, const struct tc_rec *r)
{
	return (uint32_t)(r - tr->recs);
}

/* A record for what is about to be emitted at e->p. */
struct tc_rec *tc_begin(struct tc_emitter *e, unsigned kind, uint64_t guest,
			const cs_insn *insn)
{
	struct tc_rec *r = tc_new_rec(e->tr);

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)kind;
	r->guest = guest;
	r->glen = insn ? (uint8_t)insn->size : 0;
	r->host = here(e);
	return r;
}

void tc_end(struct tc_emitter *e, struct tc_rec *r)
{
	r->len = (uint16_t)(here(e) - r->host);
}

/* ---- links and callouts --------------------------------------------- */

uint32_t tc_emit_link(struct tc_emitter *e, uint64_t target)
{
	struct tc_rec *r = tc_begin(e, TK_LINK, target, NULL);
	uint8_t *start = e->p;

	if (!r)
		return 0;
	tc_put_callout(e, tc_rec_index(e->tr, r));
	while (e->p < start + TR_STUB_BYTES)
		tc_put8(e, 0xcc);
	tc_end(e, r);
	e->tr->st.links++;
	return r->host;
}

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

/* Does v fit a sign-extended 32-bit displacement? */
static bool fits32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)v == v;
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
	if (fits32(abs)) {
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
		r->clean = r->done = (uint8_t)(here(e) - r->host);
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
	r->clean = br.clean;
	r->done = br.done;
	r->nscratch = br.nscratch;
	memcpy(r->scratch, br.scratch, sizeof(r->scratch));
	tc_end(e, r);
	return TN_GO_ON;
}

/*
 * An access that may reach the upper half, which the host cannot map:
 * through engine/upper.h's table, bt-rewrite.c's sequence (the address
 * the guest computes, plus the offset for its bits 32..47, in borrowed
 * registers; no flag moves).  A fault in it is the guest instruction's,
 * before it.  False: not one this rewrite takes.
 */
static bool emit_upper(struct tc_emitter *e, const cs_insn *insn,
		       uint64_t pc)
{
	struct tc_rec *r = tc_begin(e, TK_INSN, pc, insn);
	struct emitter be;
	struct rec br;

	if (!r)
		return false;
	be = (struct emitter){ e->p, e->tr->xs->slot, e->tr->upper };
	if (!bt_emit_insn(&be, decoder_handle(e->tr->cpu->dec, MODE_LONG64),
			  insn, pc, true, &br)) {
		e->tr->nrecs--;
		return false;
	}
	e->p = be.p;
	r->clean = br.clean;
	r->done = br.done;
	r->nscratch = br.nscratch;
	memcpy(r->scratch, br.scratch, sizeof(r->scratch));
	tc_end(e, r);
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

/* ---- branches ------------------------------------------------------- */

/* (32-bit code's targets wrap at 4 GiB.) */
static uint64_t branch_target(const cs_insn *insn, bool wide)
{
	uint64_t t = (uint64_t)insn->detail->x86.operands[0].imm;

	return wide ? t : (uint32_t)t;
}

/* The condition of a jcc, from its opcode (rel8 7x or rel32 0f 8x). */
static int jcc_condition(const cs_insn *insn)
{
	unsigned p = 0;

	while (p < insn->size && bt_is_legacy_prefix(insn->bytes[p]))
		p++;
	if (p < insn->size && (insn->bytes[p] & 0xf0) == 0x70)
		return insn->bytes[p] & 0x0f;
	if (p + 1 < insn->size && insn->bytes[p] == 0x0f &&
	    (insn->bytes[p + 1] & 0xf0) == 0x80)
		return insn->bytes[p + 1] & 0x0f;
	return -1;
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
	r->clean = r->done = (uint8_t)(here(e) - r->host);
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
	r->clean = r->done = (uint8_t)(here(e) - r->host - 3);
	r->taken = (uint8_t)(here(e) - r->host - 1);
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

	if (wide && !fits32(ret))
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
	r->done = (uint8_t)(here(e) - r->host);
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

		if (!fits32(abs))
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
		if (!fits32(ret))
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
	if (insn->id == X86_INS_RET) {
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
	put_bytes(e, "\x48\x8d\x0c\x01", 4);       /* lea (%rcx,%rax),%rcx */
	put_bytes(e, "\x0f\xb7\xc1", 3);           /* movzwl %cx,%eax */
	put_bytes(e, "\x48\x8d\x04\x00", 4);       /* lea (%rax,%rax),%rax */
	tc_put8(e, 0x48);                          /* lea table(%rip),%rdx */
	tc_put8(e, 0x8d);
	tc_put8(e, 0x15);
	tc_put_state_rel(e, tr->hash, 0);
	put_bytes(e, "\x48\x8d\x14\xc2", 4);       /* lea (%rdx,%rax,8),%rdx */
	put_bytes(e, "\x48\x8b\x02", 3);           /* mov (%rdx),%rax */
	put_bytes(e, "\x48\x8d\x4c\x01\x01", 5);   /* lea 1(%rcx,%rax),%rcx */
	jrcxz = e->p;
	put_bytes(e, "\xe3\x00", 2);               /* jrcxz hit */
	tc_state_move(e, RAX, &xs->slot[2], true);
	tc_state_move(e, RDX, &xs->slot[1], true);
	tc_state_move(e, RCX, &xs->slot[0], true);
	tc_put_jmp(e, tr->trampoline);             /* (the site's callout) */
	jrcxz[1] = (uint8_t)(e->p - (jrcxz + 2));
	put_bytes(e, "\x48\x8b\x42\x08", 4);       /* hit: mov 8(%rdx),%rax */
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

	if (at[0] == 0x48 ? !fits32(target) : target >> 32)
		return;
	memcpy(at + IND_GUESS_AT, &guess, 4);
	memcpy(at + IND_HIT_JMP_AT, &rel, 4);
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
	bool p66 = bt_has_prefix(insn, 0x66);
	const struct tc_site *site;
	struct bt_enc n;
	int cc;

	(void)gpa;
	if (bt_ambiguous(insn) || (!wide && !tc32_takes(insn)))
		return TN_FAIL;
	switch (insn->id) {
	case X86_INS_JMP:
		if (insn->detail->x86.operands[0].type != X86_OP_IMM)
			return emit_indirect(e, insn, pc, wide);
		if (p66)
			return TN_FAIL;
		tc_emit_link(e, branch_target(insn, wide));
		return TN_END;
	case X86_INS_CALL:
		if (insn->detail->x86.operands[0].type != X86_OP_IMM)
			return emit_indirect(e, insn, pc, wide);
		return p66 ? TN_FAIL : emit_call(e, insn, pc, wide);
	case X86_INS_RET:
		return p66 ? TN_FAIL : emit_indirect(e, insn, pc, wide);
	case X86_INS_LOOP: case X86_INS_LOOPE: case X86_INS_LOOPNE:
	case X86_INS_JRCXZ: case X86_INS_JECXZ:
		return emit_loop(e, insn, pc, wide);
	}
	if ((cc = jcc_condition(insn)) >= 0 &&
	    insn->detail->x86.op_count == 1 &&
	    insn->detail->x86.operands[0].type == X86_OP_IMM)
		return p66 ? TN_FAIL : emit_jcc(e, insn, pc, cc, wide);
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

/* ---- the trampoline --------------------------------------------------- */


/* Pop what the trampoline pushed, but for the flags' slot (skipped). */
static void pop_registers(struct tc_emitter *e)
{
	static const char lea8[] = "\x48\x8d\x64\x24\x08";   /* lea 8(%rsp) */
	unsigned r;

	put_bytes(e, "\x58\x59\x5a\x5b", 4);       /* rax, rcx, rdx, rbx */
	put_bytes(e, lea8, 5);                     /* (the rsp slot) */
	put_bytes(e, "\x5d\x5e\x5f", 3);           /* rbp, rsi, rdi */
	for (r = 8; r < 16; r++) {
		tc_put8(e, 0x41);
		tc_put8(e, (uint8_t)(0x58 + (r - 8)));
	}
}

/* opcode bytes, then ModRM /ext with [rip+field] */
static void rip_op(struct tc_emitter *e, const char *op, unsigned n,
		   unsigned ext, const void *field, unsigned after)
{
	put_bytes(e, op, n);
	tc_put8(e, (uint8_t)(0x05 | (ext << 3)));
	tc_put_state_rel(e, field, after);
}

/*
 * Keep (or give back) the guest's vector registers while the monitor's C
 * code runs, which uses them (glibc's string functions up to AVX-512).
 * What the guest can have there is what its XCR0 enables: without
 * OSXSAVE or beyond x87 and SSE, the sixteen XMM registers and MXCSR, a
 * few moves (the monitor's code uses no x87); else XSAVE of the guest's
 * XCR0 components, dearer (about 300 cycles here against 7).  Which one
 * is latched at the save, so that a callout that changes XCR0 gives back
 * what it kept.  The monitor runs with its own MXCSR.  rax and rdx are
 * saved already; the flags may change.
 */
static void put_vector_state(struct tc_emitter *e, bool save)
{
	static const uint8_t ext[] = { 0, 4, 6 };  /* fxsave, xsave, xsaveopt */
	struct translator *tr = e->tr;
	struct tc_state *xs = tr->xs;
	uint8_t *jfull, *jdone;
	unsigned i;

	if (save) {
		rip_op(e, "\x0f\xb6", 2, RAX, &xs->save_full, 0); /* movzbl */
		rip_op(e, "\x88", 1, RAX, &xs->save_used, 0);    /* mov %al */
		put_bytes(e, "\x84\xc0", 2);                   /* test %al */
	} else {
		rip_op(e, "\x80", 1, 7, &xs->save_used, 1);      /* cmpb $0 */
		tc_put8(e, 0);
	}
	jfull = e->p;
	put_bytes(e, "\x0f\x85\0\0\0\0", 6);              /* jnz full */
	for (i = 0; i < 16; i++) {                 /* movdqu %xmmI <-> */
		tc_put8(e, 0xf3);
		if (i >= 8)
			tc_put8(e, 0x44);
		rip_op(e, save ? "\x0f\x7f" : "\x0f\x6f", 2, i & 7,
		       &xs->xmm[i], 0);
	}
	/* stmxcsr or ldmxcsr: the guest's */
	rip_op(e, "\x0f\xae", 2, save ? 3 : 2, &xs->guest_mxcsr, 0);
	jdone = e->p;
	put_bytes(e, "\xe9\0\0\0\0", 5);                   /* jmp done */
	{
		uint32_t rel = (uint32_t)(e->p - (jfull + 6));

		memcpy(jfull + 2, &rel, 4);
	}
	if (tr->save != TR_FXSAVE) {
		if (save) {
			rip_op(e, "\x8b", 1, RAX, &xs->save_mask, 0);
			rip_op(e, "\x89", 1, RAX, &xs->mask_used, 0);
		} else {
			rip_op(e, "\x8b", 1, RAX, &xs->mask_used, 0);
		}
		put_bytes(e, "\x31\xd2", 2);               /* xor %edx,%edx */
	}
	tc_put8(e, 0x48);                          /* ...64 [rip+area] */
	rip_op(e, "\x0f\xae", 2, save ? ext[tr->save]
				       : tr->save == TR_FXSAVE ? 1 : 5,
	       tr->xsave, 0);
	{
		uint32_t rel = (uint32_t)(e->p - (jdone + 5));

		memcpy(jdone + 1, &rel, 4);
	}
	if (save)                                  /* ldmxcsr: the monitor's */
		rip_op(e, "\x0f\xae", 2, 2, &xs->monitor_mxcsr, 0);
}

/* movb $v, in_monitor(%rip): the monitor's C code runs for a callout
 * from here to the handler's return (what a signal meanwhile finds). */
static void put_in_monitor(struct tc_emitter *e, uint8_t v)
{
	tc_put8(e, 0xc6);
	tc_put8(e, 0x05);
	tc_put_state_rel(e, &e->tr->xs->in_monitor, 1);
	tc_put8(e, v);
}

/*
 * The way from the cache into the monitor and back: save the guest's
 * stack pointer and registers on the monitor's callout stack (struct
 * tc_frame), give FS the monitor's base (glibc's thread pointer), call
 * the backend's handler, and return where it says: straight back into
 * the cache, or through iretq when the code segment or TF must change
 * (back to 32-bit user code, or a native step).
 */
void tc_emit_trampoline(struct tc_emitter *e)
{
	struct tc_state *xs = e->tr->xs;
	uint8_t *jne;
	unsigned r;

	tc_state_move(e, RSP, &xs->guest_rsp, false);
	tc_state_move(e, RSP, &xs->monitor_rsp, true);
	for (r = 16; r-- > 8;) {                   /* push r15 ... r8 */
		tc_put8(e, 0x41);
		tc_put8(e, (uint8_t)(0x50 + (r - 8)));
	}
	put_bytes(e, "\x57\x56\x55\x54\x53\x52\x51\x50", 8); /* rdi...rax */
	tc_put8(e, 0x9c);                          /* pushfq */
	put_bytes(e, "\xf3\x48\x0f\xae\xc0", 5);   /* rdfsbase %rax */
	tc_state_move(e, RAX, &xs->guest_fs, false);
	put_bytes(e, "\xf3\x48\x0f\xae\xc8", 5);   /* rdgsbase %rax */
	tc_state_move(e, RAX, &xs->guest_gs, false);
	tc_state_move(e, RAX, &xs->monitor_fs, true);
	put_bytes(e, "\xf3\x48\x0f\xae\xd0", 5);   /* wrfsbase %rax */
	put_bytes(e, "\x48\x89\xe7", 3);           /* mov %rsp,%rdi */
	put_bytes(e, "\x48\x83\xec\x08", 4);       /* (align the stack) */
	put_vector_state(e, true);
	put_in_monitor(e, 1);
	tc_put8(e, 0xff);                          /* call *handler(%rip) */
	tc_put8(e, 0x15);
	tc_put_state_rel(e, &xs->handler, 0);
	put_in_monitor(e, 0);
	put_vector_state(e, false);
	put_bytes(e, "\x48\x83\xc4\x08", 4);
	tc_state_move(e, RAX, &xs->guest_fs, true);
	put_bytes(e, "\xf3\x48\x0f\xae\xd0", 5);   /* wrfsbase %rax */
	tc_state_move(e, RAX, &xs->guest_gs, true);
	put_bytes(e, "\xf3\x48\x0f\xae\xd8", 5);   /* wrgsbase %rax */
	tc_put8(e, 0x80);                          /* cmpb $0,far(%rip) */
	tc_put8(e, 0x3d);
	tc_put_state_rel(e, &xs->far, 1);
	tc_put8(e, 0);
	jne = e->p;
	put_bytes(e, "\x75\x00", 2);               /* jne far */
	tc_put8(e, 0x9d);                          /* popfq */
	pop_registers(e);
	tc_state_move(e, RSP, &xs->guest_rsp, true);
	tc_put8(e, 0xff);                          /* jmp *resume(%rip) */
	tc_put8(e, 0x25);
	tc_put_state_rel(e, &xs->resume, 0);
	jne[1] = (uint8_t)(e->p - (jne + 2));
	/* far: DS and ES as 32-bit code needs them (see backend/entry.S) */
	put_bytes(e, "\xb8\x2b\x00\x00\x00\x8e\xd8\x8e\xc0", 9);
	put_bytes(e, "\x48\x8d\x64\x24\x08", 5);   /* (the flags' slot) */
	pop_registers(e);
	tc_put8(e, 0x48);                          /* lea iret_frame, %rsp */
	tc_put8(e, 0x8d);
	tc_put8(e, 0x25);
	tc_put_state_rel(e, &xs->iret_frame, 0);
	put_bytes(e, "\x48\xcf", 2);               /* iretq */
}
