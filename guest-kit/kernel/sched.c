/*
 * Scheduling: round robin over the process table, from a scheduler loop
 * that runs on the boot stack between any two processes (as in xv6).  A
 * process leaves the CPU by swtch()ing back to that loop: when the timer
 * interrupts it in user mode (each 10 ms tick), when it sleeps, when it
 * exits.  With nothing to run the loop idles, which is where a kernel
 * that runs with interrupts off (pvops.h) lets the timer in.
 *
 * Everything here runs with interrupts off: sched() and sleep_on() must
 * be called that way, wakeup() is called from the timer interrupt.  The
 * interrupt state is not part of what swtch() saves (and under Trapeze's
 * paravirtual interface it is a byte in the shared page, not even in
 * RFLAGS), so each side of a switch restores its own: a process from the
 * flags it saved before calling sched(), the scheduler from its own, and
 * a new process from the scheduler's, which it inherits (proc_start()).
 */
#include "kernel.h"

volatile uint64_t ticks;
uint64_t scheduler_flags;
static uint64_t scheduler_rsp;
static int last;

static struct proc *pick_next(void)
{
	int k;

	for (k = 1; k <= NPROC; k++) {
		int i = (last + k) % NPROC;

		if (procs[i].state == RUNNABLE) {
			last = i;
			return &procs[i];
		}
	}
	return NULL;
}

/* Give the CPU to p until it comes back through sched(). */
static void run(struct proc *p)
{
	p->state = RUNNING;
	current = p;
	kernel_stack_top = p->kstack_top;
	tss_set_rsp0(p->kstack_top);
	vm_switch(p->pml4);
	swtch(&scheduler_rsp, p->rsp);
	current = NULL;
}

void scheduler(void)
{
	for (;;) {
		uint64_t flags = irq_save();
		struct proc *p = pick_next();

		scheduler_flags = flags;
		if (p) {
			run(p);
		} else {
			tick_resume();
			cpu_now(IN_IDLE);
			pv->idle();
			cpu_now(IN_KERNEL);
		}
		irq_restore(flags);
	}
}

/* Back to the scheduler loop; returns when this process is picked again. */
void sched(void)
{
	swtch(&current->rsp, scheduler_rsp);
}

static int others_runnable(void)
{
	struct proc *p;

	for (p = procs; p < procs + NPROC; p++)
		if (p != current && p->state == RUNNABLE)
			return 1;
	return 0;
}

/* Let another process run, if there is one: 1 if one did.  A process
 * that is alone keeps the CPU rather than going round the scheduler loop
 * (two context switches, only to be picked again); under Trapeze that
 * trip was most of a timer tick's cost to a CPU-bound process. */
int yield(void)
{
	uint64_t flags = irq_save();
	int others = others_runnable();

	if (others) {
		current->state = RUNNABLE;
		sched();
	}
	irq_restore(flags);
	return others;
}

void sleep_on(const void *chan)
{
	current->chan = chan;
	current->state = SLEEPING;
	sched();
	current->chan = NULL;
}

void wakeup(const void *chan)
{
	struct proc *p;
	int woke = 0;

	for (p = procs; p < procs + NPROC; p++)
		if (p->state == SLEEPING && p->chan == chan) {
			p->state = RUNNABLE;
			woke = 1;
		}
	if (woke)
		tick_resume();
}

void sleep_ticks(uint64_t n)
{
	uint64_t flags = irq_save();
	uint64_t until;

	tick_resume();
	until = ticks + n;

	while (ticks < until)
		sleep_on((const void *)&ticks);
	irq_restore(flags);
}

/* The timer interrupt, in whatever context it came. */
void timer_tick(void)
{
	ticks++;
	wakeup((const void *)&ticks);
}

/*
 * Tickless while alone, as Linux's nohz_full: a process that has the CPU
 * to itself, with nobody sleeping on the clock, gets nothing from the
 * tick but its cost (under Trapeze two privilege switches and a few traps
 * every 10 ms).  The tick that finds it so stops the timer; whatever could
 * want it again (a process made runnable, a sleep on the clock, the clock
 * read, a CPU about to idle) calls tick_resume() first, which counts the
 * ticks missed from the TSC.  Only where stopping the timer is cheap
 * (pv->timer_stop) and the TSC rate is known.
 */
static uint64_t tsc_per_tick;       /* 0: the tick never stops */
static uint64_t stopped_at;         /* TSC when it stopped, 0 if ticking */

void tick_init(uint64_t tsc_khz)
{
	if (pv->timer_stop && tsc_khz)
		tsc_per_tick = tsc_khz * MS_PER_TICK;
}

void tick_resume(void)
{
	int r;

	if (!stopped_at)
		return;
	ticks += (rdtsc() - stopped_at) / tsc_per_tick;
	stopped_at = 0;
	r = pv->timer_start(TIMER_HZ, TIMER_VECTOR);
	if (r < 0)
		panic("timer: %d", r);
}

static int clock_sleepers(void)
{
	struct proc *p;

	for (p = procs; p < procs + NPROC; p++)
		if (p->state == SLEEPING && p->chan == (const void *)&ticks)
			return 1;
	return 0;
}

/* From the timer interrupt, when the current process keeps the CPU. */
void tick_maybe_stop(void)
{
	if (!tsc_per_tick || stopped_at || others_runnable() ||
	    clock_sleepers())
		return;
	pv->timer_stop();
	stopped_at = rdtsc() | 1;
}

struct cpu_time cpu_time;
static uint64_t cpu_khz;
static int cpu_report;

void cpu_time_init(uint64_t tsc_khz, int report)
{
	cpu_khz = tsc_khz;
	cpu_report = report;
	cpu_time.state = IN_KERNEL;
	cpu_time.since = rdtsc();
}

/* In microseconds if the TSC's rate is known, else in TSC cycles. */
void cpu_time_report(void)
{
	uint64_t div = cpu_khz ? cpu_khz : 1000, k = 1000;

	if (!cpu_report)
		return;
	cpu_now(IN_KERNEL);
	kprintf("kernel: %s in user mode %llu, in the kernel %llu, idle "
		"%llu; TSC %llu kHz\n", cpu_khz ? "microseconds" : "TSC cycles",
		(unsigned long long)(cpu_time.spent[IN_USER] * k / div),
		(unsigned long long)(cpu_time.spent[IN_KERNEL] * k / div),
		(unsigned long long)(cpu_time.spent[IN_IDLE] * k / div),
		(unsigned long long)cpu_khz);
}
