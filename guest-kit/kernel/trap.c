/*
 * Exceptions and interrupts, through guest-kit's IDT (every vector lands
 * in one C dispatcher with a struct trap_frame).
 *
 * An exception from user mode is the process's problem: a page fault on
 * an absent heap or stack page is demand-zero (map a zeroed page and run
 * the instruction again); anything else kills the process, with the
 * vector in its exit status (uapi.h) for the parent to read.  An
 * exception in the kernel is a kernel bug: panic.
 *
 * The timer interrupt counts a tick, wakes sleepers and, if it caught a
 * process in user mode, makes it yield: preemption.
 */
#include "kernel.h"

#define VEC_PF     14
#define VEC_DF     8
#define PF_PRESENT 0x1
#define IRQ_SPURIOUS_MASTER 7
#define IRQ_SPURIOUS_SLAVE  15

static void kernel_fault(const struct trap_frame *f)
{
	panic("vector %llu (error 0x%llx) in the kernel at rip 0x%llx, "
	      "cr2 0x%llx, pid %d", (unsigned long long)f->vector,
	      (unsigned long long)f->error, (unsigned long long)f->rip,
	      (unsigned long long)pv->fault_address(), current ? current->pid : 0);
}

static void on_exception(struct trap_frame *f)
{
	int status = KILLED_BY((int)f->vector);

	if ((f->cs & 3) != 3)
		kernel_fault(f);
	if (f->vector == VEC_PF && !(f->error & PF_PRESENT)) {
		int r = vm_demand_zero(current->pml4, pv->fault_address());

		if (r == 0)
			return;
		if (r == -2)
			status = KILLED_NOMEM;
	}
	vprint("kernel: pid %d killed: vector %llu, error 0x%llx, rip 0x%llx, "
	       "cr2 0x%llx\n", current->pid, (unsigned long long)f->vector,
	       (unsigned long long)f->error, (unsigned long long)f->rip,
	       (unsigned long long)pv->fault_address());
	proc_exit(status);
}

/* Acknowledge first: the process may not come back for a while, and the
 * interrupt controller holds back the line until it hears the EOI. */
static void on_timer(struct trap_frame *f)
{
	pv->eoi((unsigned)f->vector);
	timer_tick();
	if (!current)
		return;
	current->cpu_ticks++;
	if ((f->cs & 3) != 3)
		return;
	if (yield())
		current->preemptions++;
	else
		tick_maybe_stop();
}

static void on_spurious(struct trap_frame *f)
{
	unsigned irq = (unsigned)f->vector - TIMER_VECTOR;

	if (!pic_spurious(irq))
		pic_eoi(irq);
}

/* Every vector comes here first, to mark the time the kernel takes from
 * a process in user mode. */
static void on_trap(struct trap_frame *f)
{
	int from_user = (f->cs & 3) == 3;

	if (from_user)
		cpu_now(IN_KERNEL);
	if (f->vector < 32)
		on_exception(f);
	else if (f->vector == TIMER_VECTOR)
		on_timer(f);
	else
		on_spurious(f);
	if (from_user)
		cpu_now(IN_USER);
}

void trap_init(void)
{
	unsigned v;

	idt_init();
	for (v = 0; v < 32; v++)
		idt_set_handler(v, on_trap);
	idt_use_ist(VEC_DF);             /* a kernel stack overflow */
	idt_set_handler(TIMER_VECTOR, on_trap);
	idt_set_handler(TIMER_VECTOR + IRQ_SPURIOUS_MASTER, on_trap);
	idt_set_handler(TIMER_VECTOR + IRQ_SPURIOUS_SLAVE, on_trap);
}
