/*
 * The translator's code for one guest instruction (vmm/engine/tc-*.c),
 * run here, natively, from the same state as a reference: the emulator
 * (for what a user process cannot run as the guest means it: 32-bit
 * code, the stack in 32 bits, pushf, popf, cli, sti, mov from cs) or the
 * original instruction itself (64-bit code that runs natively the
 * same).  Registers, the arithmetic flags, the virtual IF and memory must
 * come out the same.  The guest's memory here is this process's, at the
 * guest addresses the harness's RAM has the same bytes at.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check-main.h"
#include "harness.h"
#include "core/multiboot.h"
#include "cpu/decode.h"
#include "cpu/emulate.h"
#include "engine/tc-internal.h"

#define FLAGS_ARITH 0x8d5ull            /* CF PF AF ZF SF OF */
#define FLAGS_DF    0x400ull
#define MEM_LO  0x200000ull             /* CODE_GPA .. STACK_TOP */
#define MEM_HI  0x300000ull

/* ---- running host code with guest registers ---------------------------- */

struct state {
	uint64_t gpr[16];
	uint64_t flags;
};

struct state t_in, t_out;
uint64_t t_saved_rsp, t_jump;
void t_run(void);
void t_land(void);

#define LOAD(r, i) "\tmovq t_in+" #i "(%rip), %" #r "\n"
#define SAVE(r, i) "\tmovq %" #r ", t_out+" #i "(%rip)\n"
__asm__(".text\n"
	".globl t_run, t_land\n"
	"t_run:\n"
	"\tpushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14\n"
	"\tpushq %r15\n"
	"\tmovq %rsp, t_saved_rsp(%rip)\n"
	"\tpushq t_in+128(%rip)\n"
	"\tpopfq\n"
	LOAD(rax, 0) LOAD(rcx, 8) LOAD(rdx, 16) LOAD(rbx, 24)
	LOAD(rbp, 40) LOAD(rsi, 48) LOAD(rdi, 56) LOAD(r8, 64)
	LOAD(r9, 72) LOAD(r10, 80) LOAD(r11, 88) LOAD(r12, 96)
	LOAD(r13, 104) LOAD(r14, 112) LOAD(r15, 120) LOAD(rsp, 32)
	"\tjmp *t_jump(%rip)\n"
	"t_land:\n"
	SAVE(rax, 0) SAVE(rcx, 8) SAVE(rdx, 16) SAVE(rbx, 24)
	SAVE(rsp, 32) SAVE(rbp, 40) SAVE(rsi, 48) SAVE(rdi, 56)
	SAVE(r8, 64) SAVE(r9, 72) SAVE(r10, 80) SAVE(r11, 88)
	SAVE(r12, 96) SAVE(r13, 104) SAVE(r14, 112) SAVE(r15, 120)
	"\tmovq t_saved_rsp(%rip), %rsp\n"
	"\tpushfq\n"
	"\tpopq t_out+128(%rip)\n"
	"\tcld\n"
	"\tpopq %r15; popq %r14; popq %r13; popq %r12; popq %rbp\n"
	"\tpopq %rbx\n"
	"\tret\n");

/* jmp *0(%rip) to t_land, at p */
static uint8_t *put_land(uint8_t *p)
{
	uint64_t to = (uint64_t)(uintptr_t)t_land;

	memcpy(p, "\xff\x25\0\0\0\0", 6);
	memcpy(p + 6, &to, 8);
	return p + 14;
}

/* ---- the fixture -------------------------------------------------------- */

static struct vm *vm;
static struct translator *tr;
static uint8_t *mem;                   /* the guest's [MEM_LO, MEM_HI) */
static uint8_t *native;                /* for originals, executable */

static void dummy_handler(struct tc_frame *f)
{
	(void)f;
	ck_abort_msg("a callout: the instruction was not translated inline");
}

static void common(void)
{
	unsigned long fs;
	const char *why;

	mem = mmap((void *)MEM_LO, MEM_HI - MEM_LO, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ck_assert_ptr_eq(mem, (void *)MEM_LO);
	native = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(native, MAP_FAILED);
	tr = tc_create(&vm->cpu, dummy_handler, &why);
	ck_assert_msg(tr != NULL, "no translator: %s", why);
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	tc_set_monitor_fs(tr, fs);
}

static void setup64(void)
{
	vm = harness_vm();
	common();
}

/* Protected mode, paging off, flat 32-bit segments: a multiboot entry. */
static void setup32(void)
{
	static const uint64_t gdt[] = { 0, 0x00cf9b000000ffffull,
					0x00cf93000000ffffull };

	vm = harness_vm();
	harness_poke(vm, GDT_GPA, gdt, sizeof(gdt));
	multiboot_reset_cpu(&vm->cpu, CODE_GPA);
	vm->cpu.gdtr.base = GDT_GPA;
	vm->cpu.gdtr.limit = sizeof(gdt) - 1;
	vm->cpu.gpr[RSP] = STACK_TOP;
	vcpu_paging_changed(&vm->cpu, true);
	common();
}

static void teardown(void)
{
	tc_destroy(tr);
	munmap(mem, MEM_HI - MEM_LO);
	munmap(native, 4096);
}

/* ---- one instruction, three ways ---------------------------------------- */

/* The same bytes at [MEM_LO, MEM_HI) for the guest's RAM and this
 * process: a pattern, and some values where the tests point. */
static void fill(void)
{
	unsigned i;

	for (i = 0; i < MEM_HI - MEM_LO; i++)
		mem[i] = (uint8_t)(i * 7 + 3);
	harness_poke(vm, MEM_LO, mem, MEM_HI - MEM_LO);
}

static void assert_mem_same(const char *what)
{
	uint64_t i;

	if (!memcmp(mem, vm->ram + MEM_LO, MEM_HI - MEM_LO))
		return;
	for (i = 0; mem[i] == vm->ram[MEM_LO + i]; i++)
		;
	ck_abort_msg("%s: memory at %#llx: translated 0x%02x, reference "
		     "0x%02x", what, (unsigned long long)(MEM_LO + i), mem[i],
		     vm->ram[MEM_LO + i]);
}

static const cs_insn *decode_at(const char *bytes, size_t n, uint64_t pc)
{
	return decode(vm->cpu.dec, vcpu_mode(&vm->cpu), pc,
		      (const uint8_t *)bytes, n);
}

/* Translate insn (at pc) alone and run it from `in`: into t_out. */
static void run_translated(const cs_insn *insn, uint64_t pc,
			   const struct state *in)
{
	struct tc_emitter e = { tr, tr->code + tr->used };
	unsigned first = tr->nrecs, i;
	uint8_t *start = e.p;

	ck_assert_int_eq(tc_emit(&e, insn, pc, pc, vcpu_mode(&vm->cpu)),
			 TN_GO_ON);
	/* (A callout record is a slow path, popf's: it must not be
	 * taken here, dummy_handler says if it is.) */
	for (i = first; i < tr->nrecs; i++)
		ck_assert_msg(tr->recs[i].kind == TK_INSN ||
			      tr->recs[i].kind == TK_CALLOUT,
			      "%s %s: not inline (record kind %u)",
			      insn->mnemonic, insn->op_str, tr->recs[i].kind);
	e.p = put_land(e.p);
	tr->used = (uint32_t)(e.p - tr->code);
	t_in = *in;
	t_jump = (uint64_t)(uintptr_t)start;
	t_run();
}

/* The emulator's version, from the same state. */
static void run_emulated(const cs_insn *insn, const struct state *in)
{
	struct vcpu *v = &vm->cpu;

	memcpy(v->gpr, in->gpr, sizeof(v->gpr));
	v->rflags = (v->rflags & ~FLAGS_ARITH) | (in->flags & FLAGS_ARITH);
	ck_assert_msg(emulate_insn(v, insn) == EMU_NEXT, "%s %s: emulated",
		      insn->mnemonic, insn->op_str);
}

/* Registers (the low 32 bits in 32-bit code) and arithmetic flags. */
static void assert_regs_same(const cs_insn *insn, const uint64_t *ref,
			     uint64_t ref_flags, bool wide)
{
	unsigned i, n = wide ? 16 : 8;
	uint64_t mask = wide ? ~0ull : 0xffffffffull;

	for (i = 0; i < n; i++)
		ck_assert_msg((t_out.gpr[i] & mask) == (ref[i] & mask),
			      "%s %s: register %u: translated %#llx, "
			      "reference %#llx", insn->mnemonic, insn->op_str,
			      i, (unsigned long long)t_out.gpr[i],
			      (unsigned long long)ref[i]);
	ck_assert_msg((t_out.flags & FLAGS_ARITH) == (ref_flags & FLAGS_ARITH),
		      "%s %s: flags: translated %#llx, reference %#llx",
		      insn->mnemonic, insn->op_str,
		      (unsigned long long)(t_out.flags & FLAGS_ARITH),
		      (unsigned long long)(ref_flags & FLAGS_ARITH));
}

/* The usual starting registers: pointers into the test memory. */
static struct state start_state(uint64_t flags)
{
	struct state s = { .flags = 0x202 | (flags & FLAGS_ARITH) };
	unsigned i;

	for (i = 0; i < 16; i++)
		s.gpr[i] = 0x1111111111111111ull * (i + 1);
	s.gpr[RAX] = 0x8899aabbccddeeffull;
	s.gpr[RBX] = DATA_GPA;
	s.gpr[RCX] = 3;
	s.gpr[RSP] = STACK_TOP - 64;
	s.gpr[RBP] = STACK_TOP - 32;
	s.gpr[RSI] = DATA_GPA + 0x100;
	s.gpr[RDI] = DATA_GPA + 0x200;
	return s;
}

/* The translation against the emulator, with the guest's IF vif. */
static void against_emulator(const char *bytes, size_t n, uint64_t flags,
			     bool vif)
{
	struct vcpu *v = &vm->cpu;
	bool wide = vcpu_mode(v) == MODE_LONG64;
	const cs_insn *insn;
	struct state in = start_state(flags);
	uint64_t ref[16], ref_flags;

	/* (32-bit code's registers have no upper halves.) */
	if (!wide) {
		unsigned i;

		for (i = 0; i < 16; i++)
			in.gpr[i] &= i < 8 ? 0xffffffffull : ~0ull;
	}
	v->rflags = (v->rflags & ~RFLAGS_IF) | (vif ? RFLAGS_IF : 0);
	fill();
	insn = decode_at(bytes, n, CODE_GPA);
	ck_assert_ptr_nonnull(insn);
	tr->xs->vif = vif;
	tc_sync_state(tr);
	run_translated(insn, CODE_GPA, &in);
	insn = decode_at(bytes, n, CODE_GPA);
	run_emulated(insn, &in);
	memcpy(ref, v->gpr, sizeof(ref));
	ref_flags = v->rflags;
	assert_regs_same(insn, ref, ref_flags, wide);
	ck_assert_msg(tr->xs->vif == ((v->rflags & RFLAGS_IF) != 0),
		      "%s %s: IF: translated %u, reference %u", insn->mnemonic,
		      insn->op_str, tr->xs->vif,
		      (unsigned)((v->rflags & RFLAGS_IF) != 0));
	assert_mem_same(insn->mnemonic);
}

#define EMU(bytes, flags, vif) \
	against_emulator(bytes, sizeof(bytes) - 1, flags, vif)

/* ---- 32-bit code --------------------------------------------------------- */

START_TEST(test_32bit_stack_instructions_match_the_emulator)
{
	EMU("\x50", 0, true);                      /* push %eax */
	EMU("\x6a\x7f", 0, true);                  /* push $0x7f */
	EMU("\x6a\x80", 0, true);                  /* push $-128 */
	EMU("\x68\x78\x56\x34\x12", 0, true);      /* push $0x12345678 */
	EMU("\xff\x73\x04", 0, true);              /* push 4(%ebx) */
	EMU("\x54", 0, true);                      /* push %esp */
	EMU("\x59", 0, true);                      /* pop %ecx */
	EMU("\x5c", 0, true);                      /* pop %esp */
	EMU("\x8f\x43\x08", 0, true);              /* pop 8(%ebx) */
	EMU("\x60", 0, true);                      /* pusha */
	EMU("\x61", 0, true);                      /* popa */
	EMU("\xc9", 0, true);                      /* leave */
}
END_TEST

START_TEST(test_32bit_encodings_64bit_code_lacks_match_the_emulator)
{
	EMU("\x40", 0, true);                      /* inc %eax */
	EMU("\x4b", 0x1, true);                    /* dec %ebx (CF kept) */
	EMU("\x66\x41", 0, true);                  /* inc %cx */
	/* disp32 alone, RIP-relative in 64-bit code */
	EMU("\x8b\x0d\x10\x00\x28\x00", 0, true);  /* mov 0x280010,%ecx */
	EMU("\x89\x0d\x10\x00\x28\x00", 0, true);  /* mov %ecx,0x280010 */
	EMU("\xa1\x10\x00\x28\x00", 0, true);      /* mov 0x280010,%eax */
	EMU("\x01\x44\x8b\x08", 0, true);          /* add %eax,8(%ebx,%ecx,4) */
	EMU("\x8d\x44\x4b\x10", 0, true);          /* lea 0x10(%ebx,%ecx,2) */
	EMU("\xa5", 0, true);                      /* movsl */
}
END_TEST

START_TEST(test_32bit_sensitive_instructions_inline_match_the_emulator)
{
	EMU("\x9c", 0x85, true);                   /* pushf, IF set */
	EMU("\x9c", 0x44, false);                  /* pushf, IF clear */
	EMU("\x8c\xc8", 0, true);                  /* mov %cs,%eax */
	EMU("\xfa", 0, true);                      /* cli */
	EMU("\xfb", 0, false);                     /* sti */
}
END_TEST

/* popf from a value on the stack: IF into vif, the rest real. */
static void popf_of(uint32_t image, bool vif)
{
	uint32_t at = STACK_TOP - 64;

	/* (fill() rewrites memory: the value goes in after, in both.) */
	struct vcpu *v = &vm->cpu;
	const cs_insn *insn;
	struct state in = start_state(0);
	bool wide = vcpu_mode(v) == MODE_LONG64;
	unsigned size = wide ? 8 : 4;
	uint64_t ref[16], val = image;

	if (!wide) {
		unsigned i;

		for (i = 0; i < 8; i++)
			in.gpr[i] &= 0xffffffffull;
	}
	v->rflags = (v->rflags & ~RFLAGS_IF) | (vif ? RFLAGS_IF : 0);
	fill();
	memcpy(mem + (at - MEM_LO), &val, size);
	harness_poke(vm, at, &val, size);
	tr->xs->vif = vif;
	tc_sync_state(tr);
	insn = decode_at("\x9d", 1, CODE_GPA);
	run_translated(insn, CODE_GPA, &in);
	insn = decode_at("\x9d", 1, CODE_GPA);
	run_emulated(insn, &in);
	memcpy(ref, v->gpr, sizeof(ref));
	assert_regs_same(insn, ref, v->rflags, wide);
	ck_assert_uint_eq(tr->xs->vif, (v->rflags & RFLAGS_IF) != 0);
	ck_assert_uint_eq(t_out.flags & FLAGS_DF, v->rflags & FLAGS_DF);
	assert_mem_same("popf");
}

START_TEST(test_32bit_popf_inline_matches_the_emulator)
{
	popf_of(0x200 | 0x2 | 0x85, false);        /* sets IF, CF SF PF */
	popf_of(0x2 | 0x40, true);                 /* clears IF, ZF */
	popf_of(0x2 | 0x400, false);               /* DF */
}
END_TEST

/* ---- 64-bit code --------------------------------------------------------- */

START_TEST(test_64bit_sensitive_instructions_inline_match_the_emulator)
{
	EMU("\x9c", 0x85, true);                   /* pushfq */
	EMU("\x9c", 0x44, false);
	EMU("\x8c\xc8", 0, true);                  /* mov %cs,%eax */
	EMU("\x48\x8c\xd0", 0, true);              /* mov %ss,%rax */
	EMU("\xfa", 0, true);                      /* cli */
	EMU("\xfb", 0, false);                     /* sti */
}
END_TEST

START_TEST(test_64bit_popf_inline_matches_the_emulator)
{
	popf_of(0x200 | 0x2 | 0x801, false);       /* IF, CF, OF */
	popf_of(0x2 | 0x4, true);
	popf_of(0x2 | 0x8d5, true);                /* every arithmetic flag */
	popf_of(0x200 | 0x2 | 0x80, true);         /* SF alone */
	popf_of(0x2 | 0x800, false);               /* OF alone */
	popf_of(0x2 | 0x400 | 0x1, true);          /* DF, CF */
}
END_TEST

/*
 * A RIP-relative operand after the move: the instruction's address
 * differs from the cache's, so the copy must reach where the original
 * at pc reaches.  The original runs at pc (in `native`), the copy in the
 * cache, each on its own memory: the original's operand is beside it.
 */
START_TEST(test_64bit_rip_relative_operands_reach_the_original_address)
{
	static const char load[] = "\x48\x8b\x05\x00\x01\x00\x00"; /* 0x100(%rip) */
	static const char add[] = "\x48\x01\x05\x00\x01\x00\x00";
	const char *cases[] = { load, add };
	unsigned k;

	for (k = 0; k < 2; k++) {
		uint64_t pc = (uint64_t)(uintptr_t)native;
		uint64_t *operand = (uint64_t *)(native + 7 + 0x100);
		struct state in = start_state(0), native_out;
		const cs_insn *insn;
		uint8_t *p;

		*operand = 0x1234567887654321ull;
		memcpy(native, cases[k], 7);
		p = put_land(native + 7);
		(void)p;
		t_in = in;
		t_jump = pc;
		t_run();
		native_out = t_out;
		ck_assert_uint_eq(*operand, k ? 0x1234567887654321ull +
					       in.gpr[RAX]
					      : 0x1234567887654321ull);
		*operand = 0x1234567887654321ull;
		/* (native is outside the window: [disp32] cannot reach it,
		 * so this is the borrowed-register form.) */
		insn = decode_at(cases[k], 7, pc);
		run_translated(insn, pc, &in);
		assert_regs_same(insn, native_out.gpr, native_out.flags, true);
		ck_assert_uint_eq(*operand, k ? 0x1234567887654321ull +
					       in.gpr[RAX]
					      : 0x1234567887654321ull);
	}
}
END_TEST

/*
 * The shadow of an inline sti: a stop from outside (a timer's signal)
 * that lands after the sti and before the instruction after it must not
 * let an interrupt in there (`sti; hlt` would take it before the hlt,
 * and then halt for good); after any other instruction it may.
 */
static bool stopped_in_shadow(const char *first, uint64_t pc)
{
	struct tc_emitter e = { tr, tr->code + tr->used };
	const cs_insn *insn;
	unsigned hlt_rec;

	insn = decode_at(first, 1, pc);
	ck_assert_int_eq(tc_emit(&e, insn, pc, pc, vcpu_mode(&vm->cpu)),
			 TN_GO_ON);
	hlt_rec = tr->nrecs;
	insn = decode_at("\xf4", 1, pc + 1);
	tc_emit(&e, insn, pc + 1, pc + 1, vcpu_mode(&vm->cpu));
	tr->used = (uint32_t)(e.p - tr->code);
	vm->cpu.rip = (uint64_t)(uintptr_t)(tr->code + tr->recs[hlt_rec].host);
	ck_assert_int_eq(tc_leave(tr, UINT64_MAX), TR_LEFT);
	ck_assert_uint_eq(vm->cpu.rip, pc + 1);
	return tc_left_in_shadow(tr);
}

START_TEST(test_a_stop_between_sti_and_hlt_keeps_the_shadow)
{
	ck_assert(stopped_in_shadow("\xfb", CODE_GPA));          /* sti */
	ck_assert(!stopped_in_shadow("\xfa", CODE_GPA + 0x10));  /* cli */
	ck_assert(!stopped_in_shadow("\x90", CODE_GPA + 0x20));  /* nop */
}
END_TEST

static Suite *translate_suite(void)
{
	Suite *s = suite_create("translate");
	TCase *t = tcase_create("32-bit code");

	tcase_add_checked_fixture(t, setup32, teardown);
	tcase_add_test(t, test_32bit_stack_instructions_match_the_emulator);
	tcase_add_test(t, test_32bit_encodings_64bit_code_lacks_match_the_emulator);
	tcase_add_test(t, test_32bit_sensitive_instructions_inline_match_the_emulator);
	tcase_add_test(t, test_32bit_popf_inline_matches_the_emulator);
	suite_add_tcase(s, t);

	t = tcase_create("64-bit code");
	tcase_add_checked_fixture(t, setup64, teardown);
	tcase_add_test(t, test_64bit_sensitive_instructions_inline_match_the_emulator);
	tcase_add_test(t, test_64bit_popf_inline_matches_the_emulator);
	tcase_add_test(t, test_64bit_rip_relative_operands_reach_the_original_address);
	tcase_add_test(t, test_a_stop_between_sti_and_hlt_keeps_the_shadow);
	suite_add_tcase(s, t);
	return s;
}
CHECK_MAIN(translate_suite)
