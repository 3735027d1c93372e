/*
 * Virtual interrupts: the sources (the local APIC, the PIC's INTR line
 * through it, the paravirtual timer), the conditions under which the vCPU takes one (its virtual IF,
 * the one-instruction shadow after sti, and for a paravirtual guest the
 * shared page's mask), delivery through the guest's IDT, and hlt.
 */
#ifndef TRAPEZE_IRQ_H
#define TRAPEZE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/timer.h"

struct vm;

struct irq_state {
	bool pv_shared;           /* TRAPEZE_HC_SHARED_IRQ(1) was made */
	bool pv_timer_pending;
	uint8_t pv_timer_vector;
	struct vtimer pv_timer;
	bool step;                /* single-step to close an sti shadow */
	bool tf_ours;             /* the real TF is set for that step only */
	uint64_t delivered;       /* interrupts delivered, for stats */
};

void irq_init(struct vm *vm);
/* Interrupt line `line` of some device goes up or down (ISA IRQ 0-15, or
 * an I/O APIC pin 16-23): the one place where lines are routed to the
 * interrupt controllers, the 8259s for 0-15 and the I/O APIC for all, IRQ
 * 0 on pin 2.  The void * is the vm, so that this is an irq_line_fn a
 * device can be given as it is. */
void irq_set_line(void *vm, unsigned line, bool level);
/* Would the vCPU take an interrupt before its next instruction? */
bool irq_takes_now(const struct vm *vm);
/* Deliver one interrupt if one is pending and the vCPU takes it now. */
void irq_deliver(struct vm *vm);
/* The vCPU halted: sleep until an interrupt wakes it (delivered on
 * return), or end the run if nothing ever can. */
void irq_halt_wait(struct vm *vm);
/* A #PF is being delivered: in shared-IRQ mode its address goes to the
 * shared page too (trapeze_shared.cr2). */
void irq_note_cr2(struct vm *vm, uint64_t cr2);
/* The paravirtual timer: period 0 stops it. */
void irq_pv_timer(struct vm *vm, uint64_t period_ns, uint8_t vector);

#endif
