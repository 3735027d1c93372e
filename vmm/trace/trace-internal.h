/*
 * Private to trace.c and trace-describe.c.
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

struct trace {
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

struct trace_event *trace_new_event(struct vm *vm, enum trace_kind kind,
				    uint64_t rip, unsigned cpl);
/* Word what insn did, from the vCPU before and after it. */
void describe_insn(struct vm *vm, const struct vcpu *before,
		   const cs_insn *insn, struct trace_event *e);

#endif
