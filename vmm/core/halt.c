/*
 * A halted vCPU: the monitor sleeps in the host until a timer's deadline
 * or input on the console, lets the guest's clock run meanwhile (it is
 * the guest's time), and ends the wait when an interrupt is delivered.
 * A guest halted with nothing that could ever wake it ends the run.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <stdio.h>

#include "core/vm.h"
#include "cpu/irq.h"
#include "dev/uart.h"

void vm_halt_forever(struct vm *vm)
{
	uart_flush(vm->pc.com1);
	if (!vm->opt.quiet)
		fprintf(stderr, "trapeze: guest halted at rip %#llx with "
			"interrupts %s; nothing can wake it\n",
			(unsigned long long)vm->cpu.rip,
			(vm->cpu.rflags & RFLAGS_IF) ? "enabled" : "disabled");
	vm_exit(vm, EXIT_HALTED);
}

/* Could anything ever wake the vCPU from hlt? */
static bool can_wake(struct vm *vm)
{
	return (vm->cpu.rflags & RFLAGS_IF) &&
	       (timers_next(&vm->timers) || uart_wants_input(vm->pc.com1));
}

/* Sleep until the next deadline, input, or a request (vm_request writes
 * to the wake pipe; Ctrl-C, SIGTERM and --timeout interrupt the sleep
 * anyway). */
static void sleep_until_event(struct vm *vm)
{
	uint64_t d = timers_wait(&vm->timers);
	struct pollfd p[2] = {
		{ .fd = vm->wake_fd[0], .events = POLLIN },
		{ .fd = uart_input_fd(vm->pc.com1), .events = POLLIN },
	};
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
	uart_flush(vm->pc.com1);
	ppoll(p, uart_wants_input(vm->pc.com1) ? 2 : 1, tsp, &mask);
}

void vm_halt_wait(struct vm *vm)
{
	vm->stats.halts++;
	while (vm->cpu.halted) {
		/* A stop from outside ends the wait (and the run). */
		if (vm->requests)
			vm_take_requests(vm);
		irq_deliver(&vm->cpu);
		if (!vm->cpu.halted)
			return;
		if (!can_wake(vm))
			vm_halt_forever(vm);
		/* The guest's clock runs while it waits. */
		timers_idle_begin(&vm->timers);
		sleep_until_event(vm);
		timers_idle_end(&vm->timers);
		timers_run(&vm->timers);
		uart_poll_input(vm->pc.com1);
	}
}
