/*
 * Event delivery into the guest (see exception.h).  This is what makes a
 * guest kernel's own handlers run: the host delivered SIGSEGV to us, and we
 * deliver the vector the guest's hardware would have raised, on the guest's
 * stack, through the guest's IDT.
 */
#include <stdio.h>

#include "trapeze/abi.h"

#include "cpu/exception.h"
#include "cpu/segment.h"
#include "cpu/vcpu.h"

/* Exceptions whose frame marks RF, so that a restarted instruction does
 * not hit its instruction breakpoint again (SDM vol. 3A 17.3.1.1). */
static bool is_fault(unsigned vector)
{
	switch (vector) {
	case X86_DE: case X86_BR: case X86_UD: case X86_NM: case X86_TS:
	case X86_NP: case X86_SS: case X86_GP: case X86_PF: case X86_MF:
	case X86_AC: case X86_XM: case X86_VE: case X86_CP:
		return true;
	default:
		return false;
	}
}

static uint32_t idt_err(unsigned vector, enum event_kind kind)
{
	return vector * 8 + ERR_IDT + (kind == EV_EXTERNAL ? ERR_EXT : 0);
}

struct gate {
	uint16_t sel;
	uint64_t offset;
	unsigned type, dpl, ist;
	bool present;
};

/* Read and check an IDT gate.  Long mode gates are 16 bytes, legacy 8. */
static bool read_gate(struct vcpu *v, unsigned vector, enum event_kind kind,
		      struct gate *g)
{
	bool lm = vcpu_long_mode(v);
	unsigned size = lm ? 16 : 8;
	uint32_t raw[4] = { 0 };

	if ((uint64_t)vector * size + size - 1 > v->idtr.limit ||
	    !gmem_read(v, v->idtr.base + vector * size, raw, size,
		       ACC_SUPER)) {
		if (!v->exc.pending)
			vcpu_raise_gp(v, idt_err(vector, kind));
		return false;
	}
	g->sel = raw[0] >> 16;
	g->offset = (raw[0] & 0xffff) | (raw[1] & 0xffff0000u) |
		    (lm ? (uint64_t)raw[2] << 32 : 0);
	g->type = (raw[1] >> 8) & 0x1f;   /* with the S bit, which must be 0 */
	g->dpl = (raw[1] >> 13) & 3;
	g->present = (raw[1] >> 15) & 1;
	g->ist = lm ? raw[1] & 7 : 0;
	if (lm ? (g->type != SYS_INTR_GATE && g->type != SYS_TRAP_GATE)
	       : (g->type != 0x6 && g->type != 0x7 && g->type != 0xe &&
		  g->type != 0xf)) {
		vcpu_raise_gp(v, idt_err(vector, kind));
		return false;
	}
	if ((kind == EV_SOFT_INT) && g->dpl < vcpu_cpl(v)) {
		vcpu_raise_gp(v, idt_err(vector, kind));
		return false;
	}
	if (!g->present) {
		vcpu_raise(v, X86_NP, true, idt_err(vector, kind));
		return false;
	}
	return true;
}

/* The stack pointer for privilege level cpl (or IST slot ist) from the
 * TSS (SDM vol. 3A 7.7 for 64-bit, 7.2.1 for 32-bit). */
static bool tss_stack(struct vcpu *v, unsigned cpl, unsigned ist,
		      uint64_t *rsp, uint16_t *ss)
{
	uint32_t off = vcpu_long_mode(v) ? (ist ? 0x24 + 8 * (ist - 1)
						: 4 + 8 * cpl)
					 : 4 + 8 * cpl;
	unsigned len = vcpu_long_mode(v) ? 8 : 6;
	uint8_t buf[8] = { 0 };

	if (off + len - 1 > v->tr.limit || !(v->tr.attr & SEG_P)) {
		vcpu_raise(v, X86_TS, true, v->tr.sel & 0xfffc);
		return false;
	}
	if (!gmem_read(v, v->tr.base + off, buf, len, ACC_SUPER))
		return false;
	if (vcpu_long_mode(v)) {
		*rsp = buf[0] | (uint64_t)buf[1] << 8 | (uint64_t)buf[2] << 16 |
		       (uint64_t)buf[3] << 24 | (uint64_t)buf[4] << 32 |
		       (uint64_t)buf[5] << 40 | (uint64_t)buf[6] << 48 |
		       (uint64_t)buf[7] << 56;
		*ss = cpl;
	} else {
		*rsp = buf[0] | buf[1] << 8 | buf[2] << 16 |
		       (uint32_t)buf[3] << 24;
		*ss = buf[4] | buf[5] << 8;
	}
	return true;
}

static bool push_frame(struct vcpu *v, uint64_t rsp, const uint64_t *vals,
		       unsigned n, unsigned width)
{
	uint8_t buf[7 * 8];
	unsigned i, j;

	/* vals[] is in push order; memory holds the last push lowest. */
	for (i = 0; i < n; i++)
		for (j = 0; j < width; j++)
			buf[(n - 1 - i) * width + j] = vals[i] >> (8 * j);
	return gmem_write(v, rsp - n * width, buf, n * width,
			  ACC_SUPER | ACC_STACK);
}

/* The code segment the gate names, checked at the level it will run;
 * its privilege level is *new_cpl (conforming code keeps the caller's). */
static bool gate_target(struct vcpu *v, const struct gate *g,
			enum event_kind kind, unsigned *new_cpl)
{
	uint32_t ext = kind == EV_EXTERNAL ? ERR_EXT : 0;
	unsigned cpl = vcpu_cpl(v);
	struct descriptor d;

	if ((g->sel & ~3u) == 0) {
		vcpu_raise_gp(v, ext);
		return false;
	}
	if (!desc_read(v, g->sel, &d, false, X86_GP))
		return false;
	if (!desc_is_code(&d) || desc_dpl(&d) > cpl ||
	    (vcpu_long_mode(v) && !((d.hi >> 8) & SEG_L))) {
		vcpu_raise_gp(v, (g->sel & 0xfffc) + ext);
		return false;
	}
	*new_cpl = (desc_type(&d) & SEG_TYPE_DC) ? cpl : desc_dpl(&d);
	return true;
}

/* The frame in push order: SS:RSP (in long mode, or to an inner level),
 * RFLAGS, CS:RIP and the error code.  Returns how many values. */
static unsigned frame_of(const struct vcpu *v, unsigned vector,
			 enum event_kind kind, bool has_err, uint32_t err,
			 unsigned new_cpl, uint64_t vals[6])
{
	uint64_t rflags = v->rflags;
	unsigned n = 0;

	if (is_fault(vector) && kind == EV_FAULT)
		rflags |= RFLAGS_RF;
	if (vcpu_long_mode(v) || new_cpl < vcpu_cpl(v)) {
		vals[n++] = v->seg[SR_SS].sel;
		vals[n++] = v->gpr[RSP];
	}
	vals[n++] = rflags;
	vals[n++] = v->seg[SR_CS].sel;
	vals[n++] = v->rip;
	if (has_err)
		vals[n++] = err;
	return n;
}

/* Into the handler: CS (and SS, to an inner level), the new stack, RIP,
 * and the flags a gate clears (IF too for an interrupt gate). */
static bool enter_handler(struct vcpu *v, const struct gate *g,
			  unsigned new_cpl, uint16_t new_ss, uint64_t rsp)
{
	struct segment old_cs = v->seg[SR_CS];
	unsigned cpl = vcpu_cpl(v);

	if (!seg_load_cs(v, g->sel, new_cpl))
		return false;
	if (new_cpl < cpl) {
		if (vcpu_long_mode(v))
			seg_set_null(&v->seg[SR_SS], new_cpl);
		else if (!seg_load_data(v, SR_SS, new_ss)) {
			v->seg[SR_CS] = old_cs;
			return false;
		}
	}
	v->gpr[RSP] = rsp;
	v->rip = g->offset;
	v->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (!(g->type & 1))   /* interrupt gate, not trap gate */
		v->rflags &= ~RFLAGS_IF;
	if (new_cpl != cpl)
		vcpu_cpl_changed(v);
	return true;
}

/*
 * The processor's delivery, step by step (SDM vol. 3A 6.12): the gate,
 * its target code segment, the stack (the TSS's for an inner level or an
 * IST slot), the frame, then the handler.  Any step that faults leaves
 * the vCPU as it was, with the new exception pending.
 */
bool event_deliver(struct vcpu *v, unsigned vector, enum event_kind kind,
		   bool has_err, uint32_t err)
{
	bool lm = vcpu_long_mode(v), switch_stack;
	unsigned width = lm ? 8 : 4, new_cpl, n;
	uint16_t old_cs = v->seg[SR_CS].sel, new_ss = 0;
	uint64_t rsp = v->gpr[RSP], vals[6];
	struct gate g;

	if (!read_gate(v, vector, kind, &g) ||
	    !gate_target(v, &g, kind, &new_cpl))
		return false;
	if (!lm && !(g.type & 8))
		width = 2;        /* 16-bit gate */
	switch_stack = new_cpl < vcpu_cpl(v) || g.ist;
	if (switch_stack && !tss_stack(v, new_cpl, g.ist, &rsp, &new_ss))
		return false;
	if (lm)
		rsp &= ~0xfull;
	else if (!switch_stack)
		rsp &= 0xffffffffull;
	n = frame_of(v, vector, kind, has_err, err, new_cpl, vals);
	if (!push_frame(v, rsp, vals, n, width) ||
	    !enter_handler(v, &g, new_cpl, new_ss, rsp - n * width))
		return false;
	/* A paravirtual guest in shared-IRQ mode reads the faulting address
	 * from the shared page (abi.h: its own cr2 read would trap). */
	if (vector == X86_PF && kind != EV_EXTERNAL && v->irq.pv_shared)
		((struct trapeze_shared *)gpa_ptr(
			v, TRAPEZE_SHARED_GPA,
			sizeof(struct trapeze_shared)))->cr2 = v->cr2;
	v->stats.exceptions++;
	if (v->hooks.event)
		v->hooks.event(v->hooks.event_ctx, vector, kind == EV_EXTERNAL,
			       has_err, err, vals[has_err ? n - 2 : n - 1],
			       old_cs);
	return true;
}

/* Classes for double-fault detection (SDM vol. 3A table 6-5). */
static bool contributory(unsigned v)
{
	return v == X86_DE || v == X86_TS || v == X86_NP || v == X86_SS ||
	       v == X86_GP;
}

void exception_deliver_pending(struct vcpu *v)
{
	unsigned first = v->exc.vector, vec = first;
	uint32_t first_err = v->exc.err;
	bool first_has_err = v->exc.has_err;
	uint64_t first_rip = v->rip, first_cr2 = v->cr2;
	char detail[192] = "";
	int rounds;

	for (rounds = 0; v->exc.pending && rounds < 4; rounds++) {
		bool has_err = v->exc.has_err;
		uint32_t err = v->exc.err;
		unsigned next;

		vec = v->exc.vector;
		v->exc.pending = false;
		if (event_deliver(v, vec, vec == X86_DB || vec == X86_OF ||
					   vec == X86_BP ? EV_TRAP : EV_FAULT,
				  has_err, err))
			return;
		next = v->exc.vector;
		if (vec == X86_DF)
			break;
		if ((contributory(vec) && contributory(next)) ||
		    (vec == X86_PF && (next == X86_PF || contributory(next))))
			vcpu_raise(v, X86_DF, true, 0);
	}
	/* Trapeze sets RSVD for an address past RAM where no device is
	 * (a kernel that assumes more memory than --mem gave it). */
	if (first == X86_PF && (first_err & PFERR_RSVD))
		snprintf(detail, sizeof(detail), " (address %#llx, error %#x: "
			 "reserved bits, or past the guest's %llu MiB of RAM "
			 "where no device is; --mem sets the RAM)",
			 (unsigned long long)first_cr2, first_err,
			 (unsigned long long)(v->mem.ram_size >> 20));
	else if (first == X86_PF)
		snprintf(detail, sizeof(detail), " (address %#llx, error %#x)",
			 (unsigned long long)first_cr2, first_err);
	else if (first_has_err)
		snprintf(detail, sizeof(detail), " (error %#x)", first_err);
	vcpu_crash(v, "triple fault: %s%s at rip %#llx could not be "
		      "delivered (IDT base %#llx limit %#x)",
		      exception_name(first), detail,
		      (unsigned long long)first_rip,
		      (unsigned long long)v->idtr.base, v->idtr.limit);
}
