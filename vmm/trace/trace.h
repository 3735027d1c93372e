/*
 * trapeze trace: strace for trapped instructions.  Every event on the trap
 * path (an emulated privileged or patched instruction, an exception or
 * interrupt delivered, a system call or hypercall, a page-table write, a
 * shadow fault, a scan) becomes one line, or one JSON object, or a row of
 * the -c summary.
 *
 * With tracing off, vm->trace is NULL and the trap path pays one test.
 * With it on, vm_trap() brackets each trap with trace_begin/trace_end;
 * the places that know an event note it, and trace.c describes it from
 * the vCPU before and after the trap.
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
struct trace *trace_create(struct vm *vm, const struct trace_options *o,
			   const char *guest_path, char *err, size_t errlen);
void trace_finish(struct vm *vm);

/* May the monitor run ahead of traps (ahead.h)?  Only when no event is
 * shown one by one (-c): the summary counts what it emulates as a trace
 * would show it, trap by trap. */
bool trace_allows_ahead(const struct vm *vm);

/* The trap path's hooks (call only when vm->trace is set). */
void trace_begin(struct vm *vm);
void trace_end(struct vm *vm);
/* An emulated instruction: priv, patched, syscall or hypercall. */
void trace_insn(struct vm *vm, const cs_insn *insn, bool patched);
void trace_event(struct vm *vm, unsigned vector, bool external,
		 bool has_err, uint32_t err, uint64_t from_rip,
		 uint16_t from_cs);
void trace_ptwrite(struct vm *vm, uint64_t gva, uint64_t gpa,
		   uint64_t old, uint64_t dropped);
void trace_shadow(struct vm *vm, uint64_t gva, uint64_t gpa,
		  unsigned access, uint32_t pf_err, bool to_guest);
void trace_scan(struct vm *vm, uint64_t gva, uint64_t pages, uint64_t insns,
		uint64_t patches);
/* An emulated access to device memory at gpa; dev NULL: nothing there
 * (the guest gets a #PF). */
struct mmio_region;
void trace_mmio(struct vm *vm, uint64_t gpa, const struct mmio_region *dev,
		unsigned size, bool write, uint64_t val);

#endif
