/*
 * trapeze trace: strace for trapped instructions.  Every event on the trap
 * path (an emulated privileged or patched instruction, an exception or
 * interrupt delivered, a system call or hypercall, a page-table write, a
 * shadow fault, a scan) becomes one line, or one JSON object, or a row of
 * the -c summary.
 *
 * With tracing off, the VM has no observer and the trap path pays one
 * test.  With it on, the run loop brackets each trap with the observer's
 * begin and end (core/vm.h), the places that know an event tell it
 * through their hooks, and describe.c words it from the vCPU before and
 * after the trap.
 */
#ifndef TRAPEZE_TRACE_H
#define TRAPEZE_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <capstone/capstone.h>

struct vm;

enum trace_kind {
	TK_PRIV,        /* a privileged instruction trapped and was emulated */
	TK_PATCHED,     /* an instruction the scanner patched */
	TK_EXCEPTION,   /* an exception or software interrupt delivered */
	TK_INTERRUPT,   /* an external interrupt injected */
	TK_SYSCALL,     /* syscall, sysret: a system call reflected */
	TK_HYPERCALL,
	TK_PTWRITE,     /* a store to a guest page table, emulated */
	TK_SHADOW,      /* a shadow-MMU fault, fixed by a new mapping */
	TK_SCAN,        /* code pages scanned */
	TK_MMIO,        /* a device-memory access, or one nothing answers */
	TK_COUNT
};

#define TRACE_MAX_FILTER 32

struct trace_options {
	const char *out_path;          /* NULL: stderr */
	int timestamps;                /* 0, 1 (-t), 2 (-tt), 3 (-ttt) */
	bool relative;                 /* -r */
	bool show_time;                /* -T */
	bool summary, summary_too;     /* -c, -C */
	bool stack;                    /* -k */
	bool json;
	uint32_t kinds;                /* bit per trace_kind; 0: all */
	unsigned ninsns, nports;
	unsigned insns[TRACE_MAX_FILTER];   /* X86_INS_* */
	uint16_t ports[TRACE_MAX_FILTER];
};

const char *trace_kind_name(enum trace_kind k);
/* Parse one -e expression (trace=..., insn=..., port=...); 0 or -1 with
 * a message in err. */
int trace_parse_filter(struct trace_options *o, const char *expr, char *err,
		       size_t errlen);

struct trace;
/* Attach a tracer to vm: its events go to o->out_path (stderr if NULL).
 * NULL with one line in err when the output or -k cannot be had. */
struct trace *trace_create(struct vm *vm, const struct trace_options *o,
			   const char *guest_path, char *err, size_t errlen);

#endif
