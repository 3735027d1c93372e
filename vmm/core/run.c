/*
 * The run loop: what happens on every trap, from the moment the backend
 * has the guest's registers in the vCPU until it resumes the guest.
 *
 *   guest instruction --fault--> host kernel --signal--> the backend
 *   (backend/signal.c) fills the vCPU --> vm_trap, here: why did the
 *   guest stop?  An instruction (exit-insn.c: decode, emulate by family,
 *   cpu/emu-*.c), or a page fault (exit-fault.c: the shadow MMU, a page
 *   table, a device) --> what the end of an instruction owes (debug
 *   traps, running ahead, a pending exception, an interrupt) --> the
 *   backend writes the vCPU back --> the guest resumes.
 *
 * docs/trap-path.md follows one `out` and one `mov cr3` through it.
 * Nothing on this road allocates memory or takes a lock.
 */
#include <unistd.h>

#include "core/exit.h"
#include "core/vm.h"
#include "cpu/debugreg.h"
#include "cpu/exception.h"
#include "cpu/gmem.h"
#include "dev/uart.h"
#include "engine/ahead.h"
#include "engine/bt.h"
#include "engine/scan.h"
#include "engine/translate.h"

/*
 * A trap inside the translation cache is the guest's own, at the guest
 * instruction being run there: first the vCPU gets the guest's state at
 * that instruction.  Some traps in the cache are the cache's business
 * alone (a branch to link, a rewritten access to retry natively): then
 * the guest resumes at once, and it was no trap of the guest's.
 */
/* What leaving the cache made of the trap. */
enum left {
	LEFT_RESUME,       /* nothing of the guest's: resume at once */
	LEFT_TRAP,         /* the guest's own trap: on to its handler */
	LEFT_WINDOW,       /* an instruction boundary with an interrupt
			      waiting: nothing to handle, only to deliver */
	LEFT_SHADOW,       /* the same in an sti's interrupt shadow */
};

/* The translator's cache: a trap there, or a callout from it (false:
 * the trap was not in its cache). */
static bool left_translation(struct vm *vm, const struct host_trap *t,
			     enum left *left)
{
	if (t->kind == HT_CALLOUT) {
		*left = tc_callout(vm->tr) == TR_RESUME ? LEFT_RESUME
							: LEFT_TRAP;
		return true;
	}
	switch (tc_leave(vm->tr, t->kind == HT_PAGE_FAULT ? t->addr
							  : UINT64_MAX)) {
	case TR_OUTSIDE:
		return false;
	case TR_INTERRUPT:
		*left = LEFT_WINDOW;
		return true;
	case TR_SHADOW:
		*left = LEFT_SHADOW;
		return true;
	case TR_RESUME:
		*left = LEFT_RESUME;
		return true;
	default:
		*left = LEFT_TRAP;
		return true;
	}
}

static enum left left_cache(struct vm *vm, const struct host_trap *t)
{
	bool bounced;
	enum bt_left left;
	enum left tl;

	if (vm->tr && left_translation(vm, t, &tl))
		return tl;
	if (!vm->bt)
		return LEFT_TRAP;
	left = bt_leave(vm->bt, t->kind == HT_INSN && t->vector == X86_UD,
			t->kind == HT_PAGE_FAULT ||
				(t->kind == HT_INSN && t->vector == X86_GP),
			t->kind == HT_PAGE_FAULT ? t->addr : UINT64_MAX,
			&bounced);
	if (bounced) {
		/* An instruction run on a copy of device memory: the device
		 * gets its result now, an event of its own. */
		if (vm->obs)
			vm->obs->begin(vm->obs_ctx);
		if (!bt_finish_bounce(vm->bt))
			exception_deliver_pending(&vm->cpu);
		if (vm->obs)
			vm->obs->end(vm->obs_ctx);
	}
	return left != BT_CHAINED && left != BT_NATIVE ? LEFT_TRAP
						      : LEFT_RESUME;
}

/* A timer's signal: fire what expired, and look at the console. */
static void tick(struct vm *vm)
{
	timers_run(&vm->timers);
	uart_poll_input(vm->pc.com1);
	/* Output without a newline (a shell's prompt) reaches the terminal
	 * or the pipe at the next tick at the latest, even from a guest that
	 * never halts. */
	uart_flush(vm->pc.com1);
}

/* Now we look at why the guest exited, and hand it to its handler. */
static void handle_exit(struct vm *vm, const struct host_trap *t)
{
	switch (t->kind) {
	case HT_START:
	case HT_KICK:
		break;
	case HT_PAGE_FAULT:
		exit_page_fault(vm, t);
		break;
	case HT_BREAKPOINT:
		exit_breakpoint(vm, t);
		break;
	case HT_SYSCALL:
	case HT_INSN:
	case HT_CALLOUT:
		exit_insn(vm, t);
		break;
	case HT_EXCEPTION:
		exit_exception(vm, t);
		break;
	case HT_TIMER:
		tick(vm);
		break;
	case HT_COMPAT_SYSCALL:
		vm_crash(vm, "the guest ran `syscall` from 32-bit code that "
			 "the scanner had not patched (with --cpu=trap, every "
			 "one); the host's compat entry lost its address");
	}
}

/*
 * The instruction has been emulated (or the fault handled): now what the
 * hardware does between instructions.  The debug architecture's traps;
 * running ahead through the next instructions that would trap too; a
 * RIP the host could not resume at; the exception the instruction
 * raised; and last an interrupt, or the wait of a halted vCPU.
 */
static void finish_insn(struct vm *vm, bool tf_before)
{
	struct vcpu *v = &vm->cpu;

	/* RF, the trap flag's trap and data breakpoints, as the hardware
	 * would leave them after that instruction (debugreg.c). */
	debugreg_after_trap(v, tf_before);
	/* A trace that shows every trap the guest makes runs nothing ahead
	 * (its -c summary counts what is run ahead as the trace would). */
	if (v->insn && vm->opt.run_ahead && vm->ahead &&
	    (!vm->obs || vm->obs->allows_ahead(vm->obs_ctx)))
		ahead_run(vm->ahead);
	/* Execution that reached a non-canonical RIP (the instruction at
	 * the top of the lower half, say) faults fetching there: the host
	 * could not even be told to resume at it. */
	if (!v->exc.pending && vcpu_mode(v) == MODE_LONG64 &&
	    !gva_canonical(v, v->rip))
		vcpu_raise_gp(v, 0);
	if (v->exc.pending)
		exception_deliver_pending(v);
	if (v->halted)
		vm_halt_wait(vm);
	else
		irq_deliver(v);
}

void vm_trap(struct vm *vm, const struct host_trap *t)
{
	struct vcpu *v = &vm->cpu;
	enum left left = left_cache(vm, t);
	bool tf_before;

	if (left == LEFT_RESUME)
		return;
	/* Stopped from outside (a timeout, Ctrl-C): the run ends here,
	 * where the guest was.  (A kick with nothing asked of it is a
	 * chance to deliver an interrupt.) */
	if (t->kind == HT_KICK && vm->requests) {
		vm_take_requests(vm);
		return;
	}
	vm->stats.traps++;
	tf_before = (v->rflags & RFLAGS_TF) != 0;
	/* Whatever trapped, the instruction after an sti has run (or is
	 * being emulated now): its interrupt shadow is over; but for the
	 * translator's sti, whose shadow is still to come (its probe, or
	 * a stop from outside between it and the next instruction). */
	v->irq_shadow = left == LEFT_SHADOW ||
			((t->kind == HT_TIMER || t->kind == HT_KICK) &&
			 vm->tr && tc_left_in_shadow(vm->tr));
	v->irq.step = false;     /* (irq_deliver asks again if need be) */
	/* The host reports RIP after an int3 and after a syscall (0f 05). */
	if (t->kind == HT_BREAKPOINT)
		v->rip -= 1;
	else if (t->kind == HT_SYSCALL)
		v->rip -= 2;
	if (vm->obs)
		vm->obs->begin(vm->obs_ctx);
	v->insn = NULL;          /* set by whatever emulates below */
	if (left == LEFT_TRAP) {
		uint64_t mmio = v->stats.mmio;

		handle_exit(vm, t);
		/* A copied instruction that reached a device, which the
		 * emulator did instead: the translator counts it.  (Not a
		 * store to a page table: most stores of such an instruction
		 * go to pages that are none, at native speed.) */
		if (vm->tr && t->kind == HT_PAGE_FAULT && v->insn &&
		    v->stats.mmio != mmio)
			tc_emulated(vm->tr, t->addr);
	}
	finish_insn(vm, tf_before);
	/* The guest resumes only at an instruction the scanner vetted. */
	if (vm->scan)
		scan_check_rip(vm->scan);
	if (vm->obs)
		vm->obs->end(vm->obs_ctx);
	if (vm->requests)
		vm_take_requests(vm);
}

uint64_t vm_resume(struct vm *vm, bool *in_cache, bool *step)
{
	struct vcpu *v = &vm->cpu;

	*in_cache = *step = false;
	if (vm->tr && !bt_bounce_pending(vm->bt))
		return tc_resume(vm->tr, in_cache, step);
	if (vm->bt)
		return bt_resume_rip(vm->bt, (v->rflags & RFLAGS_TF) ||
						     v->irq.step);
	return v->rip;
}

void vm_request(struct vm *vm, unsigned what)
{
	__atomic_fetch_or(&vm->requests, what, __ATOMIC_SEQ_CST);
	if (write(vm->wake_fd[1], "", 1) < 0) {
		/* The pipe is full: a wake-up is already pending. */
	}
	if (vm->kick)
		vm->kick(vm->kick_ctx);
}

void vm_observe(struct vm *vm, const struct vm_observer *obs, void *ctx)
{
	vm->obs = obs;
	vm->obs_ctx = ctx;
	vm->cpu.hooks.event = obs ? obs->event : NULL;
	vm->cpu.hooks.event_ctx = ctx;
	vm->cpu.mem.mmio_seen = obs ? obs->mmio : NULL;
	vm->cpu.mem.mmio_seen_ctx = ctx;
	if (vm->scan)
		scan_on_scan(vm->scan, obs ? obs->scan : NULL, ctx);
	if (vm->tr)
		tc_set_observed(vm->tr, obs != NULL);
	if (vm->ahead)
		ahead_on_trapper(vm->ahead, obs ? obs->insn : NULL, ctx);
}
