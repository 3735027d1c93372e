/*
 * ops: what the kernel's basic operations cost, for make bench to compare
 * paravirtualization with trapping (init=ops).  Each is timed by the TSC,
 * which user mode reads without a trap, over many repetitions:
 *
 *   - a system call that does nothing (getpid): the way in and out;
 *   - a yield to another process that yields straight back (yielder):
 *     two context switches, each an address-space switch and the
 *     interrupt masking around the scheduler;
 *   - spawning a process that exits at once (true) and waiting for it:
 *     building and tearing down an address space, page table by page
 *     table, and a zombie's reaping.
 *
 * It prints TSC cycles per operation, and exits 0 if every operation did
 * what it should.
 */
#include "trapeze/cpu.h"
#include "ulib.h"

#define SYSCALLS 20000
#define YIELDS   2000                  /* the yielder's too */
#define SPAWNS   200

int yielder_main(void)
{
	int i;

	for (i = 0; i < YIELDS; i++)
		yield();
	return 0;
}

int true_main(void)
{
	return 0;
}

int ops_main(void)
{
	uint64_t t0, t_call, t_yield, t_spawn;
	int i, pid, me = getpid(), bad = 0;

	t0 = rdtsc();
	for (i = 0; i < SYSCALLS; i++)
		bad |= getpid() != me;
	t_call = rdtsc() - t0;

	/* Both yield YIELDS times, in turn: each of ours is a switch to the
	 * yielder and one back.  A yielder that ran ahead alone would make
	 * the figure too small, so it must still be there at the end. */
	pid = spawn(PROG_YIELDER);
	bad |= pid < 0;
	yield();                       /* let it start */
	t0 = rdtsc();
	for (i = 0; i < YIELDS - 1; i++)
		yield();
	t_yield = rdtsc() - t0;
	bad |= wait(pid, 0) != 0;

	t0 = rdtsc();
	for (i = 0; i < SPAWNS; i++) {
		pid = spawn(PROG_TRUE);
		bad |= pid < 0 || wait(pid, 0) != 0;
	}
	t_spawn = rdtsc() - t0;

	printf("ops: TSC cycles per operation: system call %lu, yield to "
	       "another process and back %lu, spawn and wait %lu\n",
	       (unsigned long)(t_call / SYSCALLS),
	       (unsigned long)(t_yield / (YIELDS - 1)),
	       (unsigned long)(t_spawn / SPAWNS));
	return bad;
}
