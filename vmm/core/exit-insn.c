/*
 * The guest stopped on an instruction (see exit.h).
 *
 * At host CPL 3 every privileged instruction faults: #GP for cli, out,
 * mov to cr3, lgdt..., #UD for a few, SIGSYS for a syscall that Syscall
 * User Dispatch stopped, and int3 for an instruction the scanner patched.
 * Here the instruction at RIP is decoded and emulated (cpu/emulate.c
 * finds its family by Capstone id); an instruction no family takes gets
 * the exception the guest's own hardware would have raised.
 */
#include "core/exit.h"
#include "cpu/debugreg.h"
#include "engine/scan.h"
#include "engine/translate.h"

enum emu_result exit_emulate(struct vm *vm, const cs_insn *patched)
{
	enum emu_result r = patched ? emulate_insn(&vm->cpu, patched)
				    : emulate_at_rip(&vm->cpu);

	if (r != EMU_NONE && vm->obs && vm->cpu.insn)
		vm->obs->insn(vm->obs_ctx, vm->cpu.insn, patched != NULL);
	return r;
}

/* A hardware exception the guest caused, delivered as its own. */
static void reflect(struct vm *vm, const struct host_trap *t)
{
	struct vcpu *v = &vm->cpu;

	switch (t->vector) {
	case X86_DB:
		if (t->single_step)
			debugreg_report(v, DR6_BS);
		if (t->breakpoint)
			debugreg_hit(v, t->breakpoint - 1);
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

/* An instruction the host refused: emulate it, or give the guest the
 * exception its own hardware would have raised. */
void exit_insn(struct vm *vm, const struct host_trap *t)
{
	if (exit_emulate(vm, NULL) != EMU_NONE)
		return;
	/* A callout the emulator cannot do after all: the host runs the
	 * instruction natively, and raises what it raises. */
	if (t->kind == HT_CALLOUT)
		tc_step_natively(vm->tr);
	else
		reflect(vm, t);
}

/* An int3 the scanner planted stands for the instruction it replaced:
 * that one is emulated.  Any other int3 is the guest's. */
void exit_breakpoint(struct vm *vm, const struct host_trap *t)
{
	const cs_insn *insn;

	if (!vm->scan || !(insn = scan_patched_insn(vm->scan, vm->cpu.rip))) {
		exit_insn(vm, t);
		return;
	}
	vm->stats.patched++;
	if (exit_emulate(vm, insn) == EMU_NONE)
		vm_crash(vm, "internal: no emulator for the patched %s",
			 insn->mnemonic);
}

void exit_exception(struct vm *vm, const struct host_trap *t)
{
	/* A single step the monitor asked for (to close an sti shadow, or
	 * to run one instruction natively) is not the guest's #DB unless it
	 * set TF too. */
	if (t->vector == X86_DB && vm->cpu.irq.stepped && !t->breakpoint &&
	    !(vm->cpu.rflags & RFLAGS_TF))
		return;
	reflect(vm, t);
}
