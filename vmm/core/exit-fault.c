/*
 * The guest stopped on a page fault (see exit.h).
 *
 * The host's page tables for the guest's window are the shadow MMU's
 * (shadow/): a host fault there is first its business.  It maps what the
 * guest's own tables allow and says what else the fault was: the guest's
 * own #PF, a store to a guest page table (emulated here so the shadow
 * sees the new entry), code not yet scanned or scanned code being
 * written, an access to device memory (emulated, the device answering
 * through the MMIO bus), or an address no host process can map (the
 * upper half, page 0), emulated one instruction at a time.
 */
#include <string.h>

#include "core/exit.h"
#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "cpu/gmem.h"
#include "engine/bt.h"
#include "engine/scan.h"
#include "engine/translate.h"
#include "engine/upper.h"

static unsigned fault_access(uint32_t err)
{
	if (err & PFERR_W)
		return ACC_WRITE;
	if (err & PFERR_I)
		return ACC_EXEC;
	return ACC_READ;
}

/* The instruction at RIP, for a message: "mov eax, dword ptr [rbx]". */
#define INSN_TEXT(v) (v)->insn ? (v)->insn->mnemonic : "the instruction", \
		     (v)->insn ? " " : "", (v)->insn ? (v)->insn->op_str : ""

/*
 * A guest access to device memory: the shadow never maps it, so every
 * access faults here.  The instruction is decoded (cached by RIP) and
 * emulated; its memory operand reaches the device through gmem.c.  One
 * the emulator does not know runs natively on a copy of the operand.
 */
static void device_access(struct vm *vm, uint64_t gva, uint64_t gpa)
{
	const struct mmio_region *r = mmio_find(&vm->pc.mmio, gpa);

	if (emulate_at_rip(&vm->cpu) != EMU_NONE)
		return;
	if (vm->cpu.insn && vm->bt && bt_bounce(vm->bt, vm->cpu.insn))
		return;
	vm_crash(vm, "cannot emulate %s%s%s on device memory at %#llx "
		 "(%s+%#llx)", INSN_TEXT(&vm->cpu), (unsigned long long)gva,
		 r->name, (unsigned long long)(gpa - r->base));
}

/* The #PF of an address past RAM where no device is: RSVD set, as for
 * an entry with reserved address bits. */
static uint32_t no_ram_err(const struct paging *pg, unsigned access)
{
	return PFERR_P | PFERR_RSVD | (access == ACC_WRITE ? PFERR_W : 0) |
	       (access == ACC_EXEC &&
			((pg->efer & EFER_NXE) || (pg->cr4 & CR4_SMEP))
		? PFERR_I : 0) |
	       (pg->cpl == 3 ? PFERR_U : 0);
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
static void outside(struct vm *vm, const struct paging *pg, uint64_t addr,
		    unsigned access)
{
	struct vcpu *v = &vm->cpu;
	bool data;
	struct walk w;

	if (v->rip < vm->window_lo || v->rip >= vm->window_hi)
		addr = v->rip, access = ACC_EXEC;
	data = access != ACC_EXEC;
	if (shadow_walk(vm->mmu, pg, addr, access, &w) == WALK_FAULT) {
		vcpu_raise_pf(v, addr, w.pf_err);
		return;
	}
	/* Hot code here runs from the translation cache instead, and so
	 * does an instruction the emulator does not know. */
	if (w.gpa < vm->ram_size && data && vm->bt &&
	    bt_upper_access(vm->bt, addr, false))
		return;
	if (w.gpa < vm->ram_size && exit_emulate(vm, NULL) != EMU_NONE)
		return;
	if (w.gpa < vm->ram_size && data && !v->exc.pending && vm->bt &&
	    bt_upper_access(vm->bt, addr, true))
		return;
	/* Device memory mapped up there (kvm-unit-tests maps pc-testdev's
	 * scratch MMIO at its vmalloc addresses). */
	if (data && mmio_find(&vm->pc.mmio, w.gpa)) {
		device_access(vm, addr, w.gpa);
		return;
	}
	vcpu_raise_pf(v, addr, no_ram_err(pg, access));
}

/* A fetch from a page the guest may run but not read (a user page
 * under SMAP at CPL 0), which the host cannot map execute-only: the
 * instruction at RIP (the original, where the scanner patched it) is
 * emulated, one per trap. */
static void fetch_only(struct vm *vm, uint64_t addr)
{
	const cs_insn *insn = vm->scan ? scan_patched_insn(vm->scan,
							   vm->cpu.rip)
				       : NULL;

	if (exit_emulate(vm, insn) != EMU_NONE)
		return;
	vm_crash(vm, "cannot emulate %s%s%s, fetched at %#llx from a user "
		 "page that SMAP hides from CPL 0 (docs/limits.md)",
		 INSN_TEXT(&vm->cpu), (unsigned long long)addr);
}

/* A store to a guest page table: performed here, where the shadow sees
 * exactly which entry changed. */
static void page_table_write(struct vm *vm, uint64_t gva, uint64_t gpa)
{
	uint64_t old = 0;

	memcpy(&old, vm->ram + (gpa & ~7ull), 8);
	if (emulate_at_rip(&vm->cpu) == EMU_NONE)
		vm_crash(vm, "cannot emulate the instruction that writes page "
			 "table at %#llx", (unsigned long long)gva);
	if (vm->obs)
		vm->obs->ptwrite(vm->obs_ctx, gva, gpa, old,
				 shadow_last_dropped(vm->mmu));
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
 * A store to a scanned page.  When the storing instruction runs from that
 * same page, it is emulated: it reaches RAM through gpa_will_write, which
 * forgets the scan only if it hits vetted instructions, so data that
 * shares a page with the code running on it (xv6's first process has its
 * stack on its code page) keeps the page scanned; unscanning it would
 * make the next fetch fault and rescan, and the store fault again, for
 * ever.  Otherwise (and for an instruction the emulator does not know)
 * the originals go back, the store runs natively, and the new code is
 * scanned before it runs.
 */
static void code_write(struct vm *vm, const struct paging *pg, uint64_t gpa)
{
	if (vm->tr) {
		/* The translator's: emulated, the store drops translations
		 * only where it hits their code (gpa_will_write); one the
		 * emulator does not know drops the frame's, and runs. */
		if (emulate_at_rip(&vm->cpu) == EMU_NONE)
			tc_code_written(vm->tr, gpa & ~4095ull, 4096);
		return;
	}
	if (!rip_on_frame(vm, pg, gpa) || emulate_at_rip(&vm->cpu) == EMU_NONE)
		scan_code_written(vm->scan, gpa);
}

/* Guest-physical memory with neither RAM nor a device behind it. */
static void no_ram(struct vm *vm, const struct paging *pg, uint64_t gva,
		   uint64_t gpa, unsigned access)
{
	if (mmio_find(&vm->pc.mmio, gpa)) {
		device_access(vm, gva, gpa);
		return;
	}
	if (vm->obs)
		vm->obs->mmio(vm->obs_ctx, gpa, NULL, 0, access == ACC_WRITE, 0);
	vcpu_raise_pf(&vm->cpu, gva, PFERR_P | PFERR_RSVD |
				     (access == ACC_WRITE ? PFERR_W : 0) |
				     (pg->cpl == 3 ? PFERR_U : 0));
}

/* Give the chunk of the upper-half address gva an alias slot, dropping
 * every mapping when none is left. */
static void assign_upper(struct vm *vm, uint64_t gva)
{
	if (upper_assign(vm->upper, gva))
		return;
	shadow_flush(vm->mmu);
	upper_reset(vm->upper);
	upper_assign(vm->upper, gva);
}

/*
 * A rewritten access of the translator's cache reached the upper half's
 * unassigned range: its chunk has no alias slot yet.  The instruction's
 * operands say which (the guest's state is before it); each of theirs in
 * the upper half gets one, and the instruction runs again.  One whose
 * addresses cannot be told is emulated.
 */
static void unassigned(struct vm *vm, const struct paging *pg,
		       unsigned access)
{
	struct vcpu *v = &vm->cpu;
	uint8_t bytes[INSN_MAX];
	uint32_t err;
	size_t n = gmem_fetch(v, v->rip, bytes, sizeof(bytes), &err);
	const cs_insn *insn = n ? decode(v->dec, vcpu_mode(v), v->rip, bytes,
					 n) : NULL;
	bool any = false;
	unsigned i;

	for (i = 0; insn && i < insn->detail->x86.op_count; i++) {
		const cs_x86_op *op = &insn->detail->x86.operands[i];
		uint64_t a;

		if (op->type != X86_OP_MEM)
			continue;
		a = op_addr(v, insn, op);
		if (upper_half(a)) {
			assign_upper(vm, a);
			any = true;
		}
	}
	if (upper_half(v->gpr[RSP])) {
		assign_upper(vm, v->gpr[RSP] - 8);
		assign_upper(vm, v->gpr[RSP]);
		any = true;
	}
	if (!any)
		outside(vm, pg, v->rip, access);
}

/*
 * A fault of the monitor's own rewritten accesses, which reach guest
 * memory through host aliases: the scan mode's translation cache (top
 * 4 GiB), or the translator's upper half (an alias, or asking for one).
 * Done (true), or the guest address to ask the shadow MMU about in *gva.
 * A native access to the upper half from the cache is rewritten and run
 * again (the emulator does not know every instruction); once rewritten,
 * or from outside the cache, it is emulated.
 */
static bool alias_fault(struct vm *vm, const struct host_trap *t,
			const struct paging *pg, unsigned access,
			uint64_t *gva)
{
	if (bt_alias_fault_at(vm->bt, t->addr)) {
		if (!bt_alias_fault(vm->bt, t->addr, access, gva))
			outside(vm, pg, *gva, access);
		return true;
	}
	if (!vm->upper)
		return false;
	switch (upper_place(vm->upper, t->addr, gva)) {
	case UPPER_UNASSIGNED:
		unassigned(vm, pg, access);
		return true;
	case UPPER_SLOT:
		return false;
	case UPPER_ELSEWHERE:
		if (!upper_half(t->addr))
			return false;
		if (!vm->tr || !tc_native_upper(vm->tr))
			outside(vm, pg, t->addr, access);
		return true;
	}
	return false;
}

void exit_page_fault(struct vm *vm, const struct host_trap *t)
{
	unsigned access = fault_access(t->err);
	struct fault_info fi;
	struct paging pg;
	uint64_t gva = t->addr;

	vm->stats.page_faults++;
	vcpu_paging(&vm->cpu, &pg);
	if (alias_fault(vm, t, &pg, access, &gva))
		return;
	/* We ask the shadow MMU what the fault means. */
	switch (shadow_fault(vm->mmu, &pg, gva, access, &fi)) {
	case FAULT_FIXED:
		if (vm->obs)
			vm->obs->shadow(vm->obs_ctx, gva, fi.gpa, access);
		break;
	case FAULT_GUEST_PF:
		vcpu_raise_pf(&vm->cpu, gva, fi.pf_err);
		break;
	case FAULT_PT_WRITE:
		page_table_write(vm, gva, fi.gpa);
		break;
	case FAULT_EXEC_SCAN:
		scan_fetch_fault(vm->scan, gva);
		break;
	case FAULT_CODE_WRITE:
		code_write(vm, &pg, fi.gpa);
		break;
	case FAULT_BAD_GPA:
		no_ram(vm, &pg, gva, fi.gpa, access);
		break;
	case FAULT_OUTSIDE:
		outside(vm, &pg, gva, access);
		break;
	case FAULT_EMULATE:
		fetch_only(vm, gva);
		break;
	case FAULT_HOST_ERROR:
		vm_crash(vm, "the host refused a shadow mapping at %#llx "
			 "(too many mappings?)", (unsigned long long)gva);
	}
}
