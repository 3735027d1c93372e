/*
 * Crash reports (see report.h).  Everything is read from the vCPU and
 * through the guest's page tables, so a report can be printed whatever
 * state the guest left itself in.
 */
#include <string.h>

#include "cpu/decode.h"
#include "cpu/gmem.h"
#include "core/report.h"
#include "core/vm.h"

static const char *mode_name(const struct vcpu *v)
{
	switch (vcpu_mode(v)) {
	case MODE_LONG64: return "64-bit";
	case MODE_COMPAT: return "compatibility mode";
	default: return "32-bit protected mode";
	}
}

const char *report_flags(unsigned long long rflags, char *buf, size_t len)
{
	static const struct { unsigned long long bit; const char *name; } f[] = {
		{ RFLAGS_CF, "CF" }, { RFLAGS_PF, "PF" }, { RFLAGS_AF, "AF" },
		{ RFLAGS_ZF, "ZF" }, { RFLAGS_SF, "SF" }, { RFLAGS_TF, "TF" },
		{ RFLAGS_IF, "IF" }, { RFLAGS_DF, "DF" }, { RFLAGS_OF, "OF" },
		{ RFLAGS_NT, "NT" }, { RFLAGS_RF, "RF" }, { RFLAGS_AC, "AC" },
		{ RFLAGS_ID, "ID" },
	};
	size_t i, n = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (rflags & f[i].bit)
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
				      n ? " " : "", f[i].name);
	if (rflags & RFLAGS_IOPL)
		snprintf(buf + n, n < len ? len - n : 0, " IOPL=%llu",
			 (rflags & RFLAGS_IOPL) >> RFLAGS_IOPL_SHIFT);
	return buf;
}

/* Disassemble up to n instructions at rip into f, marking the first. */
static void disassemble(struct vm *vm, FILE *f, uint64_t rip, int n)
{
	csh h = decoder_handle(vm->cpu.dec, vcpu_mode(&vm->cpu));
	uint8_t code[64];
	uint32_t err;
	size_t len = gmem_fetch(&vm->cpu, rip, code, sizeof(code), &err);
	cs_insn *insn = cs_malloc(h);
	const uint8_t *p = code;
	uint64_t addr = rip;
	int i;

	if (!len)
		fprintf(f, "  code: (rip is not mapped in the guest's page "
			"tables)\n");
	for (i = 0; insn && i < n && cs_disasm_iter(h, &p, &len, &addr, insn);
	     i++)
		fprintf(f, "  %s %#llx: %-8s %s\n", i ? " " : "=>",
			(unsigned long long)insn->address, insn->mnemonic,
			insn->op_str);
	if (insn && i == 0 && len)
		fprintf(f, "  => %#llx: (bytes %02x %02x %02x %02x do not "
			"decode)\n", (unsigned long long)rip, code[0],
			code[1], code[2], code[3]);
	if (insn)
		cs_free(insn, 1);
}

void report_where(struct vm *vm, FILE *f)
{
	const struct vcpu *v = &vm->cpu;

	fprintf(f, "rip %#llx (cs %#x, cpl %u, %s)",
		(unsigned long long)v->rip, v->seg[SR_CS].sel, vcpu_cpl(v),
		mode_name(v));
}

void report_crash(struct vm *vm, FILE *f, const char *fmt, va_list ap)
{
	static const char *const names[NR_GPRS] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
	const struct vcpu *v = &vm->cpu;
	char flags[96];
	int i;

	fprintf(f, "trapeze: guest crashed: ");
	vfprintf(f, fmt, ap);
	fprintf(f, "\n  at ");
	report_where(vm, f);
	fprintf(f, "\n");
	disassemble(vm, f, v->rip, 3);
	for (i = 0; i < NR_GPRS; i++)
		fprintf(f, "  %-3s %016llx%s", names[i],
			(unsigned long long)v->gpr[i], i % 4 == 3 ? "\n" : "");
	fprintf(f, "  rflags %016llx [%s]\n", (unsigned long long)v->rflags,
		report_flags(v->rflags, flags, sizeof(flags)));
	fprintf(f, "  cr0 %08llx  cr2 %016llx  cr3 %016llx  cr4 %08llx  "
		"efer %llx\n", (unsigned long long)v->cr0,
		(unsigned long long)v->cr2, (unsigned long long)v->cr3,
		(unsigned long long)v->cr4, (unsigned long long)v->efer);
	fprintf(f, "  cs %04x ss %04x ds %04x es %04x fs %04x gs %04x  "
		"fs.base %llx gs.base %llx\n", v->seg[SR_CS].sel,
		v->seg[SR_SS].sel, v->seg[SR_DS].sel, v->seg[SR_ES].sel,
		v->seg[SR_FS].sel, v->seg[SR_GS].sel,
		(unsigned long long)v->seg[SR_FS].base,
		(unsigned long long)v->seg[SR_GS].base);
	fprintf(f, "  gdtr %llx/%x  idtr %llx/%x  tr %04x  ldtr %04x\n",
		(unsigned long long)v->gdtr.base, v->gdtr.limit,
		(unsigned long long)v->idtr.base, v->idtr.limit, v->tr.sel,
		v->ldtr.sel);
	fprintf(f, "  after %llu traps (%llu emulated instructions, %llu "
		"exceptions delivered)\n",
		(unsigned long long)vm->stats.traps,
		(unsigned long long)vm->cpu.stats.emulated,
		(unsigned long long)vm->cpu.stats.exceptions);
}
