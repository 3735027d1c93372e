/*
 * The debug architecture (see debugreg.h): the guest's hardware
 * breakpoints through perf events, and the RF, single-step and data
 * breakpoint rules an emulated instruction must follow as a native one
 * would.
 */
#define _GNU_SOURCE
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpu/debugreg.h"
#include "cpu/decode.h"
#include "cpu/vcpu.h"

#define DR7_ENABLE(i) (3ull << (2 * (i)))           /* Li and Gi */
#define DR7_RW(dr7, i) (((dr7) >> (16 + 4 * (i))) & 3)
#define DR7_LEN(dr7, i) (((dr7) >> (18 + 4 * (i))) & 3)

/* How many bytes DRi watches: DR7's LEN field 0, 1, 2, 3 mean 1, 2, 8, 4. */
static uint64_t watch_len(uint64_t dr7, unsigned i)
{
	static const uint8_t bytes[4] = { 1, 2, 8, 4 };

	return bytes[DR7_LEN(dr7, i)];
}

static int arm_one(struct vcpu *v, unsigned i)
{
	uint64_t dr7 = v->dr[7], addr = v->dr[i];
	struct perf_event_attr a;
	unsigned rw = (unsigned)DR7_RW(dr7, i);

	if (!(dr7 & DR7_ENABLE(i)) || rw == 2 ||      /* 2: I/O ports */
	    addr < v->mem.window_lo || addr >= v->mem.window_hi)
		return -1;
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.sample_period = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.sigtrap = 1;            /* SIGTRAP to this thread, synchronously */
	a.remove_on_exec = 1;     /* (which sigtrap requires) */
	a.sig_data = i + 1;
	a.bp_addr = addr;
	if (rw == 0) {
		a.bp_type = HW_BREAKPOINT_X;
		a.bp_len = sizeof(long);
	} else {
		a.bp_type = rw == 1 ? HW_BREAKPOINT_W : HW_BREAKPOINT_RW;
		a.bp_len = watch_len(dr7, i);
		a.bp_addr &= ~(uint64_t)(a.bp_len - 1);   /* as DR7 aligns */
	}
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

void debugreg_arm(struct vcpu *v)
{
	bool before = debugreg_armed(v);
	unsigned i;

	if (!v->dbg.arm)
		return;
	for (i = 0; i < 4; i++) {
		if (v->dbg.fd[i] >= 0)
			close(v->dbg.fd[i]);
		v->dbg.fd[i] = arm_one(v, i);
	}
	/* (Code translated with breakpoints in mind is made anew.) */
	if (before || debugreg_armed(v))
		v->dbg.gen++;
}

bool debugreg_armed(const struct vcpu *v)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (v->dbg.fd[i] >= 0)
			return true;
	return false;
}

bool debugreg_exec_at(const struct vcpu *v, uint64_t rip)
{
	uint64_t dr7 = v->dr[7];
	unsigned i;

	for (i = 0; i < 4; i++)
		if (v->dbg.fd[i] >= 0 && DR7_RW(dr7, i) == 0 &&
		    v->dr[i] == rip)
			return true;
	return false;
}

void debugreg_access(struct vcpu *v, uint64_t gva, uint64_t len, bool write)
{
	uint64_t dr7 = v->dr[7];
	unsigned i;

	for (i = 0; i < 4; i++) {
		unsigned rw = (unsigned)DR7_RW(dr7, i);
		uint64_t n = watch_len(dr7, i);
		uint64_t lo = v->dr[i] & ~(n - 1);

		if (v->dbg.fd[i] >= 0 && (rw == 3 || (rw == 1 && write)) &&
		    gva < lo + n && lo < gva + len)
			v->dbg.hits |= (uint8_t)(1u << i);
	}
}

void debugreg_settle(struct vcpu *v, bool ss_load, bool icebp)
{
	uint8_t bits;

	if (v->dbg.hits && ss_load) {
		/* MOV SS blocking holds it for one instruction, which runs
		 * natively under a single step of the monitor's own. */
		v->dbg.held = v->dbg.hits;
		v->dbg.hits = 0;
		v->irq.step = true;
		return;
	}
	bits = v->dbg.hits | v->dbg.held;
	v->dbg.hits = v->dbg.held = 0;
	if (!bits || v->exc.pending)
		return;
	debugreg_report(v, bits);
	if (!icebp)           /* (one #DB reports both) */
		vcpu_raise(v, X86_DB, false, 0);
}

void debugreg_report(struct vcpu *v, uint64_t bits)
{
	v->dr[6] = (v->dr[6] & ~0xfull) | bits;
}

void debugreg_hit(struct vcpu *v, unsigned i)
{

	debugreg_report(v, 1ull << i);
	if (DR7_RW(v->dr[7], i) == 0)
		v->rflags &= ~RFLAGS_RF;
}

/* ---- what an emulated instruction owes the debug architecture ------- */

static bool loads_ss(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	return (insn->id == X86_INS_MOV || insn->id == X86_INS_POP) &&
	       x->op_count >= 1 && x->operands[0].type == X86_OP_REG &&
	       x->operands[0].reg == X86_REG_SS;
}

static bool steps_after(const cs_insn *insn)
{
	/* A load of SS holds the trap back until after the next
	 * instruction, which runs natively and traps by itself. */
	if (loads_ss(insn))
		return false;
	return !insn_is_event(insn) && insn->id != X86_INS_HLT;
}

static void step_after_emulated(struct vcpu *v)
{
	debugreg_report(v, DR6_BS);
	vcpu_raise(v, X86_DB, false, 0);
}

void debugreg_after_trap(struct vcpu *v, bool tf_before)
{

	/* The host set RF in the frame of the fault that brought us here;
	 * the instruction has now completed, and the CPU would clear RF
	 * (else the next instruction's breakpoint would not fire).  iret
	 * loads RF from its frame. */
	if (v->insn && !v->exc.pending && !insn_is_event(v->insn))
		v->rflags &= ~RFLAGS_RF;
	/* An instruction emulated with TF set owes the single-step trap the
	 * hardware would have raised after it (a popf that sets TF does
	 * not; syscall, sysret and interrupt delivery see to their own). */
	if (tf_before && v->insn && !v->exc.pending &&
	    steps_after(v->insn))
		step_after_emulated(v);
	else if (tf_before && v->halted)
		v->step_after_halt = true;
	/* Data breakpoints the emulated instruction's accesses matched
	 * (a load of SS holds them for one more instruction). */
	if (v->dbg.hits || v->dbg.held)
		debugreg_settle(v, v->insn && loads_ss(v->insn),
				v->insn &&
				v->insn->id == X86_INS_INT1);
}
