/*
 * The translation cache's rewrite (see bt.h and bt.c): one guest
 * instruction, as the cache runs it.
 *
 * Each guest instruction becomes one of:
 *   - itself, when it does not touch memory through RIP or the window;
 *   - for a RIP-relative operand: its address in a borrowed register,
 *     then the instruction on (%reg);
 *   - for an access that has faulted in the window ("upper"):
 *         mov %s1,slot0(%rip); mov %s2,slot1(%rip); mov %s3,slot2(%rip)
 *         lea M,%s1                   the address the guest computes
 *         rorx $32,%s1,%s2; movzwl %s2w,%s2d      its bits 32..47
 *         movabs $table,%s3; mov (%s3,%s2,8),%s2  the offset for them
 *         lea (%s1,%s2),%s1
 *         OP (%s1)                    the instruction, on the new address
 *         mov slot0(%rip),%s1; ...    the borrowed registers back
 *     None of these touches the flags.
 */
#include <string.h>

#include "engine/bt.h"
#include "engine/bt-internal.h"
#include "cpu/emulate.h"
#include "trapeze/abi.h"
#include "cpu/vcpu.h"

/* ---- the table ------------------------------------------------------- */

/*
 * For an address with bits 32..47 equal to i: the window's (i = 0xffff)
 * goes to its alias; the guest window's own (below 2^46) to itself; the
 * rest, which no native access could reach, to an address with bit 47
 * set and bits 32..46 clear, which is either non-canonical or in the
 * host kernel's half: it faults, and the real address is then looked at.
 */
uint64_t bt_table_offset(uint64_t addr)
{
	uint64_t i = (addr >> 32) & 0xffff;

	if (i == 0xffff)
		return ALIAS_BASE - BT_WINDOW_BASE;
	if (i < (TRAPEZE_GVA_LIMIT >> 32))
		return 0;
	return (1ull << 47) - (i << 32);
}

/* ---- encoding -------------------------------------------------------- */


void bt_put32(struct emitter *e, uint32_t x)
{
	memcpy(e->p, &x, 4);
	e->p += 4;
}

static void put64(struct emitter *e, uint64_t x)
{
	memcpy(e->p, &x, 8);
	e->p += 8;
}

static uint8_t rex(bool w, unsigned r, unsigned x, unsigned b)
{
	return 0x40 | (w ? 8 : 0) | ((r >> 3) << 2) | ((x >> 3) << 1) |
	       (b >> 3);
}

/* mov %reg,slot(%rip) (store) or mov slot(%rip),%reg (load) */
static void slot_move(struct emitter *e, unsigned reg, unsigned slot,
		      bool load)
{
	*e->p++ = rex(true, reg, 0, 0);
	*e->p++ = load ? 0x8b : 0x89;
	*e->p++ = 0x05 | ((reg & 7) << 3);
	bt_put32(e, (uint32_t)((uint64_t)(e->slots + slot) -
			    (uint64_t)(e->p + 4)));
}

static void movabs(struct emitter *e, unsigned reg, uint64_t imm)
{
	*e->p++ = rex(true, 0, 0, reg);
	*e->p++ = 0xb8 + (reg & 7);
	put64(e, imm);
}

bool bt_is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3: case 0x2e: case 0x36: case 0x3e:
	case 0x26: case 0x64: case 0x65: case 0x66: case 0x67:
		return true;
	}
	return false;
}

bool bt_parse_enc(const cs_insn *insn, struct bt_enc *n)
{
	const cs_x86 *x = &insn->detail->x86;
	const uint8_t *b = insn->bytes;
	unsigned p = 0, at = x->encoding.modrm_offset, disp = 0;
	bool sib;

	memset(n, 0, sizeof(*n));
	n->size = insn->size;
	while (p < n->size && bt_is_legacy_prefix(b[p])) {
		/* fs/gs bases and 32-bit addressing: not this rewrite's */
		if (b[p] == 0x64 || b[p] == 0x65 || b[p] == 0x67)
			return false;
		p++;
	}
	n->npfx = p;
	if (p < n->size && (b[p] & 0xf0) == 0x40)
		n->rex = b[p++];
	/* A REX not right before the opcode is ignored by the CPU. */
	if (p < n->size && bt_is_legacy_prefix(b[p]))
		return false;
	/* VEX, EVEX and XOP encodings (and pop r/m, which shares 8f) */
	if (p >= n->size || b[p] == 0xc4 || b[p] == 0xc5 || b[p] == 0x62 ||
	    b[p] == 0x8f)
		return false;
	n->op_start = p;
	if (at <= p || at >= n->size)
		return false;
	n->modrm_at = at;
	n->mod = b[at] >> 6;
	n->rm = b[at] & 7;
	if (n->mod == 3)
		return false;
	sib = n->rm == 4;
	if (n->mod == 1)
		disp = 1;
	else if (n->mod == 2 || (n->mod == 0 && n->rm == 5) ||
		 (n->mod == 0 && sib && at + 1 < n->size &&
		  (b[at + 1] & 7) == 5))
		disp = 4;
	n->rip_relative = n->mod == 0 && n->rm == 5;
	n->mem_end = at + 1 + (sib ? 1 : 0) + disp;
	return n->mem_end <= n->size;
}

/* The instruction again, with its memory operand replaced by (%reg). */
static void emit_on_reg(struct emitter *e, const cs_insn *insn,
			const struct bt_enc *n, unsigned reg)
{
	const uint8_t *b = insn->bytes;
	uint8_t r = 0x40 | (n->rex & 0x0c) | (reg >> 3);

	memcpy(e->p, b, n->npfx);
	e->p += n->npfx;
	if (n->rex || r != 0x40)
		*e->p++ = r;
	memcpy(e->p, b + n->op_start, n->modrm_at - n->op_start);
	e->p += n->modrm_at - n->op_start;
	*e->p++ = (uint8_t)((b[n->modrm_at] & 0x38) | (reg & 7));
	memcpy(e->p, b + n->mem_end, n->size - n->mem_end);
	e->p += n->size - n->mem_end;
}

/* lea M,%reg with M the instruction's own memory operand (not RIP). */
static void emit_lea_operand(struct emitter *e, const cs_insn *insn,
			     const struct bt_enc *n, unsigned reg)
{
	const uint8_t *b = insn->bytes;

	*e->p++ = 0x48 | ((reg >> 3) << 2) | (n->rex & 0x03);
	*e->p++ = 0x8d;
	*e->p++ = (uint8_t)((n->mod << 6) | ((reg & 7) << 3) | n->rm);
	memcpy(e->p, b + n->modrm_at + 1, n->mem_end - n->modrm_at - 1);
	e->p += n->mem_end - n->modrm_at - 1;
}

/* The general registers an instruction reads or writes, as a mask. */
static unsigned regs_used(csh h, const cs_insn *insn, bool *high_byte)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0, i;
	unsigned mask = 1u << RSP;
	int g;

	const cs_x86 *x = &insn->detail->x86;

	*high_byte = false;
	if (cs_regs_access(h, insn, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return ~0u;
	for (i = 0; i < nrd + nwr; i++)
		if ((g = reg_gpr((x86_reg)(i < nrd ? rd[i] : wr[i - nrd]))) >= 0)
			mask |= 1u << g;
	/* (Capstone 4 lists AH as AX among the registers accessed.) */
	for (i = 0; i < x->op_count; i++) {
		x86_reg r = x->operands[i].reg;

		if (x->operands[i].type != X86_OP_REG)
			continue;
		if (r == X86_REG_AH || r == X86_REG_BH || r == X86_REG_CH ||
		    r == X86_REG_DH)
			*high_byte = true;
		if ((g = reg_gpr(r)) >= 0)
			mask |= 1u << g;
	}
	return mask;
}

/* Borrowable registers, in the order they are taken: none needs a SIB
 * byte or a displacement as a base (rsp, rbp, r12, r13 would). */
static const uint8_t borrowable[] = {
	R11, R10, R9, R8, RDI, RSI, RDX, RCX, RBX, RAX, R14, R15,
};

static bool pick_scratch(unsigned used, bool high_byte, unsigned n,
			 uint8_t *out)
{
	unsigned i, k = 0;

	for (i = 0; i < sizeof(borrowable) && k < n; i++) {
		unsigned r = borrowable[i];

		if (used & (1u << r))
			continue;
		/* The first carries the operand; with AH..BH in the
		 * instruction it must not need a REX prefix. */
		if (k == 0 && high_byte && r >= R8)
			continue;
		out[k++] = (uint8_t)r;
		used |= 1u << r;
	}
	return k == n;
}

bool bt_one_mem_operand(const cs_insn *insn, const cs_x86_op **mem)
{
	const cs_x86 *x = &insn->detail->x86;
	unsigned i, n = 0;

	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM) {
			*mem = &x->operands[i];
			n++;
		}
	return n == 1;
}

/* The instruction on the fixed address abs: one borrowed register holds
 * it (a RIP-relative operand, or a bounce buffer for device memory). */
static bool emit_at(struct emitter *e, csh h, const cs_insn *insn,
		    const struct bt_enc *n, uint64_t abs, struct rec *r)
{
	uint8_t *start = e->p;
	bool high;
	unsigned used = regs_used(h, insn, &high);

	if (!pick_scratch(used, high, 1, r->scratch))
		return false;
	r->nscratch = 1;
	slot_move(e, r->scratch[0], 0, false);
	r->clean = (uint8_t)(e->p - start);
	movabs(e, r->scratch[0], abs);
	emit_on_reg(e, insn, n, r->scratch[0]);
	r->done = (uint8_t)(e->p - start);
	slot_move(e, r->scratch[0], 0, true);
	r->len = (uint16_t)(e->p - start);
	return true;
}

bool bt_has_prefix(const cs_insn *insn, uint8_t prefix)
{
	unsigned p;

	for (p = 0; p < insn->size && bt_is_legacy_prefix(insn->bytes[p]); p++)
		if (insn->bytes[p] == prefix)
			return true;
	return false;
}

bool bt_ambiguous(const cs_insn *insn)
{
	return bt_has_prefix(insn, 0x66) &&
	       (bt_has_prefix(insn, 0xf2) || bt_has_prefix(insn, 0xf3));
}

bool bt_emit_at(struct emitter *e, csh h, const cs_insn *insn,
		uint64_t guest, uint64_t abs, struct rec *r)
{
	const cs_x86_op *mem;
	struct bt_enc n;

	memset(r, 0, sizeof(*r));
	r->kind = R_INSN;
	r->guest = guest;
	r->glen = (uint8_t)insn->size;
	return !bt_ambiguous(insn) && bt_one_mem_operand(insn, &mem) &&
	       bt_parse_enc(insn, &n) && emit_at(e, h, insn, &n, abs, r);
}

bool bt_emit_insn(struct emitter *e, csh h, const cs_insn *insn,
		      uint64_t guest, bool upper, struct rec *r)
{
	const cs_x86_op *mem = NULL;
	uint8_t *start = e->p;
	bool high = false, mem_op = bt_one_mem_operand(insn, &mem);
	struct bt_enc n;
	unsigned k, used;

	memset(r, 0, sizeof(*r));
	r->kind = R_INSN;
	r->guest = guest;
	r->glen = (uint8_t)insn->size;
	if (bt_ambiguous(insn))
		return false;
	if (!mem_op || !bt_parse_enc(insn, &n) ||
	    (!n.rip_relative && !upper)) {
		/* Copied as it is, unless its address depends on where it
		 * runs (RIP- or, with 67, EIP-relative). */
		if (upper || (mem_op && (mem->mem.base == X86_REG_RIP ||
					 mem->mem.base == X86_REG_EIP)))
			return false;
		memcpy(e->p, insn->bytes, insn->size);
		e->p += insn->size;
		r->clean = r->done = (uint8_t)insn->size;
		r->len = (uint16_t)insn->size;
		return true;
	}
	if ((insn->id == X86_INS_BT || insn->id == X86_INS_BTS ||
	     insn->id == X86_INS_BTR || insn->id == X86_INS_BTC) &&
	    insn->detail->x86.operands[1].type == X86_OP_REG)
		return false;
	if (n.rip_relative && !upper) {
		uint64_t abs = guest + insn->size + (uint64_t)(int64_t)
			       insn->detail->x86.disp;
		const cs_x86_op *dst = &insn->detail->x86.operands[0];
		int g;

		/* Nothing to run (but lock nop is #UD: run that natively). */
		if (insn->id == X86_INS_NOP)
			return bt_has_prefix(insn, 0xf0) ? false
				: (r->len = 0, true);
		if (insn->id == X86_INS_LEA) {
			if (dst->type != X86_OP_REG ||
			    (g = reg_gpr(dst->reg)) < 0)
				return false;
			if (dst->size == 8) {
				movabs(e, (unsigned)g, abs);
			} else if (dst->size == 4) {
				if (g >= R8)
					*e->p++ = 0x41;
				*e->p++ = 0xb8 + (g & 7);
				bt_put32(e, (uint32_t)abs);
			} else {
				return false;
			}
			r->len = r->clean = r->done = (uint8_t)(e->p - start);
			return true;
		}
		return emit_at(e, h, insn, &n, abs, r);
	} else {
		unsigned s1, s2, s3;

		used = regs_used(h, insn, &high);
		if (!pick_scratch(used, high, 3, r->scratch))
			return false;
		r->nscratch = 3;
		s1 = r->scratch[0], s2 = r->scratch[1], s3 = r->scratch[2];
		for (k = 0; k < 3; k++)
			slot_move(e, r->scratch[k], k, false);
		r->clean = (uint8_t)(e->p - start);
		/* The address the guest computes: RIP-relative ones are
		 * known now (a displacement may wrap into the window). */
		if (n.rip_relative)
			movabs(e, s1, guest + insn->size + (uint64_t)(int64_t)
				      insn->detail->x86.disp);
		else
			emit_lea_operand(e, insn, &n, s1);
		/* rorx $32,%s1,%s2 (VEX.LZ.F2.0F3A.W1 F0 /r ib) */
		*e->p++ = 0xc4;
		*e->p++ = (uint8_t)(((s2 >= R8) ? 0 : 0x80) | 0x40 |
				    ((s1 >= R8) ? 0 : 0x20) | 0x03);
		*e->p++ = 0xfb;
		*e->p++ = 0xf0;
		*e->p++ = (uint8_t)(0xc0 | ((s2 & 7) << 3) | (s1 & 7));
		*e->p++ = 32;
		/* movzwl %s2w,%s2d */
		if (s2 >= R8)
			*e->p++ = rex(false, s2, 0, s2);
		*e->p++ = 0x0f;
		*e->p++ = 0xb7;
		*e->p++ = (uint8_t)(0xc0 | ((s2 & 7) << 3) | (s2 & 7));
		movabs(e, s3, (uint64_t)e->table);
		/* mov (%s3,%s2,8),%s2 */
		*e->p++ = rex(true, s2, s2, s3);
		*e->p++ = 0x8b;
		*e->p++ = (uint8_t)(0x04 | ((s2 & 7) << 3));
		*e->p++ = (uint8_t)(0xc0 | ((s2 & 7) << 3) | (s3 & 7));
		/* lea (%s1,%s2),%s1 */
		*e->p++ = rex(true, s1, s2, s1);
		*e->p++ = 0x8d;
		*e->p++ = (uint8_t)(0x04 | ((s1 & 7) << 3));
		*e->p++ = (uint8_t)(((s2 & 7) << 3) | (s1 & 7));
	}
	emit_on_reg(e, insn, &n, r->scratch[0]);
	r->done = (uint8_t)(e->p - start);
	for (k = 0; k < r->nscratch; k++)
		slot_move(e, r->scratch[k], k, true);
	r->len = (uint16_t)(e->p - start);
	return true;
}

size_t bt_rewrite(csh h, const cs_insn *insn, uint64_t guest, uint8_t *buf,
		  const uint64_t *slots, const uint64_t *table,
		  uint8_t scratch[3])
{
	struct emitter e = { buf, slots, table };
	struct rec r;

	if (!bt_emit_insn(&e, h, insn, guest, true, &r))
		return 0;
	memcpy(scratch, r.scratch, 3);
	return r.len;
}

