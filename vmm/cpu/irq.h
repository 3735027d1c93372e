/*
 * Virtual interrupts: the sources (the local APIC, the PIC's INTR line
 * through it, the paravirtual timer), the conditions under which the
 * vCPU takes one (its virtual IF, the one-instruction shadow after sti,
 * and for a paravirtual guest the shared page's mask), and delivery
 * through the guest's IDT.
 */
#ifndef TRAPEZE_IRQ_H
#define TRAPEZE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/timer.h"

struct vcpu;

struct irq_state {
	bool pv_shared;           /* TRAPEZE_HC_SHARED_IRQ(1) was made */
	bool pv_timer_pending;
	uint8_t pv_timer_vector;
	struct vtimer pv_timer;
	bool step;                /* single-step to close an sti shadow */
	bool tf_ours;             /* the real TF is set for the monitor's
				     step only (that one, or a native one) */
	bool stepped;             /* the trap came after such a step */
	uint64_t delivered;       /* interrupts delivered, for stats */
};

void irq_init(struct vcpu *v);
/* Is an interrupt (or an NMI) waiting, whether or not the vCPU would
 * take it now? */
bool irq_pending(const struct vcpu *v);
/* Would the vCPU take an interrupt before its next instruction? */
bool irq_takes_now(const struct vcpu *v);
/* Deliver one interrupt if one is pending and the vCPU takes it now. */
void irq_deliver(struct vcpu *v);
/* The paravirtual timer: period 0 stops it. */
void irq_pv_timer(struct vcpu *v, uint64_t period_ns, uint8_t vector);

#endif
