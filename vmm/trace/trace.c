/*
 * trapeze trace (see trace.h): the tracer's set-up, and what it records.
 * The trap path tells it of each event through the observer table below
 * (core/vm.h); each is noted with where the guest was, and at the trap's
 * end (trace_end) the trap's events are counted for -c and, unless it
 * only counts, shown.  Around it: filter.c holds the -e filters,
 * describe.c words what an instruction did, print.c shows an event as a
 * line or as JSON, summary.c prints the -c table, unwind.c finds guest
 * call stacks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "trapeze/abi.h"

#include "cpu/emulate.h"
#include "dev/mmio.h"
#include "trace/symbols.h"
#include "trace/trace.h"
#include "trace/trace-internal.h"
#include "trace/unwind.h"
#include "core/vm.h"

/* ---- set-up ------------------------------------------------------------ */

/* What the trap path tells the tracer (core/vm.h). */
static const struct vm_observer observer = {
	.begin = trace_begin, .end = trace_end, .insn = trace_insn,
	.ptwrite = trace_ptwrite, .shadow = trace_shadow,
	.event = trace_event, .mmio = trace_mmio, .scan = trace_scan,
	.allows_ahead = trace_allows_ahead, .finish = trace_finish,
};

struct trace *trace_create(struct vm *vm, const struct trace_options *o,
			   const char *guest_path, char *err, size_t errlen)
{
	struct trace *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->o = *o;
	if (!t->o.kinds)
		t->o.kinds = (1u << TK_COUNT) - 1;
	t->out = stderr;
	if (o->out_path && !(t->out = fopen(o->out_path, "w"))) {
		snprintf(err, errlen, "-o %s: %s", o->out_path,
			 strerror(errno));
		free(t);
		return NULL;
	}
	t->syms = symbols_load(guest_path);
	t->tsc_per_ns = vm->host.tsc_khz ? vm->host.tsc_khz / 1e6 : 1.0;
	t->start_ns = timer_now();
	if (o->stack && !(t->unwind = unwind_create(vm, guest_path))) {
		snprintf(err, errlen, "-k: %s has no unwind tables "
			 "(.eh_frame_hdr)", guest_path);
		if (t->out != stderr)
			fclose(t->out);
		symbols_free(t->syms);
		free(t);
		return NULL;
	}
	t->vm = vm;
	vm_observe(vm, &observer, t);
	return t;
}

/* ---- recording --------------------------------------------------------- */

void trace_begin(void *ctx)
{
	struct trace *t = ctx;
	struct vm *vm = t->vm;

	memcpy(&t->before, &vm->cpu, VCPU_STATE_SIZE);
	t->nev = 0;
	t->first = NULL;
	t->t0 = __rdtsc();
}

static bool counts_only(const struct trace *t)
{
	return t->o.summary && !t->o.summary_too;
}

bool trace_allows_ahead(void *ctx)
{
	return counts_only(ctx);
}

/* Count an event the filters let through in its -c row (the trap's first
 * such row is remembered, to be charged the trap's time); NULL if the
 * filters hold it back. */
static struct summary_row *count_event(struct trace *t,
				       const struct trace_event *e)
{
	struct summary_row *row =
		&t->rows[e->kind][e->vector >= 0 ? (unsigned)e->vector
						 : e->insn_id];

	if (!trace_wanted(t, e))
		return NULL;
	if (!t->first)
		t->first = row;
	row->count++;
	t->total_events++;
	t->seq++;
	return row;
}

/* Count the events noted so far, and forget them. */
static void count_events(struct trace *t)
{
	unsigned i;

	for (i = 0; i < t->nev; i++)
		count_event(t, &t->ev[i]);
	t->nev = 0;
}

/* A new event of this trap, where the guest was when it happened. */
struct trace_event *trace_new_event(struct trace *t, enum trace_kind kind,
				    uint64_t rip, unsigned cpl)
{
	struct trace_event *e;

	/* Counting only, a trap run far ahead may note more events than
	 * are kept: the ones so far are counted now. */
	if (t->nev == TRACE_EVENTS_PER_TRAP && counts_only(t))
		count_events(t);
	if (t->nev == TRACE_EVENTS_PER_TRAP)
		return NULL;
	e = &t->ev[t->nev++];
	memset(e, 0, sizeof(*e));
	e->vector = -1;
	e->kind = kind;
	e->rip = rip;
	e->cpl = cpl;
	return e;
}

static enum trace_kind kind_of(const struct trace *t, const cs_insn *insn,
			       bool patched)
{
	if (patched)
		return TK_PATCHED;
	if (insn->id == X86_INS_SYSCALL || insn->id == X86_INS_SYSRET)
		return TK_SYSCALL;
	if (insn->id == X86_INS_INT && vcpu_cpl(&t->before) == 0 &&
	    x86(insn)->operands[0].imm == TRAPEZE_HYPERCALL_VECTOR)
		return TK_HYPERCALL;
	return TK_PRIV;
}

/* The instruction an event came from, as Capstone prints it. */
static void note_insn(struct trace_event *e, const cs_insn *insn)
{
	e->insn_id = insn->id;
	/* Capstone's operand text can outgrow a trace column: cut it. */
	snprintf(e->insn, sizeof(e->insn), "%.16s%s%.40s", insn->mnemonic,
		 insn->op_str[0] ? " " : "", insn->op_str);
}

void trace_insn(void *ctx, const cs_insn *insn, bool patched)
{
	struct trace *t = ctx;
	struct trace_event *e = trace_new_event(t, kind_of(t, insn, patched),
						insn->address,
						vcpu_cpl(&t->before));

	if (!e)
		return;
	/* The instruction caused whatever else this trap noted (the #BP of
	 * an int3, a shadow fault of its store): it goes first. */
	if (e != t->ev) {
		struct trace_event tmp = *e;

		memmove(t->ev + 1, t->ev, (size_t)(e - t->ev) * sizeof(*e));
		t->ev[0] = tmp;
		e = t->ev;
	}
	note_insn(e, insn);
	describe_insn(t, &t->before, insn, e);
}

void trace_ptwrite(void *ctx, uint64_t gva, uint64_t gpa, uint64_t old,
		   uint64_t dropped)
{
	struct trace *t = ctx;
	struct vm *vm = t->vm;
	struct trace_event *e = trace_new_event(t, TK_PTWRITE, t->before.rip,
						vcpu_cpl(&t->before));
	uint64_t now = 0;

	if (!e)
		return;
	memcpy(&now, vm->ram + (gpa & ~7ull), 8);
	snprintf(e->effect, sizeof(e->effect),
		 "entry at gpa 0x%llx: 0x%llx -> 0x%llx (shadow: %llu page%s "
		 "dropped)", (unsigned long long)(gpa & ~7ull),
		 (unsigned long long)old, (unsigned long long)now,
		 (unsigned long long)dropped, dropped == 1 ? "" : "s");
}

void trace_shadow(void *ctx, uint64_t gva, uint64_t gpa, unsigned access)
{
	struct trace *t = ctx;
	struct trace_event *e;

	e = trace_new_event(t, TK_SHADOW, t->before.rip, vcpu_cpl(&t->before));
	if (!e)
		return;
	snprintf(e->effect, sizeof(e->effect), "%s of 0x%llx: mapped gpa "
		 "0x%llx", access == 1 ? "write" : access == 2 ? "fetch"
							    : "read",
		 (unsigned long long)gva, (unsigned long long)gpa);
}

void trace_scan(void *ctx, uint64_t gva, uint64_t pages, uint64_t insns,
		uint64_t patches)
{
	struct trace *t = ctx;
	struct vm *vm = t->vm;
	struct trace_event *e = trace_new_event(t, TK_SCAN, gva,
						vcpu_cpl(&vm->cpu));
	char sym[96];

	if (!e)
		return;
	snprintf(e->effect, sizeof(e->effect), "from 0x%llx (%s): %llu "
		 "page%s, %llu instructions, %llu patched",
		 (unsigned long long)gva,
		 symbols_name(t->syms, gva, sym, sizeof(sym)),
		 (unsigned long long)pages, pages == 1 ? "" : "s",
		 (unsigned long long)insns, (unsigned long long)patches);
}

void trace_mmio(void *ctx, uint64_t gpa, const struct mmio_region *dev,
		unsigned size, bool write, uint64_t val)
{
	struct trace *t = ctx;
	struct vm *vm = t->vm;
	/* The instruction that made the access: the trap's, or one run
	 * ahead of it. */
	const cs_insn *insn = vm->cpu.insn;
	struct trace_event *e = trace_new_event(t, TK_MMIO,
						insn ? insn->address
						     : t->before.rip,
						vcpu_cpl(&t->before));

	if (!e)
		return;
	if (insn)
		note_insn(e, insn);
	if (!dev)
		snprintf(e->effect, sizeof(e->effect), "%s of gpa 0x%llx: no "
			 "RAM and no device there (guest #PF)",
			 write ? "write" : "read", (unsigned long long)gpa);
	else
		snprintf(e->effect, sizeof(e->effect), "%s %s+0x%llx, %u "
			 "byte%s: 0x%llx", write ? "write" : "read", dev->name,
			 (unsigned long long)(gpa - dev->base), size,
			 size == 1 ? "" : "s", (unsigned long long)val);
}

/* ---- the trap's end ---------------------------------------------------- */

void trace_end(void *ctx)
{
	struct trace *t = ctx;
	struct vm *vm = t->vm;
	uint64_t dt = __rdtsc() - t->t0;
	struct unwind_frames frames, *fr = NULL;
	unsigned i;

	if (counts_only(t)) {
		count_events(t);
	} else {
		for (i = 0; i < t->nev; i++) {
			struct trace_event *e = &t->ev[i];
			bool first = !t->first;
			double us = first ? dt / t->tsc_per_ns / 1000.0 : 0.0;

			if (!count_event(t, e))
				continue;
			if (t->unwind && !fr &&
			    unwind_stack(t->unwind, vm, &t->before, t->syms,
					 &frames) == 0)
				fr = &frames;
			trace_print_event(t, e, us, fr);
		}
		t->nev = 0;
	}
	/* The trap's monitor time goes to its first shown event. */
	if (t->first) {
		t->first->tsc += dt;
		t->total_tsc += dt;
	}
}

void trace_finish(void *ctx)
{
	struct trace *t = ctx;

	/* The run ended inside a trap (the guest's write to the exit port,
	 * say): its events are shown and counted too. */
	if (t->nev)
		trace_end(t);
	if (t->o.summary || t->o.summary_too)
		trace_print_summary(t);
	fflush(t->out);
}
