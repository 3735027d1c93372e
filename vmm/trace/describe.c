/*
 * Words for what a trapped instruction did, for `trapeze trace`: read
 * from the vCPU before and after the trap, so the emulators themselves
 * never know they are traced.  The aim is a line that teaches:
 *   out dx, al   port=0x3f8 (COM1 THR) value=0x48 'H'
 *   mov cr3, rax 0x8000 -> 0x105000 (shadow: 12 pages dropped)
 *   popf         vIF 0 -> 1
 */
#include <stdio.h>
#include <string.h>

#include "trapeze/abi.h"

#include "dev/lapic.h"
#include "cpu/emulate.h"
#include "cpu/gmem.h"
#include "core/hypercall.h"
#include "dev/io.h"
#include "trace/symbols.h"
#include "trace/trace-internal.h"
#include "core/vm.h"

#define OUT(e, ...) snprintf((e)->effect, sizeof((e)->effect), __VA_ARGS__)

/* ---- devices and registers by name ---------------------------------- */

/* "COM1 THR", "PIT counter 0": the device on the bus, and its register
 * where the device names them (dev/io.h). */
static void port_name(struct vm *vm, uint16_t port, bool out, char *buf,
		      size_t len)
{
	const char *dev = io_port_name(&vm->pc.io, port);
	const char *reg = io_port_reg(&vm->pc.io, port, out);

	if (dev && reg)
		snprintf(buf, len, "%s %s", dev, reg);
	else
		snprintf(buf, len, "%s", dev ? dev : "no device");
}

static const char *msr_name(uint32_t msr)
{
	switch (msr) {
	case MSR_EFER: return "EFER";
	case MSR_STAR: return "STAR";
	case MSR_LSTAR: return "LSTAR";
	case MSR_CSTAR: return "CSTAR";
	case MSR_SFMASK: return "SFMASK";
	case MSR_FS_BASE: return "FS_BASE";
	case MSR_GS_BASE: return "GS_BASE";
	case MSR_KERNEL_GS_BASE: return "KERNEL_GS_BASE";
	case MSR_TSC_AUX: return "TSC_AUX";
	case MSR_IA32_TSC: return "TSC";
	case MSR_IA32_APIC_BASE: return "APIC_BASE";
	case MSR_IA32_PAT: return "PAT";
	case MSR_IA32_MISC_ENABLE: return "MISC_ENABLE";
	case MSR_IA32_SYSENTER_CS: return "SYSENTER_CS";
	case MSR_IA32_SYSENTER_ESP: return "SYSENTER_ESP";
	case MSR_IA32_SYSENTER_EIP: return "SYSENTER_EIP";
	default: return NULL;
	}
}

/* A byte as a C character literal, for console output. */
static const char *char_of(uint8_t c, char *buf)
{
	if (c == '\n')
		return "'\\n'";
	if (c == '\r')
		return "'\\r'";
	if (c >= 0x20 && c < 0x7f) {
		snprintf(buf, 4, "'%c'", c);
		return buf;
	}
	return "";
}

/* ---- families -------------------------------------------------------- */

static void describe_out(struct vm *vm, const struct vcpu *b,
			 const cs_insn *insn, struct trace_event *e)
{
	const cs_x86_op *src = &x86(insn)->operands[1];
	const cs_x86_op *p = &x86(insn)->operands[0];
	uint16_t port = p->type == X86_OP_IMM ? (uint16_t)p->imm
					      : (uint16_t)b->gpr[RDX];
	uint64_t val = reg_read(b, src->reg);
	char name[40], c[4];

	port_name(vm, port, true, name, sizeof(name));
	e->port = port;
	e->has_port = true;
	OUT(e, "port=0x%x (%s) value=0x%llx %s", port, name,
	    (unsigned long long)val, src->size == 1 ? char_of((uint8_t)val, c)
						    : "");
}

static void describe_in(struct vm *vm, const struct vcpu *b,
			const cs_insn *insn, struct trace_event *e)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *p = &x86(insn)->operands[1];
	uint16_t port = p->type == X86_OP_IMM ? (uint16_t)p->imm
					      : (uint16_t)b->gpr[RDX];
	char name[40];

	port_name(vm, port, false, name, sizeof(name));
	e->port = port;
	e->has_port = true;
	OUT(e, "port=0x%x (%s) -> 0x%llx", port, name,
	    (unsigned long long)reg_read(&vm->cpu, dst->reg));
}

static void describe_string_io(struct vm *vm, const struct vcpu *b,
			       const cs_insn *insn, struct trace_event *e)
{
	bool out = insn->id == X86_INS_OUTSB || insn->id == X86_INS_OUTSW ||
		   insn->id == X86_INS_OUTSD;
	uint64_t moved = out ? vm->cpu.gpr[RSI] - b->gpr[RSI]
			     : vm->cpu.gpr[RDI] - b->gpr[RDI];
	uint16_t port = (uint16_t)b->gpr[RDX];
	char name[40], text[48] = "";

	if ((int64_t)moved < 0)
		moved = -moved;
	port_name(vm, port, out, name, sizeof(name));
	e->port = port;
	e->has_port = true;
	if (out && insn_string_size(insn) == 1) {
		size_t n = moved < 40 ? moved : 40, i;

		n = gmem_peek(&vm->cpu, b->gpr[RSI], text + 1, n);
		for (i = 1; i <= n; i++)
			if (text[i] < 0x20 || text[i] >= 0x7f)
				text[i] = '.';
		text[0] = text[n + 1] = '"';
		text[n + 2] = 0;
	}
	OUT(e, "port=0x%x (%s) %llu bytes %s%s", port, name,
	    (unsigned long long)moved, text, moved > 40 ? "..." : "");
}

static void describe_mov(struct vm *vm, const struct vcpu *b,
			 const cs_insn *insn, struct trace_event *e)
{
	const cs_x86_op *dst = &x86(insn)->operands[0];
	const cs_x86_op *src = &x86(insn)->operands[1];
	const struct vcpu *a = &vm->cpu;
	int cr = dst->type == X86_OP_REG ? reg_cr(dst->reg) : -1;
	int sr = dst->type == X86_OP_REG ? reg_sreg(dst->reg) : -1;
	uint64_t dropped = shadow_last_dropped(vm->mmu);

	if (cr >= 0) {
		const uint64_t *before[] = { &b->cr0, NULL, &b->cr2, &b->cr3,
					     &b->cr4 };
		const uint64_t *after[] = { &a->cr0, NULL, &a->cr2, &a->cr3,
					    &a->cr4 };

		if (cr == 8) {           /* the local APIC holds it */
			OUT(e, "TPR -> 0x%llx",
			    (unsigned long long)lapic_cr8(vm->pc.lapic) << 4);
			return;
		}
		if (cr > 4 || !before[cr])
			return;
		OUT(e, "0x%llx -> 0x%llx", (unsigned long long)*before[cr],
		    (unsigned long long)*after[cr]);
		if (cr == 3 || cr == 0 || cr == 4)
			snprintf(e->effect + strlen(e->effect),
				 sizeof(e->effect) - strlen(e->effect),
				 " (shadow: %llu page%s dropped)",
				 (unsigned long long)dropped,
				 dropped == 1 ? "" : "s");
	} else if (sr >= 0) {
		OUT(e, "%s 0x%x -> 0x%x", sreg_name(sr), b->seg[sr].sel,
		    a->seg[sr].sel);
	} else if (src->type == X86_OP_REG && reg_cr(src->reg) >= 0) {
		OUT(e, "-> 0x%llx", (unsigned long long)reg_read(a, dst->reg));
	} else if (src->type == X86_OP_REG && reg_sreg(src->reg) >= 0) {
		OUT(e, "%s -> 0x%x", sreg_name(reg_sreg(src->reg)),
		    b->seg[reg_sreg(src->reg)].sel);
	}
}

static void describe_flags(const struct vcpu *b, const struct vcpu *a,
			   struct trace_event *e)
{
	unsigned before = !!(b->rflags & RFLAGS_IF), after =
		!!(a->rflags & RFLAGS_IF);

	if (vcpu_iopl(b) != vcpu_iopl(a))
		OUT(e, "vIF %u -> %u, IOPL %u -> %u", before, after,
		    vcpu_iopl(b), vcpu_iopl(a));
	else
		OUT(e, "vIF %u -> %u", before, after);
}

static void describe_msr(const struct vcpu *b, const struct vcpu *a,
			 bool write, struct trace_event *e)
{
	uint32_t msr = (uint32_t)b->gpr[RCX];
	const char *name = msr_name(msr);
	char num[16];
	uint64_t v = write ? (b->gpr[RDX] << 32 | (uint32_t)b->gpr[RAX])
			   : (a->gpr[RDX] << 32 | (uint32_t)a->gpr[RAX]);

	if (!name) {
		snprintf(num, sizeof(num), "0x%x", msr);
		name = num;
	}
	OUT(e, "%s %s 0x%llx", name, write ? "<-" : "->",
	    (unsigned long long)v);
}

static void describe_transfer(struct trace *t, const struct vcpu *b,
			      struct trace_event *e)
{
	const struct vcpu *a = &t->vm->cpu;
	char sym[96];

	symbols_name(t->syms, a->rip, sym, sizeof(sym));
	if (b->seg[SR_CS].sel == a->seg[SR_CS].sel)
		OUT(e, "-> 0x%llx (%s)", (unsigned long long)a->rip, sym);
	else
		OUT(e, "0x%x:0x%llx -> 0x%x:0x%llx (%s), cpl %u -> %u",
		    b->seg[SR_CS].sel, (unsigned long long)b->rip,
		    a->seg[SR_CS].sel, (unsigned long long)a->rip, sym,
		    vcpu_cpl(b), vcpu_cpl(a));
}

static void describe_hypercall(const struct vcpu *b, const struct vcpu *a,
			       struct trace_event *e)
{
	e->vector = b->gpr[RAX] < 256 ? (int)b->gpr[RAX] : 255;
	OUT(e, "%s(0x%llx, 0x%llx) = %lld", hypercall_name(b->gpr[RAX]),
	    (unsigned long long)b->gpr[RDI], (unsigned long long)b->gpr[RSI],
	    (long long)a->gpr[RAX]);
}

/* What an instruction changed in the general registers, as a fallback. */
static void describe_registers(const struct vcpu *b, const struct vcpu *a,
			       struct trace_event *e)
{
	static const char *const names[NR_GPRS] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
	size_t n = 0;
	unsigned i;

	for (i = 0; i < NR_GPRS && n < sizeof(e->effect) - 40; i++)
		if (b->gpr[i] != a->gpr[i])
			n += snprintf(e->effect + n, sizeof(e->effect) - n,
				      "%s%s=0x%llx", n ? " " : "", names[i],
				      (unsigned long long)a->gpr[i]);
}

/* The instructions whose effect is one piece of system state: what it
 * was, or what it became. */
static void describe_state(struct vm *vm, const struct vcpu *b,
			   const struct vcpu *a, const cs_insn *insn,
			   struct trace_event *e)
{
	switch (insn->id) {
	case X86_INS_PUSHF: case X86_INS_PUSHFD: case X86_INS_PUSHFQ:
		OUT(e, "pushed 0x%llx (vIF %u)", (unsigned long long)b->rflags,
		    !!(b->rflags & RFLAGS_IF));
		return;
	case X86_INS_LGDT: case X86_INS_LIDT:
		OUT(e, "%s <- 0x%llx/0x%x", insn->id == X86_INS_LGDT ? "GDTR"
								     : "IDTR",
		    (unsigned long long)(insn->id == X86_INS_LGDT ? a->gdtr.base
								  : a->idtr.base),
		    insn->id == X86_INS_LGDT ? a->gdtr.limit : a->idtr.limit);
		return;
	case X86_INS_LTR: case X86_INS_LLDT:
		OUT(e, "%s <- 0x%x", insn->id == X86_INS_LTR ? "TR" : "LDTR",
		    insn->id == X86_INS_LTR ? a->tr.sel : a->ldtr.sel);
		return;
	case X86_INS_HLT:
		OUT(e, "halted with vIF %u", !!(b->rflags & RFLAGS_IF));
		return;
	case X86_INS_SWAPGS:
		OUT(e, "gs.base 0x%llx <-> kernel 0x%llx",
		    (unsigned long long)b->seg[SR_GS].base,
		    (unsigned long long)b->kernel_gs_base);
		return;
	case X86_INS_CPUID:
		OUT(e, "leaf 0x%x.%x -> %08llx %08llx %08llx %08llx",
		    (uint32_t)b->gpr[RAX], (uint32_t)b->gpr[RCX],
		    (unsigned long long)a->gpr[RAX],
		    (unsigned long long)a->gpr[RBX],
		    (unsigned long long)a->gpr[RCX],
		    (unsigned long long)a->gpr[RDX]);
		return;
	case X86_INS_INVLPG:
		OUT(e, "shadow: %llu page%s dropped",
		    (unsigned long long)shadow_last_dropped(vm->mmu),
		    shadow_last_dropped(vm->mmu) == 1 ? "" : "s");
		return;
	}
}

void describe_insn(struct trace *t, const struct vcpu *b, const cs_insn *insn,
		   struct trace_event *e)
{
	struct vm *vm = t->vm;
	const struct vcpu *a = &vm->cpu;

	switch (insn->id) {
	case X86_INS_OUT:
		return describe_out(vm, b, insn, e);
	case X86_INS_IN:
		return describe_in(vm, b, insn, e);
	case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
	case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
		return describe_string_io(vm, b, insn, e);
	case X86_INS_MOV:
		return describe_mov(vm, b, insn, e);
	case X86_INS_CLI: case X86_INS_STI: case X86_INS_POPF:
	case X86_INS_POPFD: case X86_INS_POPFQ:
		return describe_flags(b, a, e);
	case X86_INS_RDMSR: case X86_INS_WRMSR:
		return describe_msr(b, a, insn->id == X86_INS_WRMSR, e);
	case X86_INS_PUSHF: case X86_INS_PUSHFD: case X86_INS_PUSHFQ:
	case X86_INS_LGDT: case X86_INS_LIDT: case X86_INS_LTR:
	case X86_INS_LLDT: case X86_INS_HLT: case X86_INS_SWAPGS:
	case X86_INS_CPUID: case X86_INS_INVLPG:
		return describe_state(vm, b, a, insn, e);
	case X86_INS_INT:
		if (e->kind == TK_HYPERCALL)
			return describe_hypercall(b, a, e);
		/* fall through */
	case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
	case X86_INS_RETF: case X86_INS_RETFQ: case X86_INS_LJMP:
	case X86_INS_LCALL: case X86_INS_SYSCALL: case X86_INS_SYSRET:
	case X86_INS_RET: case X86_INS_JMP: case X86_INS_CALL:
	case X86_INS_INT3:
		return describe_transfer(t, b, e);
	default:
		if (a->exc.pending || b->rip == a->rip)
			return;
		return describe_registers(b, a, e);
	}
}

/* ---- exceptions and interrupts --------------------------------------- */

static void pf_bits(uint32_t err, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", err & PFERR_P ? "P" : "not present",
		 err & PFERR_W ? "|W" : "", err & PFERR_U ? "|U" : "",
		 err & PFERR_RSVD ? "|RSVD" : "", err & PFERR_I ? "|I" : "");
}

void trace_event(void *ctx, unsigned vector, bool external,
		 bool has_err, uint32_t err, uint64_t from_rip,
		 uint16_t from_cs)
{
	struct trace *t = ctx;
	struct vm *vm = t->vm;
	struct trace_event *e = trace_new_event(
		t, external ? TK_INTERRUPT : TK_EXCEPTION, from_rip, from_cs & 3);
	char sym[96], bits[40];
	const char *what = vector < 32 ? exception_name(vector) : "vector";

	if (!e)
		return;
	e->vector = (int)vector;
	symbols_name(t->syms, vm->cpu.rip, sym, sizeof(sym));
	if (vector == X86_PF)
		pf_bits(err, bits, sizeof(bits));
	else
		snprintf(bits, sizeof(bits), "0x%x", err);
	if (external || vector >= 32)
		OUT(e, "vector 0x%x -> handler 0x%llx (%s)", vector,
		    (unsigned long long)vm->cpu.rip, sym);
	else if (vector == X86_PF)
		OUT(e, "%s cr2=0x%llx err=%s -> handler 0x%llx (%s)", what,
		    (unsigned long long)vm->cpu.cr2, bits,
		    (unsigned long long)vm->cpu.rip, sym);
	else
		OUT(e, "%s%s%s -> handler 0x%llx (%s)", what,
		    has_err ? " err=" : "", has_err ? bits : "",
		    (unsigned long long)vm->cpu.rip, sym);
}
