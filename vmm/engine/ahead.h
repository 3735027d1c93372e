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

#include <stdbool.h>
#include <stdint.h>
#include <capstone/capstone.h>

struct ahead;
struct scanner;
struct vcpu;

/* How many ordinary instructions in a row the monitor emulates while
 * looking for the next one that would trap, and how many in all. */
#define AHEAD_PLAIN_RUN 32
#define AHEAD_MAX 256

void ahead_init(void);
/* Running ahead for v, among the code sc vetted (NULL: out of memory). */
struct ahead *ahead_create(struct vcpu *v, struct scanner *sc);
void ahead_destroy(struct ahead *a);
/* After an emulated trap: emulate on from RIP while it pays. */
void ahead_run(struct ahead *a);
/* An instruction that would have trapped was emulated ahead (the
 * tracer's hook: its -c counts it as the trap it would have been). */
typedef void (*ahead_seen_fn)(void *ctx, const cs_insn *insn, bool patched);
void ahead_on_trapper(struct ahead *a, ahead_seen_fn fn, void *ctx);

struct ahead_stats {
	uint64_t run;             /* instructions emulated running ahead */
	uint64_t trappers;        /* ...of which would have trapped */
};
const struct ahead_stats *ahead_stats(const struct ahead *a);

#endif
