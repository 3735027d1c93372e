/*
 * trapeze trace -c: the summary table, in the manner of strace -c.  Each
 * event the filters let through was counted in a row by its kind and its
 * instruction (or vector) as the trap ended (trace.c), and the trap's
 * time in the monitor was charged to its first such row; here the rows
 * are sorted by that time and printed, with the traps a second.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "core/hypercall.h"
#include "trace/trace.h"
#include "trace/trace-internal.h"
#include "core/vm.h"
#include "engine/ahead.h"

struct row_ref {
	uint64_t tsc, count;
	unsigned kind, id;
};

static int by_time(const void *a, const void *b)
{
	const struct row_ref *x = a, *y = b;

	if (x->tsc != y->tsc)
		return x->tsc < y->tsc ? 1 : -1;
	return (x->count < y->count) - (x->count > y->count);
}

/* An exception's row is named by its mnemonic (#PF), an interrupt's by its
 * vector, a hypercall's by its name, an instruction's by Capstone's. */
static const char *row_name(csh h, unsigned kind, unsigned id, char *buf,
			    size_t len)
{
	if (kind == TK_EXCEPTION && id < 32) {
		snprintf(buf, len, "%.4s", exception_name(id));
		buf[strcspn(buf, " ")] = 0;
	} else if (kind == TK_EXCEPTION || kind == TK_INTERRUPT)
		snprintf(buf, len, "vector 0x%x", id);
	else if (kind == TK_HYPERCALL)
		snprintf(buf, len, "%s", hypercall_name(id));
	else
		snprintf(buf, len, "%s", id ? cs_insn_name(h, id) : "-");
	return buf;
}

void trace_print_summary(struct trace *t)
{
	struct vm *vm = t->vm;
	csh h = decoder_handle(vm->cpu.dec, MODE_LONG64);
	struct row_ref *r = calloc(TK_COUNT * X86_INS_ENDING, sizeof(*r));
	size_t n = 0, i;
	unsigned k, id;
	double total_s = t->total_tsc / t->tsc_per_ns / 1e9;
	double wall_s = (timer_now() - t->start_ns) / 1e9;
	char name[32];

	if (!r)
		return;
	for (k = 0; k < TK_COUNT; k++)
		for (id = 0; id < X86_INS_ENDING; id++)
			if (t->rows[k][id].count)
				r[n++] = (struct row_ref){ t->rows[k][id].tsc,
							   t->rows[k][id].count,
							   k, id };
	qsort(r, n, sizeof(*r), by_time);
	fprintf(t->out, "%% time     seconds  usecs/event     events "
		"kind       instruction\n");
	fprintf(t->out, "------ ----------- ------------ ---------- "
		"---------- ----------------\n");
	for (i = 0; i < n; i++) {
		double s = r[i].tsc / t->tsc_per_ns / 1e9;

		fprintf(t->out, "%6.2f %11.6f %12.2f %10llu %-10s %s\n",
			t->total_tsc ? 100.0 * r[i].tsc / t->total_tsc : 0.0,
			s, s * 1e6 / r[i].count,
			(unsigned long long)r[i].count,
			trace_kind_name(r[i].kind),
			row_name(h, r[i].kind, r[i].id, name, sizeof(name)));
	}
	fprintf(t->out, "------ ----------- ------------ ---------- "
		"---------- ----------------\n");
	fprintf(t->out, "100.00 %11.6f %12.2f %10llu            total\n",
		total_s, t->total_events ? total_s * 1e6 / t->total_events : 0,
		(unsigned long long)t->total_events);
	fprintf(t->out, "traps: %llu in %.3f s, %.0f a second\n",
		(unsigned long long)vm->stats.traps, wall_s,
		wall_s > 0 ? vm->stats.traps / wall_s : 0.0);
	if (vm->ahead && ahead_stats(vm->ahead)->run)
		fprintf(t->out, "(of the events, %llu were emulated running "
			"ahead of a trap)\n",
			(unsigned long long)ahead_stats(vm->ahead)->trappers);
	free(r);
}
