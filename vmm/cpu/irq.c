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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "trapeze/abi.h"

#include "cpu/debugreg.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "dev/pic.h"
#include "dev/uart.h"
#include "cpu/exception.h"
#include "cpu/gmem.h"
#include "cpu/irq.h"
#include "core/vm.h"

static struct trapeze_shared *shared(struct vm *vm)
{
	return gpa_ptr(vm, TRAPEZE_SHARED_GPA, sizeof(struct trapeze_shared));
}

void irq_note_cr2(struct vm *vm, uint64_t cr2)
{
	if (vm->irq.pv_shared)
		shared(vm)->cr2 = cr2;
}

static void pv_timer_fire(void *opaque, uint64_t now)
{
	struct vm *vm = opaque;

	vm->irq.pv_timer_pending = true;
	shared(vm)->timer_ticks++;
}

void irq_set_line(void *opaque, unsigned line, bool level)
{
	struct vm *vm = opaque;

	if (line < 16)
		pic_set_irq(vm->pic, line, level);
	/* IRQ 0 on pin 2, as QEMU wires the PIT (and as the MP and ACPI
	 * tables say). */
	ioapic_set_irq(vm->ioapic, line == 0 ? 2 : line, level);
}

void irq_init(struct vm *vm)
{
	vm->irq.pv_timer.fire = pv_timer_fire;
	vm->irq.pv_timer.opaque = vm;
	timers_add(&vm->timers, &vm->irq.pv_timer);
}

void irq_pv_timer(struct vm *vm, uint64_t period_ns, uint8_t vector)
{
	if (!period_ns) {
		vtimer_stop(&vm->timers, &vm->irq.pv_timer);
		vm->irq.pv_timer_pending = false;
		return;
	}
	vm->irq.pv_timer_vector = vector;
	vtimer_start(&vm->timers, &vm->irq.pv_timer, period_ns, period_ns);
}

/* The 8259's INTR reaches the vCPU through the local APIC's LINT0 (or
 * directly when the APIC is disabled). */
static bool pic_pending(const struct vm *vm)
{
	return lapic_accepts_pic(vm->lapic) && pic_intr(vm->pic);
}

static bool pending(const struct vm *vm)
{
	return vm->irq.pv_timer_pending || lapic_pending(vm->lapic) ||
	       pic_pending(vm);
}

/* The acknowledge cycle: the vector to deliver, highest source first;
 * the local APIC's fixed interrupts before ExtINT, as QEMU orders them. */
static int take(struct vm *vm)
{
	if (vm->irq.pv_timer_pending) {
		vm->irq.pv_timer_pending = false;
		return vm->irq.pv_timer_vector;
	}
	if (lapic_pending(vm->lapic))
		return lapic_ack(vm->lapic);
	if (!pic_pending(vm))
		return -1;
	return pic_ack(vm->pic);
}

/* An NMI is taken whatever IF says, unless one is being handled (until
 * its iret) or an instruction's shadow holds it. */
static bool nmi_now(const struct vm *vm)
{
	return lapic_nmi_pending(vm->lapic) && !vm->cpu.nmi_blocked &&
	       !vm->cpu.irq_shadow;
}

bool irq_takes_now(const struct vm *vm)
{
	const struct trapeze_shared *sh;

	if (nmi_now(vm))
		return true;
	if (!(vm->cpu.rflags & RFLAGS_IF) || vm->cpu.irq_shadow ||
	    !pending(vm))
		return false;
	sh = vm->irq.pv_shared ? shared((struct vm *)vm) : NULL;
	return !(sh && sh->irq_masked);
}

void irq_deliver(struct vm *vm)
{
	struct vcpu *v = &vm->cpu;
	struct trapeze_shared *sh = shared(vm);
	int vector;

	if (nmi_now(vm)) {                  /* before any other */
		lapic_take_nmi(vm->lapic);
		v->nmi_blocked = true;
		v->halted = false;
		vm->irq.delivered++;
		if (!event_deliver(vm, X86_NMI, EV_EXTERNAL, false, 0))
			exception_deliver_pending(vm);
		return;
	}
	if (!pending(vm)) {
		if (vm->irq.pv_shared)
			sh->irq_pending = 0;
		return;
	}
	if (vm->irq.pv_shared)
		sh->irq_pending = 1;
	if (!(v->rflags & RFLAGS_IF) || (vm->irq.pv_shared && sh->irq_masked))
		return;
	if (v->irq_shadow) {
		vm->irq.step = true;
		return;
	}
	/* The halt ends: first the single-step trap hlt owes (the
	 * interrupt waits for the #DB handler's iret). */
	if (v->halted && v->step_after_halt) {
		v->halted = false;
		v->step_after_halt = false;
		debugreg_report(v, DR6_BS);
		if (!event_deliver(vm, X86_DB, EV_TRAP, false, 0))
			exception_deliver_pending(vm);
		return;
	}
	vector = take(vm);
	if (vector < 0)
		return;
	vm->irq.step = false;
	v->halted = false;
	vm->irq.delivered++;
	if (!event_deliver(vm, vector, EV_EXTERNAL, false, 0))
		exception_deliver_pending(vm);
	if (vm->irq.pv_shared && !pending(vm))
		sh->irq_pending = 0;
}

/* Could anything ever wake the vCPU from hlt? */
static bool can_wake(struct vm *vm)
{
	return (vm->cpu.rflags & RFLAGS_IF) &&
	       (timers_next(&vm->timers) || uart_wants_input(vm->com1));
}

/* Sleep until the next deadline or input; Ctrl-C, SIGTERM and --timeout
 * still end the run (their handler sees it is inside a trap). */
static void sleep_until_event(struct vm *vm)
{
	uint64_t d = timers_wait(&vm->timers);
	struct pollfd p = { .fd = 0, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	sigset_t mask;

	if (d != UINT64_MAX) {
		ts.tv_sec = d / 1000000000ull;
		ts.tv_nsec = d % 1000000000ull;
		tsp = &ts;
	}
	sigfillset(&mask);
	sigdelset(&mask, SIGINT);
	sigdelset(&mask, SIGTERM);
	sigdelset(&mask, SIGALRM);
	uart_flush(vm->com1);
	ppoll(&p, uart_wants_input(vm->com1) ? 1 : 0, tsp, &mask);
}

void irq_halt_wait(struct vm *vm)
{
	vm->stats.halts++;
	while (vm->cpu.halted) {
		irq_deliver(vm);
		if (!vm->cpu.halted)
			return;
		if (!can_wake(vm))
			vm_halt_forever(vm);
		/* The guest's clock runs while it waits. */
		timers_idle_begin(&vm->timers);
		sleep_until_event(vm);
		timers_idle_end(&vm->timers);
		timers_run(&vm->timers);
		uart_poll_input(vm->com1);
	}
}
