/*
 * How a run ends.  Every way goes through vm_exit(): the guest's exit
 * (isa-debug-exit, the exit hypercall), a halt for good, a crash, the
 * guest's reset or sleep, --timeout, Ctrl-C, SIGTERM and Ctrl-A x.  It
 * flushes the console, gives the tracer its last word (the -c summary),
 * prints --stats and closes the disks (every completed write is already
 * in the image file: host/disk.c writes through).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/report.h"
#include "core/vm.h"
#include "cpu/decode.h"
#include "dev/uart.h"
#include "engine/ahead.h"
#include "engine/bt.h"
#include "engine/translate.h"
#include "engine/upper.h"
#include "host/disk.h"

struct insn_count {
	uint64_t n;
	unsigned id;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct insn_count *x = a, *y = b;

	return (x->n < y->n) - (x->n > y->n);
}

/* The translator's part of --stats. */
static void print_translator(struct vm *vm, FILE *f)
{
	struct tc_stats t;

	tc_get_stats(vm->tr, &t);
	fprintf(f, "trapeze: translator, %llu blocks of %llu instructions "
		"(%llu bytes), %llu exits chained (links made), unchained: "
		"%llu callouts into the emulator and %llu traps in the "
		"cache, %llu indirect branches that missed the hash table, "
		"%llu lookups by the monitor, %llu "
		"native steps, %llu instructions made callouts for their "
		"traps (%llu device-register loads folded), %llu made to "
		"reach the upper half, %llu flushes (%llu for code that "
		"changed)\n",
		(unsigned long long)t.blocks, (unsigned long long)t.insns,
		(unsigned long long)t.bytes, (unsigned long long)t.links,
		(unsigned long long)t.callouts, (unsigned long long)t.exits,
		(unsigned long long)t.misses, (unsigned long long)t.lookups,
		(unsigned long long)t.native_steps,
		(unsigned long long)t.hot_sites,
		(unsigned long long)t.folds,
		(unsigned long long)t.upper_sites,
		(unsigned long long)t.flushes,
		(unsigned long long)t.invalidations);
}

/* The --stats summary: what trapped, most frequent first. */
static void print_stats(struct vm *vm, FILE *f)
{
	static struct insn_count c[X86_INS_ENDING];
	csh h = decoder_handle(vm->cpu.dec, MODE_LONG64);
	struct shadow_stats sh;
	struct bt_stats b;
	unsigned i, n = 0;

	shadow_get_stats(vm->mmu, &sh);
	fprintf(f, "trapeze: %llu traps: %llu instructions emulated, %llu "
		"page faults (%llu mapped by the shadow MMU, %llu given to the "
		"guest), %llu page-table writes, %llu exceptions delivered\n",
		(unsigned long long)vm->stats.traps,
		(unsigned long long)vm->cpu.stats.emulated,
		(unsigned long long)vm->stats.page_faults,
		(unsigned long long)sh.faults_fixed,
		(unsigned long long)sh.faults_guest,
		(unsigned long long)sh.pt_writes,
		(unsigned long long)vm->cpu.stats.exceptions);
	fprintf(f, "trapeze: %llu host signals taken, %llu calls from "
		"translated code into the monitor (no signal)\n",
		(unsigned long long)vm->stats.signals,
		(unsigned long long)vm->stats.callouts);
	fprintf(f, "trapeze: shadow MMU, %llu host maps (%llu pages mapped "
		"ahead), %llu protects, %llu unmaps, %llu invalidations "
		"(%llu pages dropped), %llu cr3 switches (%llu to a cached "
		"address space)\n",
		(unsigned long long)sh.maps, (unsigned long long)sh.pages_around,
		(unsigned long long)sh.protects, (unsigned long long)sh.unmaps,
		(unsigned long long)sh.invalidations,
		(unsigned long long)sh.pages_dropped,
		(unsigned long long)sh.cr3_switches,
		(unsigned long long)sh.cache_hits);
	fprintf(f, "trapeze: %llu timer expirations (%llu early wake-ups); "
		"off the guest's clock: %.3f s of the monitor's time, "
		"a round trip %.2f us (int3), %.2f us (#GP), %.2f us (#PF)\n",
		(unsigned long long)vm->timers.fired,
		(unsigned long long)vm->timers.early,
		vm->timers.monitor_ns / 1e9,
		vm->timers.trip[TRIP_BREAKPOINT].ns / 1e3,
		vm->timers.trip[TRIP_GP].ns / 1e3,
		vm->timers.trip[TRIP_PF].ns / 1e3);
	if (vm->ahead && ahead_stats(vm->ahead)->run)
		fprintf(f, "trapeze: running ahead, %llu more instructions "
			"emulated without a trap, %llu of which would have "
			"trapped\n",
			(unsigned long long)ahead_stats(vm->ahead)->run,
			(unsigned long long)ahead_stats(vm->ahead)->trappers);
	if (vm->tr) {
		struct upper_stats u;

		print_translator(vm, f);
		upper_get_stats(vm->upper, &u);
		if (vm->upper)
			fprintf(f, "trapeze: the upper half, %u chunks of 4 "
				"GiB in aliases now (%llu given one, %llu "
				"resets)\n", u.slots,
				(unsigned long long)u.assigned,
				(unsigned long long)u.resets);
		else if (vm->upper_off_why)
			fprintf(f, "trapeze: no aliases for the upper half "
				"(its accesses are emulated): %s\n",
				vm->upper_off_why);
	} else if (vm->tc_off_why)
		fprintf(f, "trapeze: no translator (--cpu=scan instead): %s\n",
			vm->tc_off_why);
	bt_get_stats(vm->bt, &b);
	if (b.translations)
		fprintf(f, "trapeze: translation cache, %llu traces of %llu "
			"instructions (%llu rewritten for the top 4 GiB), %llu "
			"links, %llu alias pages mapped, %llu flushes\n",
			(unsigned long long)b.translations,
			(unsigned long long)b.insns,
			(unsigned long long)b.rewritten,
			(unsigned long long)b.chains,
			(unsigned long long)b.alias_maps,
			(unsigned long long)b.flushes);
	else if (vm->bt_off_why)
		fprintf(f, "trapeze: no translation cache: %s\n",
			vm->bt_off_why);
	if (b.bounces)
		fprintf(f, "trapeze: %llu instructions on device memory run "
			"natively on a copy of their operand\n",
			(unsigned long long)b.bounces);
	for (i = 1; i < X86_INS_ENDING; i++)
		if (vm->cpu.stats.by_insn[i])
			c[n++] = (struct insn_count){ vm->cpu.stats.by_insn[i], i };
	qsort(c, n, sizeof(c[0]), by_count_desc);
	for (i = 0; i < n && i < 12; i++)
		fprintf(f, "  %8llu  %s\n", (unsigned long long)c[i].n,
			cs_insn_name(h, c[i].id));
}

void vm_exit(struct vm *vm, int status)
{
	unsigned i;

	uart_flush(vm->pc.com1);
	fflush(stdout);
	if (vm->obs)
		vm->obs->finish(vm->obs_ctx);
	if (vm->opt.stats)
		print_stats(vm, stderr);
	for (i = 0; i < VM_DRIVES; i++)
		if (vm->opt.drive[i].disk)
			disk_close(vm->opt.drive[i].disk);
	exit(status);
}

void vm_crashv(struct vm *vm, const char *fmt, va_list ap)
{
	uart_flush(vm->pc.com1);
	report_crash(vm, stderr, fmt, ap);
	vm_exit(vm, EXIT_GUEST_CRASH);
}

void vm_crash(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vm_crashv(vm, fmt, ap);
}

/* A stop from outside: one line of where the guest was, and the status
 * a shell expects (124 for a timeout, as timeout(1) gives; 130 for an
 * interrupt). */
static void stop(struct vm *vm, unsigned why)
{
	const char *what = why & VM_STOP_TIMEOUT ? "timeout"
			   : why & VM_STOP_INTERRUPT ? "interrupted"
			   : why & VM_STOP_TERMINATE ? "terminated"
						     : "quit (Ctrl-A x)";

	uart_flush(vm->pc.com1);
	fprintf(stderr, "%strapeze: %s at ", why & VM_STOP_QUIT ? "\n" : "",
		what);
	report_where(vm, stderr);
	fprintf(stderr, " after %llu traps\n",
		(unsigned long long)vm->stats.traps);
	vm_exit(vm, why & VM_STOP_TIMEOUT ? EXIT_TIMEOUT : EXIT_INTERRUPTED);
}

void vm_take_requests(struct vm *vm)
{
	unsigned why = __atomic_exchange_n(&vm->requests, 0,
					   __ATOMIC_SEQ_CST);
	char drain[64];

	while (read(vm->wake_fd[0], drain, sizeof(drain)) > 0)
		;

	if (why)
		stop(vm, why);
}
