/*
 * Model-specific registers and their instructions: rdmsr, wrmsr, swapgs,
 * rd/wr{fs,gs}base, and rdtsc/rdtscp when the guest's TSC must be
 * virtual.
 *
 * The MSRs exist only in the vCPU.  The ones that shape execution are
 * applied where the guest runs: EFER's NXE and the page-table walker,
 * SCE and the syscall emulation, the FS and GS bases in the host's
 * registers at resume (see backend/signal.c).  The local APIC's MSRs
 * (IA32_APIC_BASE, IA32_TSC_DEADLINE, the x2APIC registers 0x800-0x8ff)
 * belong to dev/lapic.c.  An MSR this vCPU does not
 * implement raises #GP(0), as on hardware.
 */
#include <x86intrin.h>

#include "dev/lapic.h"
#include "cpu/emulate.h"
#include "host/hostcpu.h"

#define EFER_VALID (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool efer_write(struct vcpu *v, uint64_t val)
{
	uint64_t old = v->efer;

	if (val & ~EFER_VALID)
		return false;
	/* LME may not change while paging is on; LMA is read-only. */
	if ((v->cr0 & CR0_PG) && ((val ^ old) & EFER_LME))
		return false;
	v->efer = (val & ~EFER_LMA) | (old & EFER_LMA);
	if ((old ^ v->efer) & EFER_NXE)
		vcpu_paging_changed(v, true);
	return true;
}

/* PAT entries may hold only the memory types 0, 1, 4, 5, 6, 7. */
static bool pat_valid(uint64_t val)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		unsigned t = (val >> (8 * i)) & 0xff;

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

uint64_t vcpu_tsc(const struct vcpu *v)
{
	return __rdtsc() + (uint64_t)v->tsc_offset;
}

/*
 * The legacy performance counters, Intel's (event selects 0x186-0x189,
 * counters 0xc1-0xc4) and AMD's (0xc0010000-3 and 0xc0010004-7), as the
 * guest's vendor names them: they hold what is written and never count,
 * a PMU on which no event fires.  Kernels (and kvm-unit-tests' start-up)
 * clear them at boot; a #GP there would end them.  NULL: not one of them.
 */
static uint64_t *pmc_reg(struct vcpu *v, bool amd, uint32_t msr)
{
	if (amd && msr >= 0xc0010000 && msr < 0xc0010004)
		return &v->pmc_select[msr - 0xc0010000];
	if (amd && msr >= 0xc0010004 && msr < 0xc0010008)
		return &v->pmc_count[msr - 0xc0010004];
	if (!amd && msr >= 0x186 && msr < 0x18a)
		return &v->pmc_select[msr - 0x186];
	if (!amd && msr >= 0xc1 && msr < 0xc5)
		return &v->pmc_count[msr - 0xc1];
	return NULL;
}

bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	uint64_t *pmc;

	switch (msr) {
	case MSR_EFER: *val = v->efer; break;
	case MSR_STAR: *val = v->star; break;
	case MSR_LSTAR: *val = v->lstar; break;
	case MSR_CSTAR: *val = v->cstar; break;
	case MSR_SFMASK: *val = v->sfmask; break;
	case MSR_FS_BASE: *val = v->seg[SR_FS].base; break;
	case MSR_GS_BASE: *val = v->seg[SR_GS].base; break;
	case MSR_KERNEL_GS_BASE: *val = v->kernel_gs_base; break;
	case MSR_TSC_AUX: *val = v->tsc_aux; break;
	case MSR_IA32_TSC: *val = vcpu_tsc(v); break;
	case MSR_IA32_APIC_BASE: *val = lapic_base(v->lapic); break;
	case MSR_IA32_TSC_DEADLINE: *val = lapic_tsc_deadline(v->lapic); break;
	case MSR_IA32_PAT: *val = v->pat; break;
	case MSR_IA32_MISC_ENABLE: *val = v->misc_enable; break;
	/* Machine-check architecture with no banks: nothing to report. */
	case MSR_IA32_MCG_CAP: *val = 0; break;
	case MSR_IA32_MCG_STATUS: *val = 0; break;
	case MSR_IA32_SYSENTER_CS: *val = v->sysenter_cs; break;
	case MSR_IA32_SYSENTER_ESP: *val = v->sysenter_esp; break;
	case MSR_IA32_SYSENTER_EIP: *val = v->sysenter_eip; break;
	default:
		if ((pmc = pmc_reg(v, v->host->amd, msr))) {
			*val = *pmc;
			return true;
		}
		/* x2APIC registers: #GP unless in x2APIC mode. */
		return lapic_msr_read(v->lapic, msr, val);
	}
	return true;
}

bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t *pmc;

	switch (msr) {
	case MSR_EFER: return efer_write(v, val);
	case MSR_STAR: v->star = val; return true;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!canonical(val))
			return false;
		*(msr == MSR_LSTAR ? &v->lstar
		  : msr == MSR_CSTAR ? &v->cstar
		  : msr == MSR_FS_BASE ? &v->seg[SR_FS].base
		  : msr == MSR_GS_BASE ? &v->seg[SR_GS].base
		  : msr == MSR_KERNEL_GS_BASE ? &v->kernel_gs_base
		  : msr == MSR_IA32_SYSENTER_ESP ? &v->sysenter_esp
						 : &v->sysenter_eip) = val;
		return true;
	case MSR_SFMASK:
		if (val >> 32)
			return false;
		v->sfmask = val;
		return true;
	case MSR_TSC_AUX:
		if (val >> 32)
			return false;
		v->tsc_aux = val;
		return true;
	case MSR_IA32_TSC:
		/* Reads of the MSR see the new value; rdtsc stays native
		 * (see docs/limits.md). */
		v->tsc_offset = (int64_t)(val - __rdtsc());
		return true;
	case MSR_IA32_APIC_BASE:
		return lapic_set_base(v->lapic, val, v->host->maxphyaddr);
	case MSR_IA32_TSC_DEADLINE:
		lapic_set_tsc_deadline(v->lapic, val);
		return true;
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return false;
		v->pat = val;
		return true;
	case MSR_IA32_MISC_ENABLE: v->misc_enable = val; return true;
	case MSR_IA32_MCG_STATUS: return val == 0;
	case MSR_IA32_SYSENTER_CS: v->sysenter_cs = val & 0xffff; return true;
	}
	if ((pmc = pmc_reg(v, v->host->amd, msr))) {
		*pmc = val;
		return true;
	}
	return lapic_msr_write(v->lapic, msr, val);
}

static enum emu_result emulate_rdmsr(struct vcpu *v, const cs_insn *insn)
{
	uint64_t val;

	if (!require_cpl0(v))
		return EMU_FAULT;
	if (!msr_read(v, (uint32_t)v->gpr[RCX], &val)) {
		vcpu_raise_gp(v, 0);
		return EMU_FAULT;
	}
	v->gpr[RAX] = (uint32_t)val;
	v->gpr[RDX] = val >> 32;
	return EMU_NEXT;
}

static enum emu_result emulate_wrmsr(struct vcpu *v, const cs_insn *insn)
{
	uint64_t val = (v->gpr[RDX] << 32) | (uint32_t)v->gpr[RAX];

	if (!require_cpl0(v))
		return EMU_FAULT;
	if (!msr_write(v, (uint32_t)v->gpr[RCX], val)) {
		vcpu_raise_gp(v, 0);
		return EMU_FAULT;
	}
	return EMU_NEXT;
}

/* swapgs exchanges GS.base with IA32_KERNEL_GS_BASE (64-bit mode, CPL 0). */
static enum emu_result emulate_swapgs(struct vcpu *v, const cs_insn *insn)
{
	uint64_t t;

	if (vcpu_mode(v) != MODE_LONG64) {
		vcpu_raise_ud(v);
		return EMU_FAULT;
	}
	if (!require_cpl0(v))
		return EMU_FAULT;
	t = v->seg[SR_GS].base;
	v->seg[SR_GS].base = v->kernel_gs_base;
	v->kernel_gs_base = t;
	return EMU_NEXT;
}

/* rdtsc runs natively; this serves an rdtsc that trapped for another
 * reason (the scanner, a TSD-faulting host). */
static enum emu_result emulate_rdtsc(struct vcpu *v, const cs_insn *insn)
{
	uint64_t tsc;

	if ((v->cr4 & CR4_TSD) && vcpu_cpl(v) > 0) {
		vcpu_raise_gp(v, 0);
		return EMU_FAULT;
	}
	tsc = vcpu_tsc(v);
	v->gpr[RAX] = (uint32_t)tsc;
	v->gpr[RDX] = tsc >> 32;
	if (insn->id == X86_INS_RDTSCP)
		v->gpr[RCX] = (uint32_t)v->tsc_aux;
	return EMU_NEXT;
}

/* rd/wr{fs,gs}base: #UD unless the guest enabled CR4.FSGSBASE.  They run
 * natively on hosts with FSGSBASE, so the scanner sends them here. */
static enum emu_result emulate_fsgsbase(struct vcpu *v, const cs_insn *insn)
{
	const cs_x86_op *op = &x86(insn)->operands[0];
	bool gs = insn->id == X86_INS_RDGSBASE || insn->id == X86_INS_WRGSBASE;
	uint64_t *base = &v->seg[gs ? SR_GS : SR_FS].base, val;

	if (vcpu_mode(v) != MODE_LONG64 || !(v->cr4 & CR4_FSGSBASE)) {
		vcpu_raise_ud(v);
		return EMU_FAULT;
	}
	if (insn->id == X86_INS_RDFSBASE || insn->id == X86_INS_RDGSBASE) {
		reg_write(v, op->reg, *base);
		return EMU_NEXT;
	}
	val = reg_read(v, op->reg);
	if (!canonical(val)) {
		vcpu_raise_gp(v, 0);
		return EMU_FAULT;
	}
	*base = val;
	return EMU_NEXT;
}

const struct emu_entry emu_msr_table[] = {
	{ X86_INS_RDMSR, emulate_rdmsr },
	{ X86_INS_WRMSR, emulate_wrmsr },
	{ X86_INS_SWAPGS, emulate_swapgs },
	{ X86_INS_RDTSC, emulate_rdtsc },
	{ X86_INS_RDTSCP, emulate_rdtsc },
	{ X86_INS_RDFSBASE, emulate_fsgsbase },
	{ X86_INS_RDGSBASE, emulate_fsgsbase },
	{ X86_INS_WRFSBASE, emulate_fsgsbase },
	{ X86_INS_WRGSBASE, emulate_fsgsbase },
	{ 0, NULL },
};
