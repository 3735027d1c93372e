/*
 * The translator: guest kernel code (virtual CPL 0) runs from a cache of
 * translated blocks in the monitor's part of the address space, never
 * from guest memory, which it never patches (VMware's binary translator;
 * Adams and Agesen, ASPLOS 2006).  Guest user code keeps running natively.
 *
 * A block is guest code from one address, on one page, translated to
 * host code that has the same effect on the guest's registers, flags and
 * memory.  Most instructions are copied as they are ("IDENT"): the guest's
 * registers are the real ones, and its addresses in the window are the
 * host's.  What would run differently is rewritten:
 *   - direct branches go to the target's translation, linked on first use;
 *   - returns and indirect branches look the target up, with a guess at
 *     each site tried first (two instructions that touch no flag);
 *   - RIP-relative operands get the address their guest instruction meant;
 *   - sensitive instructions that would not trap (pushf, popf, sgdt, mov
 *     from cs...) and the frequent privileged ones (cli, sti, out...) call
 *     the emulator directly (a "callout": a jump into the monitor through
 *     a trampoline, no signal), or run inline on the vCPU's state in
 *     memory: cli and sti are one store to the virtual IF;
 *   - anything else that must not run natively traps by itself, and the
 *     trap is the guest's, at its instruction (tc_leave).
 *
 * Where it lives: tc-cache.c keeps the cache (its region, its maps, the
 * frames its blocks came from), tc-block.c translates a block, tc-emit.c
 * writes one instruction's host code (tc-branch.c the branches',
 * tc-inline.c the sensitive instructions', tc-emit32.c 32-bit code's),
 * tc-put.c is the encoder they share, tc-trampoline.c the way into the
 * monitor, tc-run.c the trap path's side (leaving the cache, resuming in
 * it, callouts).  docs/translator.md has the design.
 */
#ifndef TRAPEZE_TRANSLATE_H
#define TRAPEZE_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

struct translator;
struct vcpu;

/*
 * The registers the trampoline saves when translated code calls the
 * monitor (a callout), in the order it pushes them: the backend's
 * handler reads the guest's state from it and writes it back.
 */
struct tc_frame {
	uint64_t rflags;
	uint64_t gpr[16];         /* enum gpr order; gpr[RSP] is not used */
};

/* The backend's handler of a callout (it runs the trap path). */
typedef void (*tc_handler_fn)(struct tc_frame *f);

/*
 * A translator for v's kernel code (NULL, with *why said, when the host
 * lacks what it needs: FSGSBASE for the trampoline, or the region).
 * handler is the backend's function a callout enters.
 */
struct translator *tc_create(struct vcpu *v, tc_handler_fn handler,
			     const char **why);
void tc_destroy(struct translator *tr);

/* The end of the host ranges the cache holds: system calls from below
 * it are the guest's (backend/signal.c). */
uint64_t tc_host_end(void);

/*
 * A trap: if the host RIP (in v->rip) is in the cache, give the vCPU the
 * guest's state at the instruction being run there (a trap the host
 * reports after its instruction, a data breakpoint's, lands on the next
 * one's record, which is the guest's state after it too).  fault_addr: a
 * page fault's address (else UINT64_MAX).
 */
enum tc_left {
	TR_OUTSIDE,       /* not in the cache: the vCPU holds guest state */
	TR_LEFT,          /* the vCPU now holds the guest's own state */
	TR_INTERRUPT,     /* the guard of a pending interrupt: the guest
			     is at an instruction boundary, nothing else */
	TR_SHADOW,        /* the same right after an sti: its interrupt
			     shadow holds for one more instruction */
	TR_RESUME,        /* the cache's own business (a link): resume */
};
enum tc_left tc_leave(struct translator *tr, uint64_t fault_addr);
/* The guest tc_leave stopped was in the shadow of an sti (the next
 * instruction not run yet): a stop from outside must not deliver an
 * interrupt there. */
bool tc_left_in_shadow(const struct translator *tr);
/* The trap tc_leave took in the cache was a device access, the
 * emulator's to finish (addr the access): an instruction that keeps
 * doing that is translated as a callout from then on, or, if it loads a
 * device register whose value is fixed, as a move of it. */
void tc_emulated(struct translator *tr, uint64_t addr);
/* Is the host RIP in the trampoline (between the cache and the
 * monitor, where no guest state can be told)? */
bool tc_in_trampoline(const struct translator *tr, uint64_t host_rip);
/* Can a signal from outside (a timer, a stop) take the guest's state at
 * host_rip, in the cache or not?  Not in the trampoline, nor between the
 * steps of a rewritten instruction (TR_STEPS): the backend puts it off. */
bool tc_state_exact(const struct translator *tr, uint64_t host_rip);
/* Is the monitor's C code running for a callout (from the trampoline's
 * call of the handler to its return)? */
bool tc_in_monitor(const struct translator *tr);

/* A callout from the cache: the vCPU holds the guest's registers (from
 * the frame).  TR_LEFT: the guest's instruction is to be emulated at
 * v->rip; TR_RESUME: done (a link made, an indirect target found). */
enum tc_left tc_callout(struct translator *tr);

/* The emulator could not do the instruction a callout was for: the host
 * runs it natively, one step, when the guest resumes. */
void tc_step_natively(struct translator *tr);

/*
 * Where the guest resumes: the translation of v->rip at CPL 0 (made now
 * if need be), else v->rip itself.  *in_cache: the host must resume in
 * 64-bit mode there.  *step: the host must single-step one instruction
 * natively (one the translator cannot run, or a breakpoint's).
 */
uint64_t tc_resume(struct translator *tr, bool *in_cache, bool *step);

/* The callout's frame into the vCPU (registers, and the stack pointer
 * and FS and GS bases the trampoline kept), and back out: the
 * trampoline returns to rip with code segment cs and host_flags. */
void tc_frame_in(struct translator *tr, const struct tc_frame *f);
void tc_frame_out(struct translator *tr, struct tc_frame *f, uint64_t rip,
		  uint16_t cs, uint64_t host_flags);
/* The upper half's table of offsets (engine/upper.h): accesses that may
 * reach it are rewritten through it.  Without, they are emulated. */
void tc_set_upper(struct translator *tr, const uint64_t *table);
/* The trap tc_leave took was a copied instruction's native access to
 * the upper half: from now on it is translated rewritten.  True: the
 * translations are gone, and the guest resumes at the instruction, now
 * rewritten; false: it already was (the access is the emulator's). */
bool tc_native_upper(struct translator *tr);

/* A tracer watches (or no longer does): sensitive instructions are
 * callouts, whose events it sees, instead of inline code. */
void tc_set_observed(struct translator *tr, bool on);

/* The FS base the monitor's C code needs (glibc's thread pointer). */
void tc_set_monitor_fs(struct translator *tr, uint64_t fs);

/* Guest-physical [gpa, gpa + len) changed, or is about to: translations
 * of code there are dropped (a watcher of guest memory, and the run loop
 * for a store that faulted on a code page). */
void tc_code_written(struct translator *tr, uint64_t gpa, uint64_t len);
/* Does the store of len bytes at gpa touch translated code?  (Data that
 * shares a page with code does not.) */
bool tc_write_touches_code(const struct translator *tr, uint64_t gpa,
			   uint64_t len);

struct tc_stats {
	uint64_t blocks, insns, bytes;       /* translated */
	uint64_t links, callouts, misses;    /* inline-cache misses */
	uint64_t lookups, flushes, invalidations, native_steps;
	uint64_t exits;                      /* traps taken in the cache */
	uint64_t hot_sites;                  /* made callouts (tc_emulated) */
	uint64_t folds;                      /* device registers folded */
	uint64_t upper_sites;                /* rewritten for the upper half */
};
void tc_get_stats(const struct translator *tr, struct tc_stats *st);

#endif
