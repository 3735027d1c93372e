/*
 * trapeze trace -e: which events are shown.  The kinds of event by name
 * (trace=), the instructions by Capstone's mnemonic (insn=) and the I/O
 * ports (port=) are parsed here into the options, and each event the
 * trap path notes is held against them at the trap's end (trace.c).
 */
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"
#include "trace/trace-internal.h"

static const char *const kind_names[TK_COUNT] = {
	[TK_PRIV] = "priv", [TK_PATCHED] = "patched",
	[TK_EXCEPTION] = "exception", [TK_INTERRUPT] = "interrupt",
	[TK_SYSCALL] = "syscall", [TK_HYPERCALL] = "hypercall",
	[TK_PTWRITE] = "ptwrite", [TK_SHADOW] = "shadow", [TK_SCAN] = "scan",
	[TK_MMIO] = "mmio",
};

const char *trace_kind_name(enum trace_kind k)
{
	return k < TK_COUNT ? kind_names[k] : "?";
}

/* ---- -e expressions ---------------------------------------------------- */

static int add_kind(struct trace_options *o, const char *name, char *err,
		    size_t errlen)
{
	unsigned k;

	if (!strcmp(name, "all")) {
		o->kinds = (1u << TK_COUNT) - 1;
		return 0;
	}
	for (k = 0; k < TK_COUNT; k++)
		if (!strcmp(name, kind_names[k])) {
			o->kinds |= 1u << k;
			return 0;
		}
	snprintf(err, errlen, "-e trace=%s: unknown kind of event (priv, "
		 "patched, exception, interrupt, syscall, hypercall, ptwrite, "
		 "shadow, scan, mmio, all)", name);
	return -1;
}

static int add_insn(struct trace_options *o, const char *name, char *err,
		    size_t errlen)
{
	csh h;
	unsigned id;

	if (o->ninsns == TRACE_MAX_FILTER) {
		snprintf(err, errlen, "-e insn=: more than %d instructions",
			 TRACE_MAX_FILTER);
		return -1;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -1;
	for (id = 1; id < X86_INS_ENDING; id++) {
		const char *n = cs_insn_name(h, id);

		if (n && !strcmp(n, name))
			break;
	}
	cs_close(&h);
	if (id == X86_INS_ENDING) {
		snprintf(err, errlen, "-e insn=%s: no such instruction", name);
		return -1;
	}
	o->insns[o->ninsns++] = id;
	return 0;
}

static int add_port(struct trace_options *o, const char *s, char *err,
		    size_t errlen)
{
	char *end;
	unsigned long p = strtoul(s, &end, 0);

	if (end == s || *end || p > 0xffff ||
	    o->nports == TRACE_MAX_FILTER) {
		snprintf(err, errlen, "-e port=%s: not a port number (0-0xffff)",
			 s);
		return -1;
	}
	o->ports[o->nports++] = (uint16_t)p;
	return 0;
}

int trace_parse_filter(struct trace_options *o, const char *expr, char *err,
		       size_t errlen)
{
	int (*add)(struct trace_options *, const char *, char *, size_t);
	const char *eq = strchr(expr, '=');
	char list[512], *item, *save;

	if (!eq || (size_t)(eq - expr) > 6) {
		snprintf(err, errlen, "-e %s: expected trace=, insn= or port=",
			 expr);
		return -1;
	}
	if (!strncmp(expr, "trace=", 6))
		add = add_kind;
	else if (!strncmp(expr, "insn=", 5))
		add = add_insn;
	else if (!strncmp(expr, "port=", 5))
		add = add_port;
	else {
		snprintf(err, errlen, "-e %s: expected trace=, insn= or port=",
			 expr);
		return -1;
	}
	snprintf(list, sizeof(list), "%s", eq + 1);
	if (!list[0]) {
		snprintf(err, errlen, "-e %s: empty list", expr);
		return -1;
	}
	for (item = strtok_r(list, ",", &save); item;
	     item = strtok_r(NULL, ",", &save))
		if (add(o, item, err, errlen))
			return -1;
	return 0;
}

/* ---- an event against them --------------------------------------------- */

/* Its kind must be picked; with insn= or port= lists, its instruction or
 * port too (an event that used no port passes no port= list). */
bool trace_wanted(const struct trace *t, const struct trace_event *e)
{
	unsigned i;
	bool ok;

	if (!(t->o.kinds & (1u << e->kind)))
		return false;
	if (t->o.ninsns) {
		for (ok = false, i = 0; i < t->o.ninsns; i++)
			ok |= e->insn_id == t->o.insns[i];
		if (!ok)
			return false;
	}
	if (t->o.nports) {
		for (ok = false, i = 0; e->has_port && i < t->o.nports; i++)
			ok |= e->port == t->o.ports[i];
		if (!ok)
			return false;
	}
	return true;
}
