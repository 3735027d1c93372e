/*
 * Processes: a fixed table, each slot with its own kernel stack.  A new
 * process gets a fresh address space holding the user image, and a
 * kernel stack arranged so that the scheduler's first swtch() into it
 * "returns" to trapret, which irets to the program's entry at CPL 3.
 * Exit frees the address space at once; the slot itself (the status for
 * wait(), the stack still being stood on) goes when the parent waits.
 */
#include "kernel.h"

struct proc procs[NPROC];
struct proc *current;
static int next_pid = 1;
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));

static struct proc *claim_slot(void)
{
	uint64_t flags = irq_save();
	struct proc *p;

	for (p = procs; p < procs + NPROC; p++)
		if (p->state == UNUSED) {
			p->state = EMBRYO;
			break;
		}
	irq_restore(flags);
	return p < procs + NPROC ? p : NULL;
}

/* The first code a new process runs, on its own kernel stack, called as
 * if from trapret: the scheduler picked it inside an irq_save() section,
 * which the process ends, as every other one does when it is switched
 * back in, before it goes on to user mode. */
static void proc_start(void)
{
	current->tsc_started = rdtsc();
	irq_restore(scheduler_flags);
	cpu_now(IN_USER);
}

/* What swtch() pops and returns to (proc_start, then trapret) under the
 * frame trapret irets with. */
static void build_kernel_stack(struct proc *p, uint64_t entry)
{
	struct trap_frame *f;
	uint64_t *sw;

	p->kstack_top = (uint64_t)(uintptr_t)(kstacks[p - procs] + KSTACK_SIZE);
	f = (struct trap_frame *)(uintptr_t)p->kstack_top - 1;
	memset(f, 0, sizeof(*f));
	f->rip = entry;
	f->cs = USER_CS;
	f->rflags = RFLAGS_IF | 0x2;
	f->rsp = USER_STACK_TOP;
	f->ss = USER_DS;
	f->rdi = (uint64_t)p->prog;
	sw = (uint64_t *)f - 8;
	memset(sw, 0, 6 * sizeof(*sw));          /* r15 ... rbp */
	sw[6] = (uint64_t)(uintptr_t)proc_start;
	sw[7] = (uint64_t)(uintptr_t)trapret;
	p->rsp = (uint64_t)(uintptr_t)sw;
}

/* Start program prog as a child of parent: its pid, or -1. */
int proc_spawn(int prog, struct proc *parent)
{
	struct proc *p;
	uint64_t entry;

	if (prog < 0 || prog >= PROG_COUNT || !(p = claim_slot()))
		return -1;
	p->pml4 = vm_new();
	entry = p->pml4 ? exec_load(p->pml4) : 0;
	if (!entry) {
		if (p->pml4)
			vm_free(p->pml4);
		p->state = UNUSED;
		return -1;
	}
	p->prog = prog;
	p->parent = parent;
	p->report = 0;
	p->chan = NULL;
	p->cpu_ticks = 0;
	p->preemptions = 0;
	p->tsc_spawned = rdtsc();
	build_kernel_stack(p, entry);
	p->pid = next_pid++;
	p->state = RUNNABLE;
	tick_resume();
	return p->pid;
}

static struct proc *init_proc(void)
{
	struct proc *p;

	for (p = procs; p < procs + NPROC; p++)
		if (p->pid == 1 && p->state != UNUSED)
			return p;
	return NULL;
}

/* The end of the current process, by exit() or by the kernel's hand.
 * When init ends, so does the machine, with init's status. */
void proc_exit(int status)
{
	struct proc *p = current, *q, *init = init_proc();
	uint64_t now = rdtsc();

	irq_save();   /* never restored here: the scheduler restores its own */
	vprint("kernel: pid %d exits with status %d after %llu ticks, "
	       "%u preemptions, %llu TSC cycles since spawn, %llu since it "
	       "first ran\n", p->pid, status,
	       (unsigned long long)p->cpu_ticks, p->preemptions,
	       (unsigned long long)(now - p->tsc_spawned),
	       (unsigned long long)(now - p->tsc_started));
	if (p == init) {
		cpu_time_report();
		pv->shutdown(status);
	}
	for (q = procs; q < procs + NPROC; q++)
		if (q->parent == p && q->state != UNUSED) {
			q->parent = init;
			if (q->state == ZOMBIE)
				wakeup(init);
		}
	vm_switch(kernel_pml4);
	vm_free(p->pml4);
	p->pml4 = 0;
	p->status = status;
	p->state = ZOMBIE;
	wakeup(p->parent);
	sched();
	panic("pid %d ran after its exit", p->pid);
}

/* Wait for the child pid to end: its status (and report), or WAIT_NOCHILD
 * if pid is not a child of the caller. */
int proc_wait(int pid, uint64_t *report)
{
	struct proc *c;
	uint64_t flags = irq_save();
	int status = WAIT_NOCHILD;

	for (c = procs; c < procs + NPROC; c++)
		if (c->pid == pid && c->parent == current &&
		    c->state != UNUSED && c->state != EMBRYO)
			break;
	if (c < procs + NPROC) {
		while (c->state != ZOMBIE)
			sleep_on(current);
		status = c->status;
		*report = c->report;
		c->pid = 0;
		c->parent = NULL;
		c->state = UNUSED;
	}
	irq_restore(flags);
	return status;
}
