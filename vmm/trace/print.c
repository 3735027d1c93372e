/*
 * How trapeze trace shows an event: one line, as strace would,
 *   5 kernel 0x100a00 printf+0x90  out dx, al  priv  port=0x3f8 (COM1 THR)
 * led by its sequence number or, under -t, -tt, -ttt and -r, the time;
 * under -T the monitor's time for it at the end, under -k the guest's
 * call stack below.  Or, under --json, one JSON object a line.  trace.c
 * calls it at the end of each trap, for each event the filters let
 * through.
 */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "trace/symbols.h"
#include "trace/trace.h"
#include "trace/trace-internal.h"
#include "trace/unwind.h"
#include "dev/timer.h"

static void print_prefix(struct trace *t)
{
	struct timeval tv;
	struct tm tm;
	uint64_t now = timer_now();

	if (t->o.relative) {
		uint64_t d = now - (t->last_ns ? t->last_ns : t->start_ns);

		fprintf(t->out, "%6llu.%06llu ", (unsigned long long)(d / 1000000000),
			(unsigned long long)(d / 1000 % 1000000));
		t->last_ns = now;
		return;
	}
	if (!t->o.timestamps) {
		fprintf(t->out, "%7llu ", (unsigned long long)t->seq);
		return;
	}
	gettimeofday(&tv, NULL);
	if (t->o.timestamps == 3) {
		fprintf(t->out, "%lld.%06ld ", (long long)tv.tv_sec,
			(long)tv.tv_usec);
		return;
	}
	localtime_r(&tv.tv_sec, &tm);
	fprintf(t->out, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (t->o.timestamps == 2)
		fprintf(t->out, ".%06ld", (long)tv.tv_usec);
	fputc(' ', t->out);
}

static void print_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void print_json(struct trace *t, const struct trace_event *e,
		       const char *sym, double us, const struct unwind_frames *fr)
{
	unsigned i;

	fprintf(t->out, "{\"seq\":%llu,\"time_ns\":%llu,\"mode\":\"%s\","
		"\"rip\":\"0x%llx\",\"symbol\":", (unsigned long long)t->seq,
		(unsigned long long)(timer_now() - t->start_ns),
		e->cpl == 3 ? "user" : "kernel", (unsigned long long)e->rip);
	print_json_string(t->out, sym);
	fprintf(t->out, ",\"insn\":");
	print_json_string(t->out, e->insn);
	fprintf(t->out, ",\"kind\":\"%s\",\"effect\":",
		trace_kind_name(e->kind));
	print_json_string(t->out, e->effect);
	fprintf(t->out, ",\"monitor_us\":%.3f", us);
	if (fr) {
		fprintf(t->out, ",\"stack\":[");
		for (i = 0; i < fr->n; i++) {
			fprintf(t->out, "%s{\"rip\":\"0x%llx\",\"symbol\":",
				i ? "," : "", (unsigned long long)fr->rip[i]);
			print_json_string(t->out, fr->name[i]);
			fputc('}', t->out);
		}
		fputc(']', t->out);
	}
	fprintf(t->out, "}\n");
}

void trace_print_event(struct trace *t, const struct trace_event *e,
		       double us, const struct unwind_frames *fr)
{
	char sym[96];
	unsigned i;

	symbols_name(t->syms, e->rip, sym, sizeof(sym));
	if (t->o.json) {
		print_json(t, e, sym, us, fr);
		return;
	}
	print_prefix(t);
	fprintf(t->out, "%-6s %#9llx %-22s %-26s %-9s %s",
		e->cpl == 3 ? "user" : "kernel", (unsigned long long)e->rip,
		sym, e->insn[0] ? e->insn : "-", trace_kind_name(e->kind),
		e->effect);
	if (t->o.show_time)
		fprintf(t->out, " <%.1fus>", us);
	fputc('\n', t->out);
	for (i = 0; fr && i < fr->n; i++)
		fprintf(t->out, "          > %#llx %s\n",
			(unsigned long long)fr->rip[i], fr->name[i]);
}
