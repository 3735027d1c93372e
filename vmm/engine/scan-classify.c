/*
 * What the scanner patches, and why (docs/scanner.md has the table).
 *
 * x86 is not classically virtualizable: some instructions are sensitive
 * (they read or change state the monitor must control) yet do not fault
 * at CPL 3, where the guest runs.  Run natively they would give the guest
 * the host's answer, silently.  The walk (scan.c) asks this table about
 * every instruction it decodes: a sensitive one is patched into int3 so
 * that it traps and the monitor emulates it; an indirect transfer is
 * patched too, so that the monitor sees its target before it runs; a
 * direct one is followed; anything else runs natively.
 */
#include "cpu/emulate.h"
#include "engine/scan.h"
#include "engine/scan-internal.h"

static bool has_sreg_operand(const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);
	unsigned i;

	for (i = 0; i < d->op_count; i++)
		if (d->operands[i].type == X86_OP_REG &&
		    reg_sreg(d->operands[i].reg) >= 0)
			return true;
	return false;
}

static bool in_group(const cs_insn *insn, unsigned group)
{
	unsigned i;

	for (i = 0; i < insn->detail->groups_count; i++)
		if (insn->detail->groups[i] == group)
			return true;
	return false;
}

enum scan_class scan_classify(const cs_insn *insn)
{
	const cs_x86 *d = x86(insn);

	switch (insn->id) {
	case X86_INS_PUSHF: case X86_INS_PUSHFD: case X86_INS_PUSHFQ:
	case X86_INS_POPF: case X86_INS_POPFD: case X86_INS_POPFQ:
	case X86_INS_SGDT: case X86_INS_SIDT: case X86_INS_SLDT:
	case X86_INS_STR: case X86_INS_SMSW:
	case X86_INS_LAR: case X86_INS_LSL: case X86_INS_VERR:
	case X86_INS_VERW:
	case X86_INS_CPUID: case X86_INS_XGETBV: case X86_INS_RDTSCP:
	case X86_INS_RDFSBASE: case X86_INS_RDGSBASE:
	case X86_INS_WRFSBASE: case X86_INS_WRGSBASE:
	case X86_INS_LSS: case X86_INS_LFS: case X86_INS_LGS:
	case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
	/* Under a hypervisor (this host may be a VM) they reach it from
	 * CPL 3 instead of faulting: the guest's must come here. */
	case X86_INS_VMCALL: case X86_INS_VMMCALL:
	/* Some hosts (this one, a VM) report icebp's #DB at the icebp, as
	 * a fault: the guest would run it again and again. */
	case X86_INS_INT1:
		return SC_SENSITIVE;
	case X86_INS_RETF: case X86_INS_RETFQ:
	case X86_INS_LJMP: case X86_INS_LCALL:
		return SC_SENSITIVE;      /* and the block ends (below) */
	case X86_INS_MOV: case X86_INS_PUSH: case X86_INS_POP:
		return has_sreg_operand(insn) ? SC_SENSITIVE : SC_PLAIN;
	case X86_INS_RDSEED:
		return insn_is_rdpid(insn) ? SC_SENSITIVE : SC_PLAIN;
	case X86_INS_RET:
		return SC_INDIRECT;
	case X86_INS_JMP:
		return d->operands[0].type == X86_OP_IMM ? SC_JUMP
							 : SC_INDIRECT;
	case X86_INS_CALL:
		return d->operands[0].type == X86_OP_IMM ? SC_BRANCH
							 : SC_INDIRECT;
	case X86_INS_UD2: case X86_INS_UD0:
		return SC_END;
	case X86_INS_LOOP: case X86_INS_LOOPE: case X86_INS_LOOPNE:
	case X86_INS_JRCXZ: case X86_INS_JECXZ: case X86_INS_JCXZ:
		return SC_BRANCH;  /* Capstone 4 leaves them out of JUMP */
	default:
		return in_group(insn, X86_GRP_JUMP) && d->op_count &&
			       d->operands[0].type == X86_OP_IMM
		       ? SC_BRANCH
		       : SC_PLAIN;
	}
}

enum scan_class scan_class_in_mode(const cs_insn *insn, bool long64)
{
	/* A 32-bit syscall must never reach the host: its compat entry
	 * replaces the return address with the vDSO's landing pad, which
	 * Syscall User Dispatch lets through (and the guest's RIP is
	 * lost). */
	if (insn->id == X86_INS_SYSCALL && !long64)
		return SC_SENSITIVE;
	return scan_classify(insn);
}

bool scan_ends_block(const cs_insn *insn, enum scan_class c)
{
	switch (insn->id) {
	case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
	case X86_INS_RETF: case X86_INS_RETFQ: case X86_INS_LJMP:
		return true;
	default:
		return c == SC_JUMP || c == SC_END ||
		       (c == SC_INDIRECT && insn->id != X86_INS_CALL);
	}
}
