/*
 * Control and debug registers, and the instructions around them: mov to
 * and from cr0/cr2/cr3/cr4/cr8 and dr0-dr7, clts, lmsw, smsw, invlpg,
 * wbinvd, invd, xsetbv.
 *
 * The control registers exist only in the vCPU.  Writing one is where the
 * guest changes its memory model, so the checks follow the SDM (vol. 3A
 * 2.5 and vol. 2 MOV-to-CR): reserved bits fault, and turning paging on
 * with EFER.LME set is what activates long mode.  Any change that alters
 * translations tells the shadow MMU.
 */
#include "cpu/debugreg.h"
#include "dev/lapic.h"
#include "cpu/emulate.h"
#include "host/hostcpu.h"
#include "cpu/gmem.h"

#define CR0_VALID (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | \
		   CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG)

static bool fail_gp(struct vcpu *v)
{
	vcpu_raise_gp(v, 0);
	return false;
}

static enum emu_result gp(struct vcpu *v)
{
	vcpu_raise_gp(v, 0);
	return EMU_FAULT;
}

static bool cr0_write(struct vcpu *v, uint64_t val)
{
	uint64_t old = v->cr0;

	/* Bits 63:32 fault; the reserved ones below are ignored. */
	if (val >> 32)
		return fail_gp(v);
	val = (val & CR0_VALID) | CR0_ET;
	if (((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)))
		return fail_gp(v);
	if (!(old & CR0_PG) && (val & CR0_PG) && (v->efer & EFER_LME)) {
		/* Activating IA-32e mode (SDM vol. 3A 10.8.5). */
		if (!(v->cr4 & CR4_PAE) || (v->seg[SR_CS].attr & SEG_L))
			return fail_gp(v);
		v->efer |= EFER_LMA;
	}
	if ((old & CR0_PG) && !(val & CR0_PG) && vcpu_long_mode(v)) {
		if (vcpu_mode(v) == MODE_LONG64)
			return fail_gp(v);
		v->efer &= ~EFER_LMA;
	}
	v->cr0 = val;
	if ((old ^ val) & (CR0_PG | CR0_WP | CR0_PE))
		vcpu_paging_changed(v, true);
	return true;
}

static bool cr3_write(struct vcpu *v, uint64_t val)
{
	uint64_t rsvd = ~0ull << v->host->maxphyaddr;

	if (vcpu_long_mode(v)) {
		if (v->cr4 & CR4_PCIDE)
			rsvd &= ~(1ull << 63);   /* the no-flush hint */
		if (val & rsvd)
			return fail_gp(v);
		val &= ~(1ull << 63);
	} else {
		val &= 0xffffffffull;
	}
	v->cr3 = val;
	vcpu_paging_changed(v, false);
	return true;
}

static bool cr4_write(struct vcpu *v, uint64_t val)
{
	uint64_t old = v->cr4;
	const uint64_t paging = CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP |
				CR4_SMAP | CR4_PCIDE | CR4_LA57;

	if (val & ~v->cr4_valid)
		return fail_gp(v);
	if (vcpu_long_mode(v) && (!(val & CR4_PAE) ||
				  ((old ^ val) & CR4_LA57)))
		return fail_gp(v);
	if ((val & CR4_PCIDE) && !(old & CR4_PCIDE) &&
	    (!vcpu_long_mode(v) || (v->cr3 & 0xfff)))
		return fail_gp(v);
	v->cr4 = val;
	if ((old ^ val) & paging)
		vcpu_paging_changed(v, true);
	return true;
}

static bool cr_write(struct vcpu *v, int cr, uint64_t val)
{

	switch (cr) {
	case 0: return cr0_write(v, val);
	case 2: v->cr2 = val; return true;
	case 3: return cr3_write(v, val);
	case 4: return cr4_write(v, val);
	case 8:
		if (val & ~0xfull)
			return fail_gp(v);
		lapic_set_cr8(v->lapic, val);   /* CR8 is the APIC's TPR */
		return true;
	}
	vcpu_raise_ud(v);
	return false;
}

static bool cr_read(struct vcpu *v, int cr, uint64_t *val)
{

	switch (cr) {
	case 0: *val = v->cr0; return true;
	case 2: *val = v->cr2; return true;
	case 3: *val = v->cr3; return true;
	case 4: *val = v->cr4; return true;
	case 8: *val = lapic_cr8(v->lapic); return true;
	}
	vcpu_raise_ud(v);
	return false;
}

/* DR4 and DR5 alias DR6 and DR7 unless CR4.DE; DR8-DR15 do not exist.
 * (Writes to DR0-DR3 and DR7 arm the host's breakpoints: debugreg.c.) */
static int dr_index(struct vcpu *v, int dr)
{
	if (dr == 4 || dr == 5) {
		if (v->cr4 & CR4_DE) {
			vcpu_raise_ud(v);
			return -1;
		}
		dr += 2;
	}
	if (dr < 0 || dr > 7) {          /* DR8-DR15 do not exist */
		vcpu_raise_ud(v);
		return -1;
	}
	return dr;
}

/* mov to or from a control or debug register (EMU_MOV_CR). */
static enum emu_result emulate_mov_cr(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	int cr_dst = reg_cr(dst->reg), cr_src = reg_cr(src->reg);
	int dr_dst = reg_dr(dst->reg), dr_src = reg_dr(src->reg);
	uint64_t val;
	int i;

	if (!require_cpl0(v))
		return EMU_FAULT;
	if (cr_dst >= 0) {
		val = reg_read(v, src->reg);
		return cr_write(v, cr_dst, val) ? EMU_NEXT : EMU_FAULT;
	}
	if (cr_src >= 0) {
		if (!cr_read(v, cr_src, &val))
			return EMU_FAULT;
		reg_write(v, dst->reg, val);
		return EMU_NEXT;
	}
	if ((i = dr_index(v, dr_dst >= 0 ? dr_dst : dr_src)) < 0)
		return EMU_FAULT;
	/* General detect: a fault-like #DB before any access to a debug
	 * register, which clears GD to let the handler in (SDM vol. 3B
	 * 18.2.4). */
	if (v->dr[7] & DR7_GD) {
		v->dr[6] |= DR6_BD;
		v->dr[7] &= ~DR7_GD;
		vcpu_raise(v, X86_DB, false, 0);
		return EMU_FAULT;
	}
	if (dr_dst >= 0) {
		val = reg_read(v, src->reg);
		if (i >= 6 && val >> 32)
			return gp(v);
		v->dr[i] = i == 6 ? val | 0xffff0ff0ull
			 : i == 7 ? (val | 0x400) & ~0x1000ull : val;
		if (i != 6)
			debugreg_arm(v);
		return EMU_NEXT;
	}
	reg_write(v, dst->reg, v->dr[i]);
	return EMU_NEXT;
}

static enum emu_result emulate_clts(struct vcpu *v, const cs_insn *insn)
{
	if (!require_cpl0(v))
		return EMU_FAULT;
	v->cr0 &= ~CR0_TS;
	return EMU_NEXT;
}

/* lmsw loads CR0 bits 0-3 and can set PE but never clear it. */
static enum emu_result emulate_lmsw(struct vcpu *v, const cs_insn *insn)
{
	uint64_t src, cr0 = v->cr0;

	if (!require_cpl0(v) ||
	    !op_read(v, insn, &x86(insn)->operands[0], &src))
		return EMU_FAULT;
	cr0 = (cr0 & ~0xeull) | (src & 0xe) | ((cr0 | src) & CR0_PE);
	return cr0_write(v, cr0) ? EMU_NEXT : EMU_FAULT;
}

/* smsw does not fault at CPL 3 without UMIP: the scanner patches it. */
static enum emu_result emulate_smsw(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];

	if ((v->cr4 & CR4_UMIP) && vcpu_cpl(v) > 0)
		return gp(v);
	if (dst->type == X86_OP_REG) {
		reg_write(v, dst->reg, v->cr0);
		return EMU_NEXT;
	}
	return op_write(v, insn, dst, v->cr0 & 0xffff) ? EMU_NEXT : EMU_FAULT;
}

static enum emu_result emulate_invlpg(struct vcpu *v, const cs_insn *insn)
{
	if (!require_cpl0(v))
		return EMU_FAULT;
	shadow_invlpg(v->mem.mmu, op_addr(v, insn, &x86(insn)->operands[0]));
	return EMU_NEXT;
}

static enum emu_result emulate_cache(struct vcpu *v, const cs_insn *insn)
{
	return require_cpl0(v) ? EMU_NEXT : EMU_FAULT;
}

static enum emu_result emulate_xsetbv(struct vcpu *v, const cs_insn *insn)
{
	uint64_t val = (v->gpr[RDX] << 32) | (uint32_t)v->gpr[RAX];

	if (!(v->cr4 & CR4_OSXSAVE)) {
		vcpu_raise_ud(v);
		return EMU_FAULT;
	}
	if (!require_cpl0(v))
		return EMU_FAULT;
	/* x87 state is mandatory; AVX needs SSE (SDM vol. 1 13.3). */
	if ((uint32_t)v->gpr[RCX] != 0 || !(val & 1) ||
	    (val & ~v->xcr0_valid) || ((val & 4) && !(val & 2)))
		return gp(v);
	v->xcr0 = val;
	return EMU_NEXT;
}

/*
 * invpcid type, descriptor (SDM vol. 2 INVPCID): the shadow keeps no
 * translations per PCID, so each type drops at least what it names,
 * one address (as invlpg) or every translation.
 */
static enum emu_result emulate_invpcid(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86 *x = x86(insn);
	uint64_t type, desc[2];
	uint32_t r[4];

	vcpu_cpuid(v, 7, 0, r);
	if (!(r[1] & (1u << 10))) {
		vcpu_raise_ud(v);
		return EMU_FAULT;
	}
	if (!require_cpl0(v))
		return EMU_FAULT;
	type = reg_read(v, x->operands[0].reg);
	if (!gmem_read(v, op_addr(v, insn, &x->operands[1]), desc,
		       sizeof(desc), 0))
		return EMU_FAULT;
	/* Reserved descriptor bits; a PCID other than 0 without PCIDE;
	 * a non-canonical address for type 0. */
	if (type > 3 || desc[0] >> 12 ||
	    (type <= 1 && (desc[0] & 0xfff) && !(v->cr4 & CR4_PCIDE)) ||
	    (type == 0 && !gva_canonical(v, desc[1])))
		return gp(v);
	if (type == 0)
		shadow_invlpg(v->mem.mmu, desc[1]);
	else
		shadow_flush(v->mem.mmu);
	return EMU_NEXT;
}

const struct emu_entry emu_sysreg_table[] = {
	{ EMU_MOV_CR, emulate_mov_cr },
	{ X86_INS_CLTS, emulate_clts },
	{ X86_INS_LMSW, emulate_lmsw },
	{ X86_INS_SMSW, emulate_smsw },
	{ X86_INS_INVLPG, emulate_invlpg },
	{ X86_INS_INVPCID, emulate_invpcid },
	{ X86_INS_WBINVD, emulate_cache },
	{ X86_INS_INVD, emulate_cache },
	{ X86_INS_XSETBV, emulate_xsetbv },
	{ 0, NULL },
};
