/*
 * 32-bit guest code (compatibility or protected mode) as 64-bit host
 * code, so that the cache can sit above 4 GiB and a 32-bit guest own all
 * of its low 4 GiB.  What differs between the two modes, and what the
 * cache does about it:
 *
 *   - addresses: every memory operand gets 67, 32-bit addressing, which
 *     wraps at 4 GiB as the guest's does; ModRM's disp32 alone (mod 00,
 *     rm 101), RIP-relative in 64-bit code, becomes SIB's disp32 alone;
 *   - the stack: push, pop, call and ret cannot be 32 bits wide in 64-bit
 *     code; each becomes moves through (%esp) and a lea of %esp, which
 *     touch no flag.  A store comes before the stack pointer moves, so a
 *     fault leaves the guest's state before the instruction;
 *   - inc and dec of a register (40-4f) are REX prefixes there: ff /0
 *     and ff /1 do the same, flags and all;
 *   - what 64-bit code has no encoding for (pusha and popa: expanded;
 *     aaa, bound, les, push of a segment register...) runs natively, one
 *     step (tc_emit_native), as does code with 16-bit addressing or an
 *     fs or gs base (whose wrap at 4 GiB the host base would not keep);
 *   - r8-r15, which 32-bit code cannot name, are the cache's own: a
 *     rewrite borrows r8 freely, and the backend never takes r8-r15 from
 *     the host into a 32-bit vCPU.
 * The segments are taken as flat (base 0), as the native run of 32-bit
 * code takes them (docs/limits.md).
 */
#include <string.h>

#include "cpu/debugreg.h"
#include "cpu/emulate.h"
#include "cpu/vcpu.h"
#include "engine/bt.h"
#include "engine/bt-internal.h"
#include "engine/tc-internal.h"

#define R8 8u

/* Where an instruction's parts are. */
struct enc32 {
	unsigned npfx;          /* legacy prefixes, from byte 0 */
	unsigned op_start;      /* its opcode */
	unsigned modrm_at;      /* its ModRM (0: none) */
	unsigned mem_end;       /* past SIB and displacement */
	bool mem;               /* ModRM names memory */
	bool abs32;             /* ...as mod 00 rm 101: disp32 alone */
};

static void parse(const cs_insn *insn, struct enc32 *n)
{
	const uint8_t *b = insn->bytes;
	unsigned at = insn->detail->x86.encoding.modrm_offset, p = 0;
	uint8_t mod, rm;

	memset(n, 0, sizeof(*n));
	while (p < insn->size && bt_is_legacy_prefix(b[p]))
		p++;
	n->npfx = n->op_start = p;
	if (at <= p || at >= insn->size)
		return;
	n->modrm_at = at;
	mod = b[at] >> 6;
	rm = b[at] & 7;
	n->mem_end = at + 1;
	if (mod == 3)
		return;
	n->mem = true;
	if (rm == 4)
		n->mem_end++;
	if (mod == 1)
		n->mem_end += 1;
	else if (mod == 2 || (mod == 0 && rm == 5) ||
		 (mod == 0 && rm == 4 && (b[at + 1] & 7) == 5))
		n->mem_end += 4;
	n->abs32 = mod == 0 && rm == 5;
}

bool tc32_takes(const cs_insn *insn)
{
	const uint8_t *b = insn->bytes;
	struct enc32 n;
	unsigned i;

	parse(insn, &n);
	/* Room for 67 and a SIB byte within 15. */
	if (insn->size + 2 > 15 || n.op_start >= insn->size)
		return false;
	for (i = 0; i < n.npfx; i++)
		if (b[i] == 0x67 || b[i] == 0x64 || b[i] == 0x65)
			return false;
	/* VEX, EVEX and XOP (and what 32-bit code has at c4, c5, 62). */
	if (b[n.op_start] == 0xc4 || b[n.op_start] == 0xc5 ||
	    b[n.op_start] == 0x62 || b[n.op_start] == 0x82 ||
	    (b[n.op_start] == 0x8f && insn->id != X86_INS_POP))
		return false;
	switch (insn->id) {
	case X86_INS_AAA: case X86_INS_AAD: case X86_INS_AAM:
	case X86_INS_AAS: case X86_INS_DAA: case X86_INS_DAS:
	case X86_INS_SALC: case X86_INS_BOUND: case X86_INS_ARPL:
	case X86_INS_INTO: case X86_INS_LDS: case X86_INS_LES:
	case X86_INS_ENTER: case X86_INS_PUSHAW: case X86_INS_POPAW:
		return false;
	}
	return true;
}

/* ---- encoding ----------------------------------------------------------- */

/* ModRM (with reg field reg), SIB and displacement of insn's memory
 * operand, for 32-bit addressing in 64-bit code. */
static void put_mem(struct tc_emitter *e, const cs_insn *insn,
		    const struct enc32 *n, unsigned reg)
{
	const uint8_t *b = insn->bytes;
	uint8_t modrm = b[n->modrm_at];

	if (n->abs32) {
		tc_put8(e, (uint8_t)(((reg & 7) << 3) | 0x04));
		tc_put8(e, 0x25);                /* SIB: no base, no index */
	} else {
		tc_put8(e, (uint8_t)((modrm & 0xc7) | ((reg & 7) << 3)));
	}
	tc_put_bytes(e, b + n->modrm_at + 1, n->mem_end - n->modrm_at - 1);
}

/* 67, insn's own prefixes, rex (0: none) and opcode, then its memory
 * operand with reg in ModRM's reg field. */
static void put_on_mem(struct tc_emitter *e, const cs_insn *insn,
		       const struct enc32 *n, uint8_t rex, const char *op,
		       unsigned oplen, unsigned reg)
{
	tc_put8(e, 0x67);
	tc_put_bytes(e, insn->bytes, n->npfx);
	if (rex)
		tc_put8(e, rex);
	tc_put_bytes(e, op, oplen);
	put_mem(e, insn, n, reg);
}

/* mov %g,disp(%esp) or mov disp(%esp),%g, g any of 16 registers */
static void esp_move(struct tc_emitter *e, unsigned g, int8_t disp, bool load)
{
	tc_put8(e, 0x67);
	if (g >= 8)
		tc_put8(e, 0x44);
	tc_put8(e, load ? 0x8b : 0x89);
	tc_put8(e, (uint8_t)(0x44 | ((g & 7) << 3)));
	tc_put8(e, 0x24);
	tc_put8(e, (uint8_t)disp);
}

/* lea disp(%esp),%esp */
static void esp_add(struct tc_emitter *e, int32_t disp)
{
	if (disp >= -128 && disp < 128) {
		tc_put_bytes(e, "\x67\x8d\x64\x24", 4);
		tc_put8(e, (uint8_t)(int8_t)disp);
	} else {
		tc_put_bytes(e, "\x67\x8d\xa4\x24", 4);
		tc_put32(e, (uint32_t)disp);
	}
}

void tc32_put_ret_pop(struct tc_emitter *e, uint32_t bytes)
{
	esp_add(e, (int32_t)bytes);
}

void tc32_put_call_push(struct tc_emitter *e, uint32_t ret)
{
	tc_put_bytes(e, "\x67\xc7\x44\x24\xfc", 5);   /* movl $ret,-4(%esp) */
	tc_put32(e, ret);
	esp_add(e, -4);
}

bool tc32_put_lea(struct tc_emitter *e, const cs_insn *insn, unsigned reg)
{
	struct enc32 n;

	parse(insn, &n);
	if (!n.mem)
		return false;
	tc_put8(e, 0x67);
	if (reg >= 8)
		tc_put8(e, 0x44);
	tc_put8(e, 0x8d);
	put_mem(e, insn, &n, reg);
	return true;
}

bool tc32_load_target(struct tc_emitter *e, const cs_insn *insn)
{
	const cs_x86_op *op = &insn->detail->x86.operands[0];
	struct enc32 n;
	int g;

	if (op->size != 4)
		return false;
	if (op->type == X86_OP_REG) {
		if ((g = reg_gpr(op->reg)) < 0)
			return false;
		tc_put8(e, 0x8b);                  /* mov %g,%ecx */
		tc_put8(e, (uint8_t)(0xc8 | g));
		return true;
	}
	parse(insn, &n);
	if (op->type != X86_OP_MEM || !n.mem)
		return false;
	put_on_mem(e, insn, &n, 0, "\x8b", 1, RCX);
	return true;
}

/* ---- the stack -------------------------------------------------------- */

static bool uses_esp(const cs_x86_op *op)
{
	return op->mem.base == X86_REG_ESP || op->mem.index == X86_REG_ESP;
}

static bool emit_push(struct tc_emitter *e, const cs_insn *insn)
{
	const cs_x86_op *op = &insn->detail->x86.operands[0];
	struct enc32 n;
	int g;

	if (insn->detail->x86.op_count != 1 || bt_has_prefix(insn, 0x66))
		return false;
	switch (op->type) {
	case X86_OP_REG:
		if ((g = reg_gpr(op->reg)) < 0 || op->size != 4)
			return false;           /* (a segment register) */
		esp_move(e, (unsigned)g, -4, false);
		break;
	case X86_OP_IMM:
		tc_put_bytes(e, "\x67\xc7\x44\x24\xfc", 5);
		tc_put32(e, (uint32_t)op->imm);
		break;
	case X86_OP_MEM:
		parse(insn, &n);
		if (op->size != 4 || !n.mem)
			return false;
		put_on_mem(e, insn, &n, 0x44, "\x8b", 1, R8);
		esp_move(e, R8, -4, false);
		break;
	default:
		return false;
	}
	esp_add(e, -4);
	return true;
}

static bool emit_pop(struct tc_emitter *e, const cs_insn *insn,
		     struct tc_rec *r)
{
	const cs_x86_op *op = &insn->detail->x86.operands[0];
	struct enc32 n;
	int g;

	if (insn->detail->x86.op_count != 1 || bt_has_prefix(insn, 0x66) ||
	    op->size != 4)
		return false;
	r->flags |= TRF_STEPS;
	if (op->type == X86_OP_REG) {
		if ((g = reg_gpr(op->reg)) < 0)
			return false;
		if (g == RSP) {                 /* the value popped wins */
			tc_put_bytes(e, "\x67\x8b\x24\x24", 4);
			return true;
		}
		esp_move(e, (unsigned)g, 0, true);
		esp_add(e, 4);
		return true;
	}
	parse(insn, &n);
	/* (An operand addressed by esp sees it moved: rare, native.) */
	if (op->type != X86_OP_MEM || !n.mem || uses_esp(op))
		return false;
	esp_move(e, R8, 0, true);
	put_on_mem(e, insn, &n, 0x44, "\x89", 1, R8);
	esp_add(e, 4);
	return true;
}

/* pusha: eax, ecx, edx, ebx, the esp before, ebp, esi, edi. */
static void emit_pusha(struct tc_emitter *e)
{
	unsigned g;

	for (g = 0; g < 8; g++)
		esp_move(e, g, (int8_t)(-4 * (int)(g + 1)), false);
	esp_add(e, -32);
}

/* popa: the reverse, but esp's slot skipped.  Both ends are read first,
 * so that a fault comes before any register changes. */
static void emit_popa(struct tc_emitter *e, struct tc_rec *r)
{
	unsigned g;

	r->flags |= TRF_STEPS;
	esp_move(e, R8, 0, true);
	esp_move(e, R8, 28, true);
	for (g = 8; g-- > 0;)
		if (g != RSP)
			esp_move(e, g, (int8_t)(4 * (7 - g)), true);
	esp_add(e, 32);
}

/* leave: mov %ebp,%esp; pop %ebp, the load first. */
static void emit_leave(struct tc_emitter *e, struct tc_rec *r)
{
	r->flags |= TRF_STEPS;
	tc_put_bytes(e, "\x67\x44\x8b\x45\x00", 5);   /* mov (%ebp),%r8d */
	tc_put_bytes(e, "\x67\x8d\x65\x04", 4);       /* lea 4(%ebp),%esp */
	tc_put_bytes(e, "\x44\x89\xc5", 3);           /* mov %r8d,%ebp */
}

/* ---- everything else -------------------------------------------------- */

/* The instruction itself, with 67 and its disp32 alone made SIB's. */
static void emit_copy(struct tc_emitter *e, const cs_insn *insn)
{
	const uint8_t *b = insn->bytes;
	struct enc32 n;

	parse(insn, &n);
	tc_put8(e, 0x67);
	if (!n.mem) {
		tc_put_bytes(e, b, insn->size);
		return;
	}
	tc_put_bytes(e, b, n.modrm_at);
	put_mem(e, insn, &n, (b[n.modrm_at] >> 3) & 7);
	tc_put_bytes(e, b + n.mem_end, insn->size - n.mem_end);
}

enum tc_next tc32_emit(struct tc_emitter *e, const cs_insn *insn,
		       uint64_t pc)
{
	struct tc_rec *r = tc_begin(e, TK_INSN, pc, insn);
	struct enc32 n;
	bool ok = true;
	uint8_t op;

	if (!r)
		return TN_FAIL;
	parse(insn, &n);
	op = insn->bytes[n.op_start];
	switch (insn->id) {
	case X86_INS_PUSH:
		ok = emit_push(e, insn);
		break;
	case X86_INS_POP:
		ok = emit_pop(e, insn, r);
		break;
	case X86_INS_PUSHAL:
		emit_pusha(e);
		break;
	case X86_INS_POPAL:
		emit_popa(e, r);
		break;
	case X86_INS_LEAVE:
		ok = !bt_has_prefix(insn, 0x66);
		if (ok)
			emit_leave(e, r);
		break;
	case X86_INS_INC: case X86_INS_DEC:
		if ((op & 0xf0) == 0x40) {     /* ff /0 or ff /1 */
			tc_put_bytes(e, insn->bytes, n.npfx);
			tc_put8(e, 0xff);
			tc_put8(e, (uint8_t)(0xc0 | (op & 0x0f)));
			break;
		}
		emit_copy(e, insn);
		break;
	default:
		emit_copy(e, insn);
	}
	/* A guest breakpoint armed: a rewrite in steps would report a data
	 * breakpoint between them; the instruction runs natively. */
	if (!ok || ((r->flags & TRF_STEPS) && debugreg_armed(e->tr->cpu))) {
		e->p = e->tr->code + r->host;
		e->tr->nrecs--;
		return TN_FAIL;
	}
	r->clean = r->done = (uint8_t)(e->p - (e->tr->code + r->host));
	tc_end(e, r);
	return TN_GO_ON;
}
