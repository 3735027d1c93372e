/*
 * Virtual interrupts (see irq.h).
 *
 * The real CPU runs the guest with interrupts always enabled, so nothing
 * here is hardware: a device raises a line (pic.c, ioapic.c) or the local
 * APIC requests a vector (lapic.c: its timer, IPIs), the vCPU's virtual IF
 * decides whether it may be taken, and the monitor pushes the interrupt
 * frame itself (exception.c).  Delivery happens at the end of every trap,
 * which is exactly when the guest can have changed its mind: after sti,
 * popf or iretq set IF, after an EOI, after a timer signal interrupted it.
 *
 * sti delays interrupts by one instruction (SDM vol. 2, STI).  When one is
 * pending at the end of an sti, the monitor single-steps the guest one
 * instruction (RFLAGS.TF) and delivers on the #DB.  The classic `sti; hlt`
 * needs no step: hlt traps, and the interrupt is delivered after it.
 * While the vCPU is halted, the run loop waits (core/halt.c) and asks
 * here whether an interrupt has come.
 */
#include "trapeze/abi.h"

#include "cpu/exception.h"
#include "cpu/vcpu.h"
#include "dev/lapic.h"
#include "dev/pic.h"

static struct trapeze_shared *shared(struct vcpu *v)
{
	return gpa_ptr(v, TRAPEZE_SHARED_GPA, sizeof(struct trapeze_shared));
}

static void pv_timer_fire(void *opaque, uint64_t now)
{
	struct vcpu *v = opaque;

	v->irq.pv_timer_pending = true;
	shared(v)->timer_ticks++;
}

void irq_init(struct vcpu *v)
{
	v->irq.pv_timer.fire = pv_timer_fire;
	v->irq.pv_timer.opaque = v;
	timers_add(v->timers, &v->irq.pv_timer);
}

void irq_pv_timer(struct vcpu *v, uint64_t period_ns, uint8_t vector)
{
	if (!period_ns) {
		vtimer_stop(v->timers, &v->irq.pv_timer);
		v->irq.pv_timer_pending = false;
		return;
	}
	v->irq.pv_timer_vector = vector;
	vtimer_start(v->timers, &v->irq.pv_timer, period_ns, period_ns);
}

/* The 8259's INTR reaches the vCPU through the local APIC's LINT0 (or
 * directly when the APIC is disabled). */
static bool pic_pending(const struct vcpu *v)
{
	return lapic_accepts_pic(v->lapic) && pic_intr(v->pic);
}

static bool pending(const struct vcpu *v)
{
	return v->irq.pv_timer_pending || lapic_pending(v->lapic) ||
	       pic_pending(v);
}

bool irq_pending(const struct vcpu *v)
{
	return pending(v) || lapic_nmi_pending(v->lapic);
}

/* The acknowledge cycle: the vector to deliver, highest source first;
 * the local APIC's fixed interrupts before ExtINT, as QEMU orders them. */
static int take(struct vcpu *v)
{
	if (v->irq.pv_timer_pending) {
		v->irq.pv_timer_pending = false;
		return v->irq.pv_timer_vector;
	}
	if (lapic_pending(v->lapic))
		return lapic_ack(v->lapic);
	if (!pic_pending(v))
		return -1;
	return pic_ack(v->pic);
}

/* An NMI is taken whatever IF says, unless one is being handled (until
 * its iret) or an instruction's shadow holds it. */
static bool nmi_now(const struct vcpu *v)
{
	return lapic_nmi_pending(v->lapic) && !v->nmi_blocked &&
	       !v->irq_shadow;
}

bool irq_takes_now(const struct vcpu *v)
{
	const struct trapeze_shared *sh;

	if (nmi_now(v))
		return true;
	if (!(v->rflags & RFLAGS_IF) || v->irq_shadow ||
	    !pending(v))
		return false;
	sh = v->irq.pv_shared ? shared((struct vcpu *)v) : NULL;
	return !(sh && sh->irq_masked);
}

void irq_deliver(struct vcpu *v)
{
	struct trapeze_shared *sh = shared(v);
	int vector;

	if (nmi_now(v)) {                  /* before any other */
		lapic_take_nmi(v->lapic);
		v->nmi_blocked = true;
		v->halted = false;
		v->irq.delivered++;
		if (!event_deliver(v, X86_NMI, EV_EXTERNAL, false, 0))
			exception_deliver_pending(v);
		return;
	}
	if (!pending(v)) {
		if (v->irq.pv_shared)
			sh->irq_pending = 0;
		return;
	}
	if (v->irq.pv_shared)
		sh->irq_pending = 1;
	if (!(v->rflags & RFLAGS_IF) || (v->irq.pv_shared && sh->irq_masked))
		return;
	if (v->irq_shadow) {
		v->irq.step = true;
		return;
	}
	/* The halt ends: first the single-step trap hlt owes (the
	 * interrupt waits for the #DB handler's iret). */
	if (v->halted && v->step_after_halt) {
		v->halted = false;
		v->step_after_halt = false;
		debugreg_report(v, DR6_BS);
		if (!event_deliver(v, X86_DB, EV_TRAP, false, 0))
			exception_deliver_pending(v);
		return;
	}
	vector = take(v);
	if (vector < 0)
		return;
	v->irq.step = false;
	v->halted = false;
	v->irq.delivered++;
	if (!event_deliver(v, vector, EV_EXTERNAL, false, 0))
		exception_deliver_pending(v);
	if (v->irq.pv_shared && !pending(v))
		sh->irq_pending = 0;
}
