/*
 * Delivering exceptions and interrupts into the guest through its own IDT,
 * as the processor does at CPL 0 (SDM vol. 3A ch. 6): gate checks, stack
 * switch through the TSS, the interrupt frame, IF cleared by interrupt
 * gates, #DF when delivery itself faults, shutdown on a triple fault.
 */
#ifndef TRAPEZE_EXCEPTION_H
#define TRAPEZE_EXCEPTION_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

enum event_kind {
	EV_FAULT,        /* exception; the frame's RIP is the faulting insn */
	EV_TRAP,         /* exception after the instruction (#DB step, #OF) */
	EV_SOFT_INT,     /* int n, int3, into: gate DPL checked, RIP = next */
	EV_EXTERNAL,     /* hardware interrupt */
};

/* Deliver the vCPU's pending exception, escalating to #DF and to a triple
 * fault (which ends the run with a report) as the SDM says. */
void exception_deliver_pending(struct vcpu *v);

/* Deliver one event now.  Returns false, with a new exception pending,
 * when the delivery itself faults. */
bool event_deliver(struct vcpu *v, unsigned vector, enum event_kind kind,
		   bool has_err, uint32_t err);

#endif /* TRAPEZE_EXCEPTION_H */
