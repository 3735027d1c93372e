/*
 * The debug architecture for the guest.  Its hardware breakpoints
 * (DR0-DR3 with DR7) are armed as the host's own: perf_event_open
 * breakpoints on this thread that raise SIGTRAP (TRAP_PERF)
 * synchronously, as a debug exception would.  The
 * guest's linear addresses are this process's addresses inside the
 * window, so a breakpoint on guest code or data there fires where the
 * hardware's would; one outside it (the upper half, which no host
 * process maps) or on an I/O port is kept and never fires.  What the
 * monitor emulates is held to the same rules here: RF, the single-step
 * trap, data breakpoints on its accesses.
 */
#ifndef TRAPEZE_DEBUGREG_H
#define TRAPEZE_DEBUGREG_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* The guest's breakpoints as the host holds them. */
struct debugregs {
	bool arm;                 /* DR7 arms host breakpoints (not in tests) */
	int fd[4];                /* their perf events, or -1 */
	uint8_t hits, held;       /* data breakpoints emulation matched */
	unsigned gen;             /* counts debugreg_arm's changes */
};

/* DR0-DR3 or DR7 changed: make the host's breakpoints match. */
void debugreg_arm(struct vcpu *v);
/* Is any breakpoint armed?  An instruction the monitor emulates
 * trips none, so running ahead stops while one is. */
bool debugreg_armed(const struct vcpu *v);
/* Is an instruction breakpoint armed at rip?  Then the instruction must
 * run natively (not emulated ahead, not from the translation cache),
 * where the host's breakpoint fires before it. */
bool debugreg_exec_at(const struct vcpu *v, uint64_t rip);
/* An access the monitor makes for the guest's instruction, at gva for
 * len bytes: note the data breakpoints it matches (v->dbg.hits). */
void debugreg_access(struct vcpu *v, uint64_t gva, uint64_t len, bool write);
/* At the end of a trap: the #DB those notes owe, now or (after a load of
 * SS) after the next instruction; into the #DB an icebp just raised. */
void debugreg_settle(struct vcpu *v, bool ss_load, bool icebp);
/* The end of a trap that may have emulated an instruction (tf_before:
 * RFLAGS.TF when it began): clear RF as completing it would, raise the
 * single-step trap it owes, and settle data breakpoints it tripped. */
void debugreg_after_trap(struct vcpu *v, bool tf_before);
/* A #DB reports in DR6: B0-B3 say which breakpoints matched this time
 * (bits 0-3 of bits), the other bits set stay (SDM vol. 3B 18.2.3). */
void debugreg_report(struct vcpu *v, uint64_t bits);
/* Breakpoint i fired: DR6 says so; an instruction breakpoint is a
 * fault, whose frame has RF clear (the handler sets it to go on). */
void debugreg_hit(struct vcpu *v, unsigned i);

#endif
