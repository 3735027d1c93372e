/*
 * Descriptor tables and segments: lgdt, lidt, lldt, ltr, sgdt, sidt, sldt,
 * str, mov to and from segment registers, push/pop of them, lss/lfs/lgs,
 * and the far transfers that change CS: far jmp, far call, far ret, iret.
 *
 * The guest's GDT is only ever read by the monitor: every selector it
 * loads is checked against it here and lands in the vCPU's descriptor
 * cache, while the host CPU keeps running the guest on Linux's user
 * segments.  This is also where the guest's privilege level changes
 * (iret and far return to an outer level), so the shadow MMU hears of it.
 */
#include <string.h>

#include "cpu/emulate.h"
#include "cpu/gmem.h"
#include "host/hostcpu.h"
#include "cpu/segment.h"

static enum emu_result fault_gp(struct vcpu *v, uint32_t err)
{
	vcpu_raise_gp(v, err);
	return EMU_FAULT;
}

static bool umip_blocks(struct vcpu *v)
{
	return (v->cr4 & CR4_UMIP) && vcpu_cpl(v) > 0;
}

/* ---- descriptor-table registers ------------------------------------- */

static enum emu_result emulate_lgdt(struct vcpu *v, const cs_insn *insn)
{
	uint64_t addr, base = 0;
	uint16_t limit;
	bool lm = vcpu_mode(v) == MODE_LONG64;
	struct dtable *t = insn->id == X86_INS_LGDT ? &v->gdtr : &v->idtr;

	if (!require_cpl0(v))
		return EMU_FAULT;
	addr = op_addr(v, insn, &x86(insn)->operands[0]);
	if (!gmem_read(v, addr, &limit, 2, 0) ||
	    !gmem_read(v, addr + 2, &base, lm ? 8 : 4, 0))
		return EMU_FAULT;
	if (lm && (uint64_t)((int64_t)(base << 16) >> 16) != base)
		return fault_gp(v, 0);
	if (!lm && insn_opsize(v, insn) == 2)
		base &= 0xffffff;
	t->base = base;
	t->limit = limit;
	return EMU_NEXT;
}

/* sgdt/sidt run silently at CPL 3: the scanner sends them here. */
static enum emu_result emulate_sgdt(struct vcpu *v, const cs_insn *insn)
{
	const struct dtable *t = insn->id == X86_INS_SGDT ? &v->gdtr : &v->idtr;
	bool lm = vcpu_mode(v) == MODE_LONG64;
	uint64_t addr;

	if (umip_blocks(v))
		return fault_gp(v, 0);
	addr = op_addr(v, insn, &x86(insn)->operands[0]);
	if (!gmem_write(v, addr, &t->limit, 2, 0) ||
	    !gmem_write(v, addr + 2, &t->base, lm ? 8 : 4, 0))
		return EMU_FAULT;
	return EMU_NEXT;
}

/* Load LDTR or TR from a system descriptor in the GDT. */
static enum emu_result load_system(struct vcpu *v, const cs_insn *insn,
				   bool is_tr)
{
	struct segment *s = is_tr ? &v->tr : &v->ldtr, seg;
	bool lm = vcpu_long_mode(v);
	struct descriptor d;
	uint64_t sel;
	unsigned type;

	if (!require_cpl0(v) ||
	    !op_read(v, insn, &x86(insn)->operands[0], &sel))
		return EMU_FAULT;
	sel &= 0xffff;
	if ((sel & ~3u) == 0) {
		if (is_tr)
			return fault_gp(v, 0);
		seg_set_null(s, sel);
		return EMU_NEXT;
	}
	if (sel & ERR_TI)
		return fault_gp(v, sel & 0xfffc);
	if (!desc_read(v, sel, &d, lm, X86_GP))
		return EMU_FAULT;
	type = desc_type(&d);
	if (!desc_is_system(&d) ||
	    (is_tr ? !(type == SYS_TSS_AVAIL || (!lm && type == 1))
		   : type != SYS_LDT))
		return fault_gp(v, sel & 0xfffc);
	if (!desc_present(&d)) {
		vcpu_raise(v, X86_NP, true, sel & 0xfffc);
		return EMU_FAULT;
	}
	segment_from_descriptor(&seg, sel, d.lo, d.hi);
	if (lm)
		seg.base |= (uint64_t)d.hi2 << 32;
	/* A 16-byte descriptor's base must be canonical (SDM vol. 2 LTR,
	 * LLDT: #GP(selector) in 64-bit mode). */
	if (lm && !gva_canonical(v, seg.base))
		return fault_gp(v, sel & 0xfffc);
	if (is_tr) {
		d.hi |= 2u << 8;    /* busy, in the descriptor */
		if (!desc_write_hi(v, &d))
			return EMU_FAULT;
		seg.attr |= 2;      /* and in the register */
	}
	*s = seg;
	return EMU_NEXT;
}

static enum emu_result emulate_lldt(struct vcpu *v, const cs_insn *insn)
{
	return load_system(v, insn, false);
}

static enum emu_result emulate_ltr(struct vcpu *v, const cs_insn *insn)
{
	return load_system(v, insn, true);
}

/* Store a selector: 16 bits to memory, zero-extended into a register. */
static enum emu_result store_selector(struct vcpu *v, const cs_insn *insn,
				      const cs_x86_op *dst, uint16_t sel)
{
	if (dst->type == X86_OP_REG) {
		reg_write(v, dst->reg, sel);
		return EMU_NEXT;
	}
	return gmem_write(v, op_addr(v, insn, dst), &sel, 2, 0) ? EMU_NEXT
								 : EMU_FAULT;
}

static enum emu_result emulate_sldt(struct vcpu *v, const cs_insn *insn)
{

	if (umip_blocks(v))
		return fault_gp(v, 0);
	return store_selector(v, insn, &x86(insn)->operands[0],
			      insn->id == X86_INS_SLDT ? v->ldtr.sel : v->tr.sel);
}

/* ---- segment registers ---------------------------------------------- */

/* mov to or from a segment register (EMU_MOV_SREG). */
static enum emu_result emulate_mov_sreg(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	uint64_t sel;
	int sr;

	if (dst->type == X86_OP_REG && (sr = reg_sreg(dst->reg)) >= 0) {
		if (sr == SR_CS) {
			vcpu_raise_ud(v);
			return EMU_FAULT;
		}
		if (!op_read(v, insn, src, &sel) ||
		    !seg_load_data(v, sr, sel & 0xffff))
			return EMU_FAULT;
		if (sr == SR_SS)
			v->irq_shadow = true;
		return EMU_NEXT;
	}
	sr = reg_sreg(src->reg);
	return store_selector(v, insn, dst, v->seg[sr].sel);
}

static unsigned stack_opsize(struct vcpu *v, const cs_insn *insn)
{
	unsigned size = insn_opsize(v, insn);

	return vcpu_mode(v) == MODE_LONG64 && size == 4 ? 8 : size;
}

/* push and pop of a segment register, which the scanner patches (their
 * selector, or the load, is sensitive); and of anything else, which only
 * traps when its stack is on a scanned code page (gmem.c sees whether it
 * overwrites code). */
static enum emu_result emulate_pop_sreg(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *op = &x86(insn)->operands[0];
	unsigned size = stack_opsize(v, insn);
	uint64_t sel, val, rsp = v->gpr[RSP];
	int sr;

	if (op->type != X86_OP_REG || (sr = reg_sreg(op->reg)) < 0) {
		if (!stack_pop(v, &val, size))
			return EMU_FAULT;
		/* pop [rsp+x] addresses with the incremented RSP. */
		if (!op_write(v, insn, op, val)) {
			v->gpr[RSP] = rsp;
			return EMU_FAULT;
		}
		return EMU_NEXT;
	}
	if (!stack_peek(v, 0, &sel, size) ||
	    !seg_load_data(v, sr, sel & 0xffff))
		return EMU_FAULT;
	if (sr == SR_SS)
		v->irq_shadow = true;
	v->gpr[RSP] += size;
	return EMU_NEXT;
}

static enum emu_result emulate_push_sreg(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *op = &x86(insn)->operands[0];
	int sr;

	if (op->type != X86_OP_REG || (sr = reg_sreg(op->reg)) < 0) {
		uint64_t val;

		if (op->type == X86_OP_IMM)
			val = (uint64_t)op->imm;   /* sign-extended already */
		else if (!op_read(v, insn, op, &val))
			return EMU_FAULT;
		return stack_push(v, val, stack_opsize(v, insn)) ? EMU_NEXT
								   : EMU_FAULT;
	}
	return stack_push(v, v->seg[sr].sel, stack_opsize(v, insn))
		       ? EMU_NEXT
		       : EMU_FAULT;
}

/* lss, lfs, lgs: a far pointer (offset, then selector) from memory. */
static enum emu_result emulate_lfp(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	unsigned size = dst->size;
	uint64_t addr = op_addr(v, insn, &x86(insn)->operands[1]), off = 0;
	uint16_t sel;
	enum sreg sr = insn->id == X86_INS_LSS ? SR_SS
		     : insn->id == X86_INS_LFS ? SR_FS : SR_GS;

	if (!gmem_read(v, addr, &off, size, 0) ||
	    !gmem_read(v, addr + size, &sel, 2, 0) ||
	    !seg_load_data(v, sr, sel))
		return EMU_FAULT;
	reg_write(v, dst->reg, off);
	return EMU_NEXT;
}

/* ---- far transfers --------------------------------------------------- */

static uint64_t rip_for_cs(const struct vcpu *v, uint64_t rip)
{
	return vcpu_mode(v) == MODE_LONG64 ? rip : rip & 0xffffffffull;
}

/* The target of a far jmp or call: ptr16:32 immediates or m16:N.  AMD
 * processors (the vendor this vCPU reports on an AMD host) ignore REX.W
 * here and always read m16:32; Intel reads m16:64. */
static bool far_target(struct vcpu *v, const cs_insn *insn, uint64_t *off,
		       uint16_t *sel)
{
	const cs_x86 *d = x86(insn);
	unsigned size = insn_opsize(v, insn);
	uint64_t addr;

	if (size == 8 && v->host->amd)
		size = 4;

	if (d->operands[0].type == X86_OP_IMM) {
		*sel = (uint16_t)d->operands[0].imm;
		*off = (uint64_t)d->operands[1].imm;
		return true;
	}
	addr = op_addr(v, insn, &d->operands[0]);
	*off = 0;
	return gmem_read(v, addr, off, size, 0) &&
	       gmem_read(v, addr + size, sel, 2, 0);
}

/* A same-privilege far transfer to sel (SDM vol. 3A 5.8.1). Call gates
 * and task switches are not implemented: they raise #GP(sel). */
static bool load_cs_same_level(struct vcpu *v, uint16_t sel)
{
	unsigned cpl = vcpu_cpl(v);

	if ((sel & 3u) > cpl) {
		struct descriptor d;

		if (!desc_read(v, sel, &d, false, X86_GP))
			return false;
		if (!desc_is_code(&d) || !(desc_type(&d) & SEG_TYPE_DC)) {
			vcpu_raise_gp(v, sel & 0xfffc);
			return false;
		}
	}
	return seg_load_cs(v, sel, cpl);
}

static enum emu_result emulate_ljmp(struct vcpu *v, const cs_insn *insn)
{
	uint64_t off;
	uint16_t sel;

	if (!far_target(v, insn, &off, &sel) || !load_cs_same_level(v, sel))
		return EMU_FAULT;
	v->rip = rip_for_cs(v, off);
	vcpu_cpl_changed(v);
	return EMU_JUMP;
}

static enum emu_result emulate_lcall(struct vcpu *v, const cs_insn *insn)
{
	struct segment old_cs = v->seg[SR_CS];
	uint64_t off, old_rsp = v->gpr[RSP];
	unsigned size = insn_opsize(v, insn);
	uint16_t sel;

	if (!far_target(v, insn, &off, &sel))
		return EMU_FAULT;
	if (!stack_push(v, old_cs.sel, size) ||
	    !stack_push(v, v->rip + insn->size, size))
		goto undo;
	if (!load_cs_same_level(v, sel))
		goto undo;
	v->rip = rip_for_cs(v, off);
	vcpu_cpl_changed(v);
	return EMU_JUMP;
undo:
	v->gpr[RSP] = old_rsp;
	v->seg[SR_CS] = old_cs;
	return EMU_FAULT;
}

/*
 * A return to CS:RIP (and, going outward or in 64-bit iret, SS:RSP) read
 * from the stack: the part far ret and iret share (SDM vol. 2 RET, IRET).
 */
struct far_return {
	uint64_t rip, rsp;
	uint16_t cs, ss;
	bool pop_ss;
};

static enum emu_result far_return(struct vcpu *v, const struct far_return *fr)
{
	unsigned old_cpl = vcpu_cpl(v), rpl = fr->cs & 3;
	struct segment old_cs = v->seg[SR_CS], old_ss = v->seg[SR_SS];

	if (rpl < old_cpl)
		return fault_gp(v, fr->cs & 0xfffc);
	if (!seg_load_cs(v, fr->cs, rpl))
		return EMU_FAULT;
	if (vcpu_mode(v) == MODE_LONG64 &&
	    (uint64_t)((int64_t)(fr->rip << 16) >> 16) != fr->rip) {
		v->seg[SR_CS] = old_cs;
		return fault_gp(v, 0);
	}
	if (fr->pop_ss && !seg_load_data(v, SR_SS, fr->ss)) {
		v->seg[SR_CS] = old_cs;
		v->seg[SR_SS] = old_ss;
		return EMU_FAULT;
	}
	v->rip = rip_for_cs(v, fr->rip);
	v->gpr[RSP] = fr->rsp;
	if (rpl > old_cpl)
		seg_null_inaccessible(v);
	vcpu_cpl_changed(v);
	return EMU_JUMP;
}

static enum emu_result emulate_retf(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);
	unsigned size = insn->id == X86_INS_RETFQ ? 8 : insn_opsize(v, insn);
	uint64_t imm = d->op_count ? (uint64_t)d->operands[0].imm : 0;
	uint64_t rip, cs, rsp = 0, ss = 0;
	struct far_return fr;

	if (!stack_peek(v, 0, &rip, size) || !stack_peek(v, size, &cs, size))
		return EMU_FAULT;
	fr = (struct far_return){ rip, v->gpr[RSP] + 2 * size + imm,
				  (uint16_t)cs, 0, false };
	if ((cs & 3) > vcpu_cpl(v)) {
		if (!stack_peek(v, 2 * size + imm, &rsp, size) ||
		    !stack_peek(v, 3 * size + imm, &ss, size))
			return EMU_FAULT;
		fr.rsp = rsp + imm;
		fr.ss = (uint16_t)ss;
		fr.pop_ss = true;
	}
	if (vcpu_mode(v) != MODE_LONG64 && !(v->seg[SR_SS].attr & SEG_DB))
		fr.rsp = (v->gpr[RSP] & ~0xffffull) | (fr.rsp & 0xffff);
	return far_return(v, &fr);
}

static enum emu_result emulate_iret(struct vcpu *v, const cs_insn *insn)
{
	unsigned size = insn->id == X86_INS_IRETQ ? 8
		      : insn->id == X86_INS_IRETD ? 4 : 2;
	uint64_t rip, cs, flags, rsp = 0, ss = 0, old_flags = v->rflags;
	struct far_return fr;
	enum emu_result r;

	if (v->rflags & RFLAGS_NT)
		return fault_gp(v, 0);   /* no task switches */
	if (!stack_peek(v, 0, &rip, size) ||
	    !stack_peek(v, size, &cs, size) ||
	    !stack_peek(v, 2 * size, &flags, size))
		return EMU_FAULT;
	fr = (struct far_return){ rip, v->gpr[RSP] + 3 * size, (uint16_t)cs,
				  0, false };
	/* 64-bit mode pops SS:RSP always; elsewhere only going outward. */
	if (vcpu_mode(v) == MODE_LONG64 || (cs & 3) > vcpu_cpl(v)) {
		if (!stack_peek(v, 3 * size, &rsp, size) ||
		    !stack_peek(v, 4 * size, &ss, size))
			return EMU_FAULT;
		fr.rsp = rsp;
		fr.ss = (uint16_t)ss;
		fr.pop_ss = true;
	}
	/* Which flags may change depends on the CPL before the return. */
	rflags_load(v, flags, size, true);
	r = far_return(v, &fr);
	if (r != EMU_JUMP)
		v->rflags = old_flags;
	else
		v->nmi_blocked = false;   /* an NMI handler's iret unblocks */
	return r;
}

const struct emu_entry emu_seg_table[] = {
	{ EMU_MOV_SREG, emulate_mov_sreg },
	{ X86_INS_LGDT, emulate_lgdt },
	{ X86_INS_LIDT, emulate_lgdt },
	{ X86_INS_SGDT, emulate_sgdt },
	{ X86_INS_SIDT, emulate_sgdt },
	{ X86_INS_LLDT, emulate_lldt },
	{ X86_INS_LTR, emulate_ltr },
	{ X86_INS_SLDT, emulate_sldt },
	{ X86_INS_STR, emulate_sldt },
	{ X86_INS_POP, emulate_pop_sreg },
	{ X86_INS_PUSH, emulate_push_sreg },
	{ X86_INS_LSS, emulate_lfp },
	{ X86_INS_LFS, emulate_lfp },
	{ X86_INS_LGS, emulate_lfp },
	{ X86_INS_LJMP, emulate_ljmp },
	{ X86_INS_LCALL, emulate_lcall },
	{ X86_INS_RETF, emulate_retf },
	{ X86_INS_RETFQ, emulate_retf },
	{ X86_INS_IRET, emulate_iret },
	{ X86_INS_IRETD, emulate_iret },
	{ X86_INS_IRETQ, emulate_iret },
	{ 0, NULL },
};
