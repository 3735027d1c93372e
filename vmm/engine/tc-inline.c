/*
 * Sensitive instructions at CPL 0 as a few instructions on the vCPU's
 * state in the state page (tc-internal.h), without leaving the cache:
 *
 *   cli         movb $0,vif
 *   sti         movb $1,vif; movb $0,guard
 *               the guard page is read-only while an interrupt waits
 *               (tc_resume): the store faults, and the monitor takes the
 *               interrupt after the next instruction (the sti shadow);
 *   pushf       the host's flags with the guest's IF (vif), IOPL and AC
 *               added from flags_adj[vif], lea arithmetic: no flag moves;
 *   popf        when the popped value keeps the guest's TF, IOPL, AC, NT
 *               and ID (popf_cur): IF into vif, the arithmetic flags by an
 *               overflowing add and sahf, DF by cld or std (64-bit code;
 *               32-bit code's by the host's popf), and
 *               a store to the guard (or to sink, if IF stays clear) that
 *               faults if an interrupt can now be taken; else a callout;
 *   mov r,sreg  the guest's selector from sel[].
 *
 * 32-bit code has the same, with r8-r10 for scratch and the state page's
 * mini stack for the host's 64-bit pushfq and popfq.  What is not here
 * (sgdt, lar, cpuid...) is a callout: the emulator's (tc-emit.c).
 */
#include <string.h>

#include "cpu/emulate.h"
#include "cpu/vcpu.h"
#include "engine/bt.h"
#include "engine/bt-internal.h"
#include "engine/tc-internal.h"

#define R8  8u
#define R9  9u
#define R10 10u

/* The flags popf may not change inline: TF (the guest would single-step),
 * IOPL and AC (the vCPU holds them, not the host), NT and ID (64-bit
 * code's fast path sets only the arithmetic flags and DF). */
#define POPF_SLOW (RFLAGS_TF | RFLAGS_IOPL | RFLAGS_AC | RFLAGS_NT | \
		   RFLAGS_ID)

/* opcode bytes, then ModRM reg,[rip+field] (a REX first when reg >= 8
 * or w) */
static void put_rip_op(struct tc_emitter *e, bool w, const char *op,
		       unsigned oplen, unsigned reg, const void *field,
		       unsigned after)
{
	if (w || reg >= 8)
		tc_put8(e, (uint8_t)(0x40 | (w ? 8 : 0) | ((reg >> 3) << 2)));
	tc_put_bytes(e, op, oplen);
	tc_put8(e, (uint8_t)(0x05 | ((reg & 7) << 3)));
	tc_put_state_rel(e, field, after);
}

/* movb $v,field(%rip) */
static void put_store8(struct tc_emitter *e, const void *field, uint8_t v)
{
	tc_put_bytes(e, "\xc6\x05", 2);
	tc_put_state_rel(e, field, 1);
	tc_put8(e, v);
}

/* A record for pc's instruction, all of it inline. */
static struct tc_rec *inline_rec(struct tc_emitter *e, const cs_insn *insn,
				 uint64_t pc)
{
	return tc_begin(e, TK_INSN, pc, insn);
}

static void finish(struct tc_emitter *e, struct tc_rec *r, uint32_t done,
		   uint8_t flags)
{
	r->done = (uint8_t)(done - r->host);
	r->flags |= flags;
	tc_end(e, r);
}

/* ---- cli, sti --------------------------------------------------------- */

static void emit_cli(struct tc_emitter *e, struct tc_rec *r)
{
	put_store8(e, &e->tr->xs->vif, 0);
	r->clean = (uint8_t)(tc_here(e) - r->host);
	finish(e, r, tc_here(e), 0);
}

static void emit_sti(struct tc_emitter *e, struct tc_rec *r)
{
	uint32_t done;

	put_store8(e, &e->tr->xs->vif, 1);
	done = tc_here(e);
	put_store8(e, e->tr->guard, 0);           /* the probe */
	r->clean = (uint8_t)(done - r->host);
	finish(e, r, done, TRF_SHADOW | TRF_STEPS);
}

/* The end of a check that falls through to the emulator: its record r
 * (never "after" its instruction), then the callout for insn. */
static bool end_check(struct tc_emitter *e, struct tc_rec *r,
		      const cs_insn *insn, uint64_t pc)
{
	struct tc_rec *co;

	tc_end(e, r);
	r->done = (uint8_t)r->len;
	if (!(co = tc_begin(e, TK_CALLOUT, pc, insn)))
		return false;
	tc_put_callout(e, tc_rec_index(e->tr, co));
	tc_end(e, co);
	return true;
}

/* ---- pushf ------------------------------------------------------------ */

/* a = flags_adj[vif] (b borrowed for the table's address) */
static void load_adj(struct tc_emitter *e, unsigned a, unsigned b)
{
	struct tc_state *xs = e->tr->xs;

	put_rip_op(e, false, "\x0f\xb6", 2, a, &xs->vif, 0); /* movzbl */
	put_rip_op(e, true, "\x8d", 1, b, xs->flags_adj, 0);  /* lea */
	/* mov (b,a,8),a */
	tc_put8(e, (uint8_t)(0x48 | ((a >> 3) << 2) | ((a >> 3) << 1) |
			     (b >> 3)));
	tc_put8(e, 0x8b);
	tc_put8(e, (uint8_t)(0x04 | ((a & 7) << 3)));
	tc_put8(e, (uint8_t)(0xc0 | ((a & 7) << 3) | (b & 7)));
}

static void emit_pushf64(struct tc_emitter *e, struct tc_rec *r)
{
	struct tc_state *xs = e->tr->xs;

	tc_state_move(e, RCX, &xs->slot[0], false);
	tc_state_move(e, RDX, &xs->slot[1], false);
	r->clean = (uint8_t)(tc_here(e) - r->host);
	r->nscratch = 2;
	r->scratch[0] = RCX;
	r->scratch[1] = RDX;
	tc_put8(e, 0x9c);                          /* pushfq */
	load_adj(e, RCX, RDX);
	tc_put_bytes(e, "\x48\x8b\x14\x24", 4);       /* mov (%rsp),%rdx */
	tc_put_bytes(e, "\x48\x8d\x14\x0a", 4);       /* lea (%rdx,%rcx),%rdx */
	tc_put_bytes(e, "\x48\x89\x14\x24", 4);       /* mov %rdx,(%rsp) */
	tc_state_move(e, RCX, &xs->slot[0], true);
	tc_state_move(e, RDX, &xs->slot[1], true);
	finish(e, r, tc_here(e), TRF_STEPS);
}

/* mov %rsp,save_rsp; lea mini_top,%rsp (and back) */
static void mini_stack(struct tc_emitter *e, bool enter)
{
	struct tc_state *xs = e->tr->xs;

	if (enter) {
		tc_state_move(e, RSP, &xs->save_rsp, false);
		put_rip_op(e, true, "\x8d", 1, RSP, &xs->mini[2], 0);
	} else {
		tc_state_move(e, RSP, &xs->save_rsp, true);
	}
}

static void emit_pushf32(struct tc_emitter *e, struct tc_rec *r)
{
	mini_stack(e, true);
	tc_put8(e, 0x9c);                          /* pushfq */
	tc_put_bytes(e, "\x41\x58", 2);               /* pop %r8 */
	mini_stack(e, false);
	load_adj(e, R9, R10);
	tc_put_bytes(e, "\x4f\x8d\x04\x08", 4);       /* lea (%r8,%r9),%r8 */
	/* mov %r8d,-4(%esp) (a fault: nothing has changed yet) */
	tc_put_bytes(e, "\x67\x44\x89\x44\x24\xfc", 6);
	tc_put_bytes(e, "\x67\x8d\x64\x24\xfc", 5);   /* lea -4(%esp),%esp */
	finish(e, r, tc_here(e), TRF_STEPS);
}

/* ---- popf ------------------------------------------------------------- */

/*
 * Three records: the check (the popped value's TF, IOPL and AC against
 * the guest's, x the register it is loaded into), a callout for the
 * emulator when they differ, and the fast path.
 */
static enum tc_next emit_popf(struct tc_emitter *e, const cs_insn *insn,
			      uint64_t pc, bool wide)
{
	struct translator *tr = e->tr;
	struct tc_state *xs = tr->xs;
	unsigned x = wide ? RCX : R8, p = wide ? RCX : R9;
	struct tc_rec *r = inline_rec(e, insn, pc);
	uint8_t *jz;

	if (!r)
		return TN_FAIL;
	if (wide) {
		tc_state_move(e, RCX, &xs->slot[0], false);
		r->nscratch = 1;
		r->scratch[0] = RCX;
		r->clean = (uint8_t)(tc_here(e) - r->host);
		tc_put_bytes(e, "\x8b\x0c\x24", 3);       /* mov (%rsp),%ecx */
	} else {
		tc_put_bytes(e, "\x67\x44\x8b\x04\x24", 5); /* mov (%esp),%r8d */
	}
	put_rip_op(e, false, "\x33", 1, x, &xs->popf_cur, 0); /* xor */
	if (x >= 8)
		tc_put8(e, 0x41);
	tc_put8(e, 0xf7);                          /* test $POPF_SLOW,x */
	tc_put8(e, (uint8_t)(0xc0 | (x & 7)));
	tc_put32(e, POPF_SLOW);
	jz = e->p;
	tc_put_bytes(e, "\x0f\x84\0\0\0\0", 6);       /* jz fast */
	if (wide)
		tc_state_move(e, RCX, &xs->slot[0], true);
	/* The emulator's popf. */
	if (!end_check(e, r, insn, pc))
		return TN_FAIL;
	/* fast: IF to vif; the probe's address in p; the host's popf. */
	{
		uint32_t rel = (uint32_t)(e->p - (jz + 6));

		memcpy(jz + 2, &rel, 4);
	}
	if (!(r = inline_rec(e, insn, pc)))
		return TN_FAIL;
	if (wide) {
		r->nscratch = 1;
		r->scratch[0] = RCX;
	}
	if (wide && tr->sahf) {                    /* rax too, for sahf */
		tc_state_move(e, RAX, &xs->slot[1], false);
		r->nscratch = 2;
		r->scratch[1] = RAX;
	}
	if (x >= 8)
		tc_put8(e, 0x41);
	tc_put_bytes(e, "\x0f\xba", 2);               /* bt $9,x */
	tc_put8(e, (uint8_t)(0xe0 | (x & 7)));
	tc_put8(e, 9);
	put_rip_op(e, false, "\x0f\x92", 2, 0, &xs->vif, 0);  /* setc vif */
	put_rip_op(e, false, "\x0f\xb6", 2, p, &xs->vif, 0);  /* movzbl */
	if (p >= 8)
		tc_put8(e, 0x41);
	tc_put8(e, 0xf7);                          /* neg p */
	tc_put8(e, (uint8_t)(0xd8 | (p & 7)));
	if (p >= 8)
		tc_put8(e, 0x41);
	tc_put8(e, 0x81);                          /* and $guard-sink,p */
	tc_put8(e, (uint8_t)(0xe0 | (p & 7)));
	tc_put32(e, (uint32_t)(tr->guard - (uint8_t *)&xs->sink));
	put_rip_op(e, true, "\x03", 1, p, &xs->sink_addr, 0); /* add */
	if (wide && tr->sahf) {
		/* The host's popfq is microcoded, as slow as all the rest:
		 * OF from bit 11 by an add that overflows or not, the other
		 * arithmetic flags by sahf, DF by cld or std. */
		tc_put_bytes(e, "\x8b\x04\x24", 3);    /* mov (%rsp),%eax */
		tc_put_bytes(e, "\x0f\xba\xe0\x0a", 4); /* bt $10,%eax */
		tc_put_bytes(e, "\x72\x03\xfc\xeb\x01\xfd", 6); /* cld/std */
		tc_put_bytes(e, "\xc1\xe0\x14", 3);    /* shl $20,%eax */
		tc_put_bytes(e, "\xc1\xf8\x1f", 3);    /* sar $31,%eax */
		tc_put_bytes(e, "\xd1\xe8", 2);         /* shr $1,%eax */
		tc_put_bytes(e, "\x83\xc0\x01", 3);    /* add $1,%eax: OF */
		tc_put_bytes(e, "\x8a\x24\x24", 3);    /* mov (%rsp),%ah */
		tc_put8(e, 0x9e);                  /* sahf */
		tc_put_bytes(e, "\x48\x8d\x64\x24\x08", 5); /* lea 8(%rsp) */
	} else if (wide) {
		tc_put8(e, 0x9d);                  /* popfq */
	} else {
		tc_put_bytes(e, "\x67\x44\x8b\x04\x24", 5); /* mov (%esp),%r8d */
		mini_stack(e, true);
		tc_put_bytes(e, "\x41\x50", 2);       /* push %r8 */
		tc_put8(e, 0x9d);                  /* popfq */
		mini_stack(e, false);
		tc_put_bytes(e, "\x67\x8d\x64\x24\x04", 5); /* lea 4(%esp),%esp */
	}
	r->done = (uint8_t)(tc_here(e) - r->host);
	if (p >= 8)
		tc_put8(e, 0x41);
	tc_put8(e, 0xc6);                          /* movb $0,(p): the probe */
	tc_put8(e, (uint8_t)(p & 7));
	tc_put8(e, 0);
	if (wide && tr->sahf)
		tc_state_move(e, RAX, &xs->slot[1], true);
	if (wide)
		tc_state_move(e, RCX, &xs->slot[0], true);
	r->flags |= TRF_STEPS;
	tc_end(e, r);
	return TN_GO_ON;
}

/* ---- mov from a segment register ------------------------------------- */

static bool emit_mov_sreg(struct tc_emitter *e, const cs_insn *insn,
			  struct tc_rec *r)
{
	const cs_x86 *x = &insn->detail->x86;
	int g, sr;

	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
	    x->operands[1].type != X86_OP_REG ||
	    (g = reg_gpr(x->operands[0].reg)) < 0 ||
	    (sr = reg_sreg(x->operands[1].reg)) < 0)
		return false;
	if (x->operands[0].size == 2) {            /* mov sel,%r16 */
		tc_put8(e, 0x66);
		put_rip_op(e, false, "\x8b", 1, (unsigned)g,
			   &e->tr->xs->sel[sr], 0);
	} else {                                   /* movzwl sel,%r32 */
		put_rip_op(e, false, "\x0f\xb7", 2, (unsigned)g,
			   &e->tr->xs->sel[sr], 0);
	}
	r->clean = (uint8_t)(tc_here(e) - r->host);
	finish(e, r, tc_here(e), 0);
	return true;
}

/* ---- a device register's fixed value ------------------------------- */

/* lea OPERAND,%rcx for a 64-bit instruction's ModRM memory operand */
static bool put_lea64(struct tc_emitter *e, const cs_insn *insn)
{
	const uint8_t *b = insn->bytes;
	struct bt_enc n;

	if (!bt_parse_enc(insn, &n) || n.rip_relative)
		return false;
	tc_put8(e, (uint8_t)(0x48 | (n.rex & 0x03)));
	tc_put8(e, 0x8d);
	tc_put8(e, (uint8_t)((b[n.modrm_at] & 0xc7) | (RCX << 3)));
	tc_put_bytes(e, b + n.modrm_at + 1, n.mem_end - n.modrm_at - 1);
	return true;
}

/*
 * mov OPERAND,%reg where OPERAND was a fixed device register (the local
 * APIC's ID, which xv6 reads on every pushcli): the value, while the
 * operand's address is the one it was read at; else the emulator's.
 *
 *     mov %rcx,slot0; lea OPERAND,%rcx; lea -ADDR(%rcx),%ecx; jrcxz 1f
 *     mov slot0,%rcx; callout
 * 1:  mov slot0,%rcx; mov $VALUE,%reg
 */
enum tc_next tc_emit_fold(struct tc_emitter *e, const cs_insn *insn,
			  uint64_t pc, const struct tc_site *site, bool wide)
{
	struct translator *tr = e->tr;
	struct tc_state *xs = tr->xs;
	const cs_x86 *x = &insn->detail->x86;
	int g = reg_gpr(x->operands[0].reg);
	struct tc_rec *r;
	uint8_t *jrcxz;

	/* (The site's instruction as it was when the value was read.) */
	if (insn->id != X86_INS_MOV || x->op_count != 2 ||
	    x->operands[0].type != X86_OP_REG || x->operands[0].size != 4 ||
	    x->operands[1].type != X86_OP_MEM || x->operands[1].size != 4)
		return TN_FAIL;
	r = inline_rec(e, insn, pc);
	if (!r || g < 0 ||
	    (wide && (uint64_t)(int64_t)(int32_t)site->addr != site->addr)) {
		if (r)
			tr->nrecs--;
		return TN_FAIL;
	}
	tc_state_move(e, RCX, &xs->slot[0], false);
	r->clean = (uint8_t)(tc_here(e) - r->host);
	r->nscratch = 1;
	r->scratch[0] = RCX;
	if (!(wide ? put_lea64(e, insn) : tc32_put_lea(e, insn, RCX))) {
		e->p = tr->code + r->host;
		tr->nrecs--;
		return TN_FAIL;
	}
	if (wide)
		tc_put8(e, 0x48);                  /* lea -ADDR(%rcx),%rcx */
	tc_put8(e, 0x8d);                          /* (32-bit: ...,%ecx) */
	tc_put8(e, 0x89);
	tc_put32(e, (uint32_t)-(int32_t)(uint32_t)site->addr);
	jrcxz = e->p;
	tc_put_bytes(e, "\xe3\x00", 2);
	tc_state_move(e, RCX, &xs->slot[0], true);
	if (!end_check(e, r, insn, pc))
		return TN_FAIL;
	jrcxz[1] = (uint8_t)(e->p - (jrcxz + 2));
	if (!(r = inline_rec(e, insn, pc)))
		return TN_FAIL;
	r->nscratch = 1;
	r->scratch[0] = RCX;
	tc_state_move(e, RCX, &xs->slot[0], true);
	if (g >= 8)
		tc_put8(e, 0x41);
	tc_put8(e, (uint8_t)(0xb8 | (g & 7)));     /* mov $VALUE,%reg */
	tc_put32(e, site->val);
	r->done = (uint8_t)(tc_here(e) - r->host);
	tc_end(e, r);
	return TN_GO_ON;
}

/* ---- the choice --------------------------------------------------------- */

enum tc_next tc_inline(struct tc_emitter *e, const cs_insn *insn,
		       uint64_t pc, bool wide)
{
	struct tc_rec *r;

	if (e->tr->observed || vcpu_cpl(e->tr->cpu) != 0 ||
	    (bt_has_prefix(insn, 0x66) && insn->id != X86_INS_MOV))
		return TN_FAIL;
	switch (insn->id) {
	case X86_INS_POPFQ: case X86_INS_POPFD:
		return emit_popf(e, insn, pc, wide);
	case X86_INS_CLI: case X86_INS_STI: case X86_INS_PUSHFQ:
	case X86_INS_PUSHFD: case X86_INS_MOV:
		break;
	default:
		return TN_FAIL;
	}
	if (!(r = inline_rec(e, insn, pc)))
		return TN_FAIL;
	switch (insn->id) {
	case X86_INS_CLI:
		emit_cli(e, r);
		return TN_GO_ON;
	case X86_INS_STI:
		emit_sti(e, r);
		return TN_GO_ON;
	case X86_INS_PUSHFQ:
		emit_pushf64(e, r);
		return TN_GO_ON;
	case X86_INS_PUSHFD:
		emit_pushf32(e, r);
		return TN_GO_ON;
	}
	if (emit_mov_sreg(e, insn, r))
		return TN_GO_ON;
	e->p = e->tr->code + r->host;
	e->tr->nrecs--;
	return TN_FAIL;
}

/* What the inline code reads of the vCPU, before the guest runs in the
 * cache: the flags pushf adds, what popf keeps, the selectors. */
void tc_sync_state(struct translator *tr)
{
	const struct vcpu *v = tr->cpu;
	struct tc_state *xs = tr->xs;
	uint64_t virt = v->rflags & (RFLAGS_IOPL | RFLAGS_AC | RFLAGS_VIF |
				     RFLAGS_VIP);
	unsigned i;

	/* The host runs the cache with IF set, IOPL 0 and AC clear. */
	xs->flags_adj[0] = virt - RFLAGS_IF;
	xs->flags_adj[1] = virt;
	xs->popf_cur = (uint32_t)(v->rflags & POPF_SLOW);
	for (i = 0; i < NR_SREGS; i++)
		xs->sel[i] = v->seg[i].sel;
	xs->sink_addr = (uint64_t)&xs->sink;
	xs->bias = (uint64_t)tc_key(v) << 57;
	/* What the guest's vector state is (the trampoline keeps it). */
	xs->save_full = tr->save != TR_FXSAVE && (v->cr4 & CR4_OSXSAVE) &&
			(v->xcr0 & ~3ull);
	xs->save_mask = (uint32_t)(v->xcr0 | 3);
}
