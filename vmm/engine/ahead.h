/*
 * Running ahead of a trap: after the monitor has emulated the instruction
 * that trapped, it goes on emulating, in the same signal, while the next
 * instructions would trap too or are a few ordinary ones on the way to
 * one.  A guest whose kernel traps every few instructions (xv6's
 * pushcli: pushfl, cli, a read of the local APIC, ret...) then pays one
 * signal for a run of them instead of one each.  The guest sees the same
 * machine: every instruction is emulated as it would be after its own
 * trap, and the monitor stops before an interrupt it would deliver, a
 * pending exception, a halt, a change of privilege level or mode, and
 * whenever the guest single-steps (RFLAGS.TF).
 */
#ifndef TRAPEZE_AHEAD_H
#define TRAPEZE_AHEAD_H

struct vm;

/* How many ordinary instructions in a row the monitor emulates while
 * looking for the next one that would trap, and how many in all. */
#define AHEAD_PLAIN_RUN 32
#define AHEAD_MAX 256

void ahead_init(void);
/* After an emulated trap: emulate on from RIP while it pays. */
void ahead_run(struct vm *vm);

#endif
