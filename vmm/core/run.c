/*
 * The virtual machine's trap path (vm-setup.c builds the machine).
 *
 * Every trap follows the same short road:
 *
 *   guest instruction --fault--> host kernel --signal--> backend fills the
 *   vCPU --> vm_trap: page fault? the shadow MMU; instruction? fetch the
 *   bytes at RIP through the guest's page tables, decode them (Capstone,
 *   cached by RIP), emulate by instruction id --> pending exception? deliver
 *   it through the guest IDT --> backend writes the vCPU back --> guest
 *   resumes.
 *
 * Nothing on this road allocates memory or takes a lock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trapeze/abi.h"

#include "engine/ahead.h"
#include "engine/bt.h"
#include "cpu/debugreg.h"
#include "cpu/decode.h"
#include "dev/uart.h"
#include "cpu/emulate.h"
#include "cpu/exception.h"
#include "cpu/gmem.h"
#include "core/report.h"
#include "engine/scan.h"
#include "trace/trace.h"
#include "core/vm.h"

struct vm *the_vm;

void vm_paging(const struct vm *vm, struct paging *pg)
{
	const struct vcpu *v = &vm->cpu;

	pg->cr0 = v->cr0;
	pg->cr3 = v->cr3;
	pg->cr4 = v->cr4;
	pg->efer = v->efer;
	pg->cpl = vcpu_cpl(v);
	pg->ac = (v->rflags & RFLAGS_AC) != 0;
}

void vm_cpl_changed(struct vm *vm)
{
	struct paging pg;

	vm_paging(vm, &pg);
	shadow_set_cpl(vm->mmu, &pg);
}

void vm_paging_changed(struct vm *vm, bool flush)
{
	struct paging pg;

	vm_paging(vm, &pg);
	if (flush)
		shadow_reset(vm->mmu, &pg);
	else
		shadow_set_cr3(vm->mmu, &pg);
}

struct insn_count {
	uint64_t n;
	unsigned id;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct insn_count *x = a, *y = b;

	return (x->n < y->n) - (x->n > y->n);
}

/* The --stats summary: what trapped, most frequent first. */
static void print_stats(struct vm *vm, FILE *f)
{
	static struct insn_count c[X86_INS_ENDING];
	csh h = decoder_handle(vm->dec, MODE_LONG64);
	struct shadow_stats sh;
	struct bt_stats b;
	unsigned i, n = 0;

	shadow_get_stats(vm->mmu, &sh);
	fprintf(f, "trapeze: %llu traps: %llu instructions emulated, %llu "
		"page faults (%llu mapped by the shadow MMU, %llu given to the "
		"guest), %llu page-table writes, %llu exceptions delivered\n",
		(unsigned long long)vm->stats.traps,
		(unsigned long long)vm->stats.emulated,
		(unsigned long long)vm->stats.page_faults,
		(unsigned long long)sh.faults_fixed,
		(unsigned long long)sh.faults_guest,
		(unsigned long long)sh.pt_writes,
		(unsigned long long)vm->stats.exceptions);
	fprintf(f, "trapeze: %llu timer expirations (%llu early wake-ups); "
		"off the guest's clock: %.3f s of the monitor's time, "
		"a round trip %.2f us (int3), %.2f us (#GP), %.2f us (#PF)\n",
		(unsigned long long)vm->timers.fired,
		(unsigned long long)vm->timers.early,
		vm->timers.monitor_ns / 1e9,
		vm->timers.trip[TRIP_BREAKPOINT].ns / 1e3,
		vm->timers.trip[TRIP_GP].ns / 1e3,
		vm->timers.trip[TRIP_PF].ns / 1e3);
	if (vm->stats.ahead)
		fprintf(f, "trapeze: running ahead, %llu more instructions "
			"emulated without a trap, %llu of which would have "
			"trapped\n", (unsigned long long)vm->stats.ahead,
			(unsigned long long)vm->stats.ahead_trappers);
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
		if (vm->stats.by_insn[i])
			c[n++] = (struct insn_count){ vm->stats.by_insn[i], i };
	qsort(c, n, sizeof(c[0]), by_count_desc);
	for (i = 0; i < n && i < 12; i++)
		fprintf(f, "  %8llu  %s\n", (unsigned long long)c[i].n,
			cs_insn_name(h, c[i].id));
}

void vm_exit(struct vm *vm, int status)
{
	uart_flush(vm->com1);
	fflush(stdout);
	trace_finish(vm);
	if (vm->opt.stats)
		print_stats(vm, stderr);
	exit(status);
}

void vm_crash(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	uart_flush(vm->com1);
	va_start(ap, fmt);
	report_crash(vm, stderr, fmt, ap);
	va_end(ap);
	exit(EXIT_GUEST_CRASH);
}

/* ---- the trap path --------------------------------------------------- */

/* A hardware exception the guest caused, delivered as its own. */
static void reflect(struct vm *vm, const struct host_trap *t)
{
	struct vcpu *v = &vm->cpu;

	switch (t->vector) {
	case X86_DB:
		if (t->single_step)
			debugreg_report(v, DR6_BS);
		if (t->breakpoint)
			debugreg_hit(vm, t->breakpoint - 1);
		vcpu_raise(v, X86_DB, false, 0);
		break;
	case X86_GP: case X86_SS:
		vcpu_raise(v, t->vector, true, 0);
		break;
	case X86_AC:
		vcpu_raise(v, X86_AC, true, 0);
		break;
	default:
		vcpu_raise(v, t->vector, false, 0);
	}
}

static enum emu_result emulate_insn(struct vm *vm, const cs_insn *insn)
{
	enum emu_result r;

	vm->stats.by_insn[insn->id]++;
	vm->last_insn = insn;
	r = emulate(vm, insn);
	if (r == EMU_HALT)
		vm->cpu.halted = true;
	if (r == EMU_NEXT || r == EMU_JUMP || r == EMU_HALT)
		vm->stats.emulated++;
	return r;
}

/* Fetch, decode and emulate the instruction at RIP.  Returns EMU_NONE
 * when no emulator took it (the caller decides what that means). */
enum emu_result vm_emulate_at_rip(struct vm *vm)
{
	struct vcpu *v = &vm->cpu;
	uint8_t bytes[INSN_MAX];
	uint32_t pf_err;
	size_t n = gmem_fetch(vm, v->rip, bytes, sizeof(bytes), &pf_err);
	const cs_insn *insn;

	if (n == 0) {
		vcpu_raise_pf(v, v->rip, pf_err);
		return EMU_FAULT;
	}
	insn = decode(vm->dec, vcpu_mode(v), v->rip, bytes, n);
	if (!insn)
		return EMU_NONE;
	return emulate_insn(vm, insn);
}

/* An int3 the scanner planted: emulate the instruction it replaced. */
static bool handle_patch(struct vm *vm)
{
	const cs_insn *insn;

	if (!vm->scan || !(insn = scan_patched_insn(vm, vm->cpu.rip)))
		return false;
	vm->stats.patched++;
	if (emulate_insn(vm, insn) == EMU_NONE)
		vm_crash(vm, "internal: no emulator for the patched %s",
			 insn->mnemonic);
	if (vm->trace)
		trace_insn(vm, insn, true);
	return true;
}

/* An instruction the host refused: emulate it, or give the guest the
 * exception its own hardware would have raised. */
static void handle_insn(struct vm *vm, const struct host_trap *t)
{
	enum emu_result r;

	r = vm_emulate_at_rip(vm);
	if (r == EMU_NONE)
		reflect(vm, t);
	else if (vm->trace && vm->last_insn)
		trace_insn(vm, vm->last_insn, false);
}

static unsigned fault_access(uint32_t err)
{
	if (err & PFERR_W)
		return ACC_WRITE;
	if (err & PFERR_I)
		return ACC_EXEC;
	return ACC_READ;
}

/*
 * A guest access to device memory: the shadow never maps it, so every
 * access faults here.  The instruction is decoded (cached by RIP) and
 * emulated; its memory operand reaches the device through gmem.c.
 */
static void handle_mmio(struct vm *vm, uint64_t gva, uint64_t gpa)
{
	const struct mmio_region *r = mmio_find(&vm->mmio, gpa);

	if (vm_emulate_at_rip(vm) != EMU_NONE)
		return;
	if (vm->last_insn && bt_bounce(vm, vm->last_insn))
		return;
	vm_crash(vm, "cannot emulate %s%s%s on device memory at %#llx "
		 "(%s+%#llx)", vm->last_insn ? vm->last_insn->mnemonic
					      : "the instruction",
		 vm->last_insn ? " " : "",
		 vm->last_insn ? vm->last_insn->op_str : "",
		 (unsigned long long)gva, r->name,
		 (unsigned long long)(gpa - r->base));
}

/* Does the instruction at RIP come from the page that holds gpa? */
static bool rip_on_frame(struct vm *vm, const struct paging *pg, uint64_t gpa)
{
	struct walk w;

	return shadow_walk(vm->mmu, pg, vm->cpu.rip, ACC_EXEC | ACC_PEEK,
			   &w) == WALK_OK &&
	       (w.gpa >> 12) == (gpa >> 12);
}

/*
 * A fault outside the window, where nothing can be mapped for the guest:
 * page 0 (which a process without CAP_SYS_RAWIO cannot map, and
 * kvm-unit-tests writes its AP trampoline there) and the upper canonical
 * half (kvm-unit-tests' vmalloc area grows down from 2^64 - 4 KiB: its
 * malloc, and the interrupt thunks handle_irq writes and runs there).
 * What the guest's own tables refuse is its #PF.  What they send to RAM
 * is emulated, one instruction per trap: a data access, or, when RIP
 * itself is outside (so the fault was the fetch), the instruction there.
 * Correct but slow, and limited to the instructions the emulator knows;
 * any other gets a #PF with RSVD set.
 */
static void handle_outside(struct vm *vm, const struct paging *pg,
			   uint64_t addr, unsigned access)
{
	struct vcpu *v = &vm->cpu;
	struct walk w;

	if (v->rip < vm->window_lo || v->rip >= vm->window_hi)
		addr = v->rip, access = ACC_EXEC;
	if (shadow_walk(vm->mmu, pg, addr, access, &w) == WALK_FAULT) {
		vcpu_raise_pf(v, addr, w.pf_err);
		return;
	}
	/* Hot code here runs from the translation cache instead, and so
	 * does an instruction the emulator does not know. */
	if (w.gpa < vm->ram_size && access != ACC_EXEC &&
	    bt_upper_access(vm, addr, false))
		return;
	if (w.gpa < vm->ram_size && vm_emulate_at_rip(vm) != EMU_NONE) {
		if (vm->trace && vm->last_insn)
			trace_insn(vm, vm->last_insn, false);
		return;
	}
	if (w.gpa < vm->ram_size && access != ACC_EXEC && !v->exc.pending &&
	    bt_upper_access(vm, addr, true))
		return;
	/* Device memory mapped up there (kvm-unit-tests maps pc-testdev's
	 * scratch MMIO at its vmalloc addresses). */
	if (access != ACC_EXEC && mmio_find(&vm->mmio, w.gpa)) {
		handle_mmio(vm, addr, w.gpa);
		return;
	}
	vcpu_raise_pf(v, addr, PFERR_P | PFERR_RSVD |
			       (access == ACC_WRITE ? PFERR_W : 0) |
			       (access == ACC_EXEC &&
				((pg->efer & EFER_NXE) || (pg->cr4 & CR4_SMEP))
					? PFERR_I : 0) |
			       (pg->cpl == 3 ? PFERR_U : 0));
}

/* A fetch from a page the guest may run but not read (a user page
 * under SMAP at CPL 0), which the host cannot map execute-only: the
 * instruction at RIP (the original, where the scanner patched it) is
 * emulated, one per trap. */
static void handle_fetch_only(struct vm *vm, uint64_t addr)
{
	const cs_insn *insn = vm->scan ? scan_patched_insn(vm, vm->cpu.rip)
				       : NULL;

	if (insn ? emulate_insn(vm, insn) != EMU_NONE
		 : vm_emulate_at_rip(vm) != EMU_NONE) {
		if (vm->trace && vm->last_insn)
			trace_insn(vm, vm->last_insn, insn != NULL);
		return;
	}
	vm_crash(vm, "cannot emulate %s%s%s, fetched at %#llx from a user "
		 "page that SMAP hides from CPL 0 (docs/limits.md)",
		 vm->last_insn ? vm->last_insn->mnemonic : "the instruction",
		 vm->last_insn ? " " : "",
		 vm->last_insn ? vm->last_insn->op_str : "",
		 (unsigned long long)addr);
}

static void handle_page_fault(struct vm *vm, const struct host_trap *t)
{
	struct vcpu *v = &vm->cpu;
	unsigned access = fault_access(t->err);
	uint64_t old = 0;
	struct fault_info fi;
	struct paging pg;

	vm->stats.page_faults++;
	vm_paging(vm, &pg);
	if (bt_alias_fault_at(vm->bt, t->addr)) {
		uint64_t gva;

		if (!bt_alias_fault(vm, t->addr, access, &gva))
			handle_outside(vm, &pg, gva, access);
		return;
	}
	switch (shadow_fault(vm->mmu, &pg, t->addr, access, &fi)) {
	case FAULT_FIXED:
		if (vm->trace)
			trace_shadow(vm, t->addr, fi.gpa, access, 0, false);
		break;
	case FAULT_GUEST_PF:
		vcpu_raise_pf(v, t->addr, fi.pf_err);
		break;
	case FAULT_PT_WRITE:
		/* A store to a guest page table: performed here, where the
		 * shadow sees exactly which entry changed. */
		memcpy(&old, vm->ram + (fi.gpa & ~7ull), 8);
		if (vm_emulate_at_rip(vm) == EMU_NONE)
			vm_crash(vm, "cannot emulate the instruction that "
				 "writes page table at %#llx",
				 (unsigned long long)t->addr);
		if (vm->trace)
			trace_ptwrite(vm, t->addr, fi.gpa, old,
				      shadow_last_dropped(vm->mmu));
		break;
	case FAULT_EXEC_SCAN:
		scan_fetch_fault(vm, t->addr);
		break;
	case FAULT_CODE_WRITE:
		/* A store to a scanned page.  When the storing instruction
		 * runs from that same page, it is emulated: it reaches RAM
		 * through gpa_will_write, which forgets the scan only if it
		 * hits vetted instructions, so data that shares a page with
		 * the code running on it (xv6's first process has its stack
		 * on its code page) keeps the page scanned; unscanning it
		 * would make the next fetch fault and rescan, and the store
		 * fault again, for ever.  Otherwise (and for an instruction
		 * the emulator does not know) the originals go back, the
		 * store runs natively, and the new code is scanned before it
		 * runs. */
		if (!rip_on_frame(vm, &pg, fi.gpa) ||
		    vm_emulate_at_rip(vm) == EMU_NONE)
			scan_code_written(vm, fi.gpa);
		break;
	case FAULT_BAD_GPA:
		if (mmio_find(&vm->mmio, fi.gpa)) {
			handle_mmio(vm, t->addr, fi.gpa);
			break;
		}
		if (vm->trace)
			trace_mmio(vm, fi.gpa, NULL, 0, access == ACC_WRITE, 0);
		vcpu_raise_pf(v, t->addr, PFERR_P | PFERR_RSVD |
					  (access == ACC_WRITE ? PFERR_W : 0) |
					  (pg.cpl == 3 ? PFERR_U : 0));
		break;
	case FAULT_OUTSIDE:
		handle_outside(vm, &pg, t->addr, access);
		break;
	case FAULT_EMULATE:
		handle_fetch_only(vm, t->addr);
		break;
	case FAULT_HOST_ERROR:
		vm_crash(vm, "the host refused a shadow mapping at %#llx "
			 "(too many mappings?)", (unsigned long long)t->addr);
	}
}

void vm_halt_forever(struct vm *vm)
{
	uart_flush(vm->com1);
	if (!vm->opt.quiet)
		fprintf(stderr, "trapeze: guest halted at rip %#llx with "
			"interrupts %s; nothing can wake it\n",
			(unsigned long long)vm->cpu.rip,
			(vm->cpu.rflags & RFLAGS_IF) ? "enabled" : "disabled");
	vm_exit(vm, EXIT_HALTED);
}

void vm_trap(struct vm *vm, const struct host_trap *t)
{
	struct vcpu *v = &vm->cpu;
	bool tf_before;

	vm->stats.traps++;
	tf_before = (v->rflags & RFLAGS_TF) != 0;
	/* Whatever trapped, the instruction after an sti has run (or is
	 * being emulated now): its interrupt shadow is over. */
	v->irq_shadow = false;
	/* The host reports RIP after an int3 and after a syscall (0f 05). */
	if (t->kind == HT_BREAKPOINT)
		v->rip -= 1;
	else if (t->kind == HT_SYSCALL)
		v->rip -= 2;
	if (vm->trace)
		trace_begin(vm);
	vm->last_insn = NULL;     /* set by whatever emulates below */
	switch (t->kind) {
	case HT_START:
		break;
	case HT_PAGE_FAULT:
		handle_page_fault(vm, t);
		break;
	case HT_BREAKPOINT:
		if (!handle_patch(vm))
			handle_insn(vm, t);
		break;
	case HT_SYSCALL:
		handle_insn(vm, t);
		break;
	case HT_INSN:
		handle_insn(vm, t);
		break;
	case HT_EXCEPTION:
		/* A single step the monitor asked for (to close an sti
		 * shadow) is not the guest's #DB unless it set TF too. */
		if (t->vector == X86_DB && vm->irq.step &&
		    !t->breakpoint && !(v->rflags & RFLAGS_TF))
			break;
		reflect(vm, t);
		break;
	case HT_TIMER:
		timers_run(&vm->timers);
		uart_poll_input(vm->com1);
		/* Output without a newline (a shell's prompt) reaches the
		 * terminal or the pipe at the next tick at the latest, even
		 * from a guest that never halts. */
		uart_flush(vm->com1);
		break;
	}
	/* RF, the trap flag's trap and data breakpoints, as the hardware
	 * would leave them after that instruction (debugreg.c). */
	debugreg_after_trap(vm, tf_before);
	/* A trace that shows every trap the guest makes runs nothing ahead
	 * (its -c summary counts what is run ahead as the trace would). */
	if (vm->last_insn && vm->opt.run_ahead && vm->scan &&
	    trace_allows_ahead(vm))
		ahead_run(vm);
	/* Execution that reached a non-canonical RIP (the instruction at
	 * the top of the lower half, say) faults fetching there: the host
	 * could not even be told to resume at it. */
	if (!v->exc.pending && vcpu_mode(v) == MODE_LONG64 &&
	    !gva_canonical(vm, v->rip))
		vcpu_raise_gp(v, 0);
	if (v->exc.pending)
		exception_deliver_pending(vm);
	if (v->halted)
		irq_halt_wait(vm);
	else
		irq_deliver(vm);
	if (vm->scan)
		scan_check_rip(vm);
	if (vm->trace)
		trace_end(vm);
}
