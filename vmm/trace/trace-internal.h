/*
 * What the tracer's files share: trace.c records a trap's events,
 * describe.c words them, filter.c decides which are shown, print.c shows
 * them, summary.c prints the -c table.
 */
#ifndef TRAPEZE_TRACE_INTERNAL_H
#define TRAPEZE_TRACE_INTERNAL_H

#include "trace/trace.h"
#include "cpu/vcpu.h"

#define TRACE_EVENTS_PER_TRAP 8

struct trace_event {
	enum trace_kind kind;
	uint64_t rip;                /* where the guest was */
	unsigned cpl;
	unsigned insn_id;            /* X86_INS_*, or 0 */
	int vector;                  /* exception, interrupt: its vector;
				      * hypercall: its number; else -1 */
	char insn[64];               /* as Capstone prints it */
	char effect[224];            /* in words */
	uint16_t port;
	bool has_port;
};

struct summary_row {
	uint64_t count, tsc;
};

struct unwinder;
struct vm;

struct trace {
	struct vm *vm;
	struct trace_options o;
	FILE *out;
	struct symbols *syms;
	struct unwinder *unwind;
	struct vcpu before;          /* the vCPU when the trap came */
	uint64_t t0;                 /* TSC at the trap's start */
	double tsc_per_ns;
	uint64_t start_ns, last_ns;
	uint64_t seq;
	struct trace_event ev[TRACE_EVENTS_PER_TRAP];
	unsigned nev;
	struct summary_row *first;   /* the trap's first counted event's */
	/* -c rows by kind, then by X86_INS_* (or vector, for exceptions
	 * and interrupts) */
	struct summary_row rows[TK_COUNT][X86_INS_ENDING];
	uint64_t total_tsc, total_events;
};

struct trace_event *trace_new_event(struct trace *t, enum trace_kind kind,
				    uint64_t rip, unsigned cpl);
/* Does e pass the -e filters (filter.c)? */
bool trace_wanted(const struct trace *t, const struct trace_event *e);
/* Show e (print.c): us is the trap's time in the monitor (0 for all but
 * its first event), fr the guest's call stack or NULL. */
struct unwind_frames;
void trace_print_event(struct trace *t, const struct trace_event *e,
		       double us, const struct unwind_frames *fr);
/* The -c table, at the end of the run (summary.c). */
void trace_print_summary(struct trace *t);
/* Word what insn did, from the vCPU before and after it. */
void describe_insn(struct trace *t, const struct vcpu *before,
		   const cs_insn *insn, struct trace_event *e);

/*
 * What the trap path tells the tracer (the observer of core/vm.h; ctx is
 * the struct trace).  The places that know an event note it; trace.c
 * shows or counts the trap's events at its end.
 */
void trace_begin(void *ctx);
void trace_end(void *ctx);
bool trace_allows_ahead(void *ctx);
void trace_finish(void *ctx);
/* An emulated instruction: priv, patched, syscall or hypercall. */
void trace_insn(void *ctx, const cs_insn *insn, bool patched);
/* An exception or interrupt delivered (describe.c). */
void trace_event(void *ctx, unsigned vector, bool external, bool has_err,
		 uint32_t err, uint64_t from_rip, uint16_t from_cs);
void trace_ptwrite(void *ctx, uint64_t gva, uint64_t gpa, uint64_t old,
		   uint64_t dropped);
void trace_shadow(void *ctx, uint64_t gva, uint64_t gpa, unsigned access);
void trace_scan(void *ctx, uint64_t gva, uint64_t pages, uint64_t insns,
		uint64_t patches);
/* An access to device memory at gpa; dev NULL: nothing there (the guest
 * gets a #PF). */
struct mmio_region;
void trace_mmio(void *ctx, uint64_t gpa, const struct mmio_region *dev,
		unsigned size, bool write, uint64_t val);

#endif
