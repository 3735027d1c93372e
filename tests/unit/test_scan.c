/*
 * The scanner: which instructions it patches, where its blocks end, what
 * it leaves alone, and how it keeps unscanned code from running.
 */
#include <check.h>
#include <string.h>

#include "check-main.h"
#include "cpu/decode.h"
#include "harness.h"
#include "engine/scan.h"

static struct vm *vm;

static void setup(void)
{
	vm = harness_vm_scan();
	host_calls.protects = 0;
}

static enum scan_class classify(const char *bytes, size_t n)
{
	csh h;
	cs_insn *insn;
	enum scan_class c;

	emulate_init();
	ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &h), CS_ERR_OK);
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	ck_assert_uint_eq(cs_disasm(h, (const uint8_t *)bytes, n, 0x1000, 1,
				    &insn), 1);
	c = scan_classify(insn);
	cs_free(insn, 1);
	cs_close(&h);
	return c;
}

#define CLASS(bytes) classify(bytes, sizeof(bytes) - 1)

START_TEST(test_silent_sensitive_instructions_are_patched)
{
	ck_assert_int_eq(CLASS("\x9c"), SC_SENSITIVE);             /* pushfq */
	ck_assert_int_eq(CLASS("\x9d"), SC_SENSITIVE);             /* popfq */
	ck_assert_int_eq(CLASS("\x0f\x01\x00"), SC_SENSITIVE);     /* sgdt */
	ck_assert_int_eq(CLASS("\x0f\x01\x08"), SC_SENSITIVE);     /* sidt */
	ck_assert_int_eq(CLASS("\x0f\x00\xc0"), SC_SENSITIVE);     /* sldt */
	ck_assert_int_eq(CLASS("\x0f\x00\xc8"), SC_SENSITIVE);     /* str */
	ck_assert_int_eq(CLASS("\x0f\x01\xe0"), SC_SENSITIVE);     /* smsw */
	ck_assert_int_eq(CLASS("\x0f\x02\xc1"), SC_SENSITIVE);     /* lar */
	ck_assert_int_eq(CLASS("\x0f\x03\xc1"), SC_SENSITIVE);     /* lsl */
	ck_assert_int_eq(CLASS("\x0f\x00\xe0"), SC_SENSITIVE);     /* verr */
	ck_assert_int_eq(CLASS("\x0f\x00\xe8"), SC_SENSITIVE);     /* verw */
	ck_assert_int_eq(CLASS("\x8c\xc8"), SC_SENSITIVE);   /* mov eax, cs */
	ck_assert_int_eq(CLASS("\x8e\xd8"), SC_SENSITIVE);   /* mov ds, eax */
	ck_assert_int_eq(CLASS("\x0f\xa0"), SC_SENSITIVE);         /* push fs */
	ck_assert_int_eq(CLASS("\x0f\xa9"), SC_SENSITIVE);         /* pop gs */
	ck_assert_int_eq(CLASS("\x0f\xa2"), SC_SENSITIVE);         /* cpuid */
	ck_assert_int_eq(CLASS("\x0f\x01\xd0"), SC_SENSITIVE);     /* xgetbv */
	ck_assert_int_eq(CLASS("\x0f\x01\xf9"), SC_SENSITIVE);     /* rdtscp */
	ck_assert_int_eq(CLASS("\xf3\x0f\xc7\xf8"), SC_SENSITIVE); /* rdpid */
	/* on a host that is itself a VM they reach its hypervisor */
	ck_assert_int_eq(CLASS("\x0f\x01\xc1"), SC_SENSITIVE);     /* vmcall */
	ck_assert_int_eq(CLASS("\x0f\x01\xd9"), SC_SENSITIVE);     /* vmmcall */
	ck_assert_int_eq(CLASS("\xf1"), SC_SENSITIVE);               /* icebp */
	ck_assert_int_eq(CLASS("\xf3\x48\x0f\xae\xc0"), SC_SENSITIVE);
	ck_assert_int_eq(CLASS("\x48\xcf"), SC_SENSITIVE);         /* iretq */
	ck_assert_int_eq(CLASS("\x48\xcb"), SC_SENSITIVE);         /* lretq */
	ck_assert_int_eq(CLASS("\xff\x28"), SC_SENSITIVE);   /* ljmp [rax] */
	ck_assert_int_eq(CLASS("\xff\x18"), SC_SENSITIVE);   /* lcall [rax] */
}
END_TEST

START_TEST(test_indirect_transfers_are_patched_and_direct_ones_followed)
{
	ck_assert_int_eq(CLASS("\xc3"), SC_INDIRECT);               /* ret */
	ck_assert_int_eq(CLASS("\xc2\x08\x00"), SC_INDIRECT);       /* ret 8 */
	ck_assert_int_eq(CLASS("\xff\xe0"), SC_INDIRECT);     /* jmp rax */
	ck_assert_int_eq(CLASS("\xff\x10"), SC_INDIRECT);     /* call [rax] */
	ck_assert_int_eq(CLASS("\xeb\x10"), SC_JUMP);
	ck_assert_int_eq(CLASS("\x75\x10"), SC_BRANCH);             /* jne */
	ck_assert_int_eq(CLASS("\xe8\x00\x01\x00\x00"), SC_BRANCH); /* call */
	ck_assert_int_eq(CLASS("\xe2\xfe"), SC_BRANCH);             /* loop */
	ck_assert_int_eq(CLASS("\xe3\x10"), SC_BRANCH);            /* jrcxz */
	ck_assert_int_eq(CLASS("\x0f\x0b"), SC_END);                /* ud2 */
}
END_TEST

START_TEST(test_ordinary_and_self_trapping_instructions_run_natively)
{
	ck_assert_int_eq(CLASS("\x48\x89\xd8"), SC_PLAIN);    /* mov rax,rbx */
	ck_assert_int_eq(CLASS("\x90"), SC_PLAIN);
	ck_assert_int_eq(CLASS("\xfa"), SC_PLAIN);            /* cli traps */
	ck_assert_int_eq(CLASS("\x0f\x22\xd8"), SC_PLAIN);    /* mov cr3 */
	ck_assert_int_eq(CLASS("\x0f\xc7\xf8"), SC_PLAIN);    /* rdseed */
	ck_assert_int_eq(CLASS("\x48\x8b\x00"), SC_PLAIN);    /* mov rax,[rax] */
}
END_TEST

static void put(uint64_t gpa, const char *bytes, size_t n)
{
	harness_poke(vm, gpa, bytes, n);
}

static bool is_ready(uint64_t gpa)
{
	return shadow_code_is_ready(vm->mmu, gpa);
}

START_TEST(test_scan_patches_in_place_and_opens_the_frame)
{
	/* nop; pushfq; cli; ret */
	put(CODE_GPA, "\x90\x9c\xfa\xc3", 4);
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA], 0x90);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 1], 0xcc);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 2], 0xfa);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 3], 0xcc);
	ck_assert(is_ready(CODE_GPA));
	ck_assert_uint_eq(scan_patched_insn(vm->scan, CODE_GPA + 1)->id,
			  X86_INS_PUSHFQ);
	ck_assert_ptr_null(scan_patched_insn(vm->scan, CODE_GPA + 2));
}
END_TEST

START_TEST(test_bytes_not_reached_by_control_flow_are_left_alone)
{
	/* jmp +2; (9c 9d: data that looks like pushf, popf); ret */
	put(CODE_GPA, "\xeb\x02\x9c\x9d\xc3", 5);
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 2], 0x9c);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 3], 0x9d);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 4], 0xcc);
	/* And nothing after the ret is code either. */
	put(CODE_GPA + 0x100, "\xc3\x9c", 2);
	scan_from(vm->scan, CODE_GPA + 0x100);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 0x101], 0x9c);
}
END_TEST

START_TEST(test_a_target_in_an_unrun_page_is_scanned_when_that_page_runs)
{
	/* call CODE+0x1010 (rel32 = 0x1010 - 5); ret.  The target page:
	 * ret at +0 (another entry), popfq; ret at +0x10. */
	put(CODE_GPA, "\xe8\x0b\x10\x00\x00\xc3", 6);
	put(CODE_GPA + 0x1000, "\xc3", 1);
	put(CODE_GPA + 0x1010, "\x9d\xc3", 2);
	scan_from(vm->scan, CODE_GPA);
	ck_assert(is_ready(CODE_GPA));
	ck_assert(!is_ready(CODE_GPA + 0x1000));       /* never ran */
	ck_assert_uint_eq(vm->ram[CODE_GPA + 0x1010], 0x9d);
	/* It runs, entered elsewhere: the call's target is vetted too. */
	scan_from(vm->scan, CODE_GPA + 0x1000);
	ck_assert(is_ready(CODE_GPA + 0x1000));
	ck_assert_uint_eq(vm->ram[CODE_GPA + 0x1010], 0xcc);
}
END_TEST

START_TEST(test_a_target_in_a_scanned_page_is_vetted_at_once)
{
	put(CODE_GPA + 0x1000, "\xc3", 1);
	put(CODE_GPA + 0x1010, "\x9d\xc3", 2);
	scan_from(vm->scan, CODE_GPA + 0x1000);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 0x1010], 0x9d);
	put(CODE_GPA, "\xe8\x0b\x10\x00\x00\xc3", 6);
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 0x1010], 0xcc);
}
END_TEST

START_TEST(test_an_instruction_straddling_two_pages_opens_both)
{
	uint64_t start = CODE_GPA + 0x1000 - 2;

	/* mov eax, imm32 (b8 + 4 bytes) across the boundary, then pushfq */
	put(start, "\xb8\x11\x22\x33\x44\x9c\xc3", 7);
	scan_from(vm->scan, start);
	ck_assert(is_ready(CODE_GPA));
	ck_assert(!is_ready(CODE_GPA + 0x1000));
	/* Executing it fetches from the second page: that fault opens it
	 * from after the straddling instruction. */
	vm->cpu.rip = start;
	scan_fetch_fault(vm->scan, CODE_GPA + 0x1000);
	ck_assert(is_ready(CODE_GPA + 0x1000));
	ck_assert_uint_eq(vm->ram[start + 5], 0xcc);          /* pushfq */
	ck_assert_uint_eq(vm->ram[start + 1], 0x11);          /* imm intact */
}
END_TEST

START_TEST(test_an_unvetted_offset_in_an_open_frame_is_scanned_at_resume)
{
	/* ret; then a function reached only through a pointer: pushfq; ret */
	put(CODE_GPA, "\xc3\x9c\xc3", 3);
	scan_from(vm->scan, CODE_GPA);
	ck_assert(is_ready(CODE_GPA));
	ck_assert_uint_eq(vm->ram[CODE_GPA + 1], 0x9c);     /* not yet */
	vm->cpu.rip = CODE_GPA + 1;                         /* ret lands here */
	scan_check_rip(vm->scan);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 1], 0xcc);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 2], 0xcc);
}
END_TEST

START_TEST(test_a_write_restores_the_frame_and_the_rescan_covers_calls_into_it)
{
	uint64_t caller = CODE_GPA + 0x1000;

	/* The frame: pushfq; ret at +0, popfq; ret at +0x40, which another
	 * frame calls (call rel32 from caller to CODE_GPA + 0x40). */
	put(CODE_GPA, "\x9c\xc3", 2);
	put(CODE_GPA + 0x40, "\x9d\xc3", 2);
	put(caller, "\xe8\x3b\xf0\xff\xff\xc3", 6);
	scan_from(vm->scan, CODE_GPA);
	scan_from(vm->scan, caller);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 0x40], 0xcc);
	scan_code_written(vm->scan, CODE_GPA + 0x80);
	ck_assert(!is_ready(CODE_GPA));
	ck_assert_uint_eq(vm->ram[CODE_GPA], 0x9c);          /* originals */
	ck_assert_uint_eq(vm->ram[CODE_GPA + 0x40], 0x9d);
	ck_assert_ptr_null(scan_patched_insn(vm->scan, CODE_GPA));
	/* Entering at +0 again also rescans the call's target: the caller
	 * can still jump there without a trap. */
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 0x40], 0xcc);
	ck_assert(is_ready(CODE_GPA));
}
END_TEST

/*
 * xv6 frees a process's pages and gives them to the next program.  The
 * old program's instruction starts may fall inside the new one's
 * instructions: decoded from there, cmp edx, ecx (39 ca) has a retf
 * (ca) in it, and patching that would break the cmp.
 */
START_TEST(test_a_rewritten_frame_is_not_rescanned_from_its_old_starts)
{
	put(CODE_GPA, "\x90\xc3", 2);                  /* nop; ret */
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 1], 0xcc);
	scan_code_written(vm->scan, CODE_GPA);
	put(CODE_GPA, "\x39\xca\xc3", 3);              /* cmp edx, ecx; ret */
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 1], 0xca);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 2], 0xcc);
}
END_TEST

START_TEST(test_a_call_from_a_rewritten_frame_is_forgotten)
{
	uint64_t caller = CODE_GPA + 0x1000;

	/* The caller calls CODE_GPA + 1, in a page that has not run. */
	put(caller, "\xe8\xfc\xef\xff\xff\xc3", 6);
	scan_from(vm->scan, caller);
	ck_assert(!is_ready(CODE_GPA));
	/* Both pages get new contents: the call is gone. */
	scan_code_written(vm->scan, caller);
	put(caller, "\x90\xc3", 2);
	put(CODE_GPA, "\x39\xca\xc3", 3);
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 1], 0xca);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 2], 0xcc);
}
END_TEST

START_TEST(test_a_frame_scanned_in_another_mode_is_rescanned)
{
	struct segment cs32 = vm->cpu.seg[SR_CS];

	/* 48 = dec eax in 32-bit code, a REX prefix in 64-bit code. */
	put(CODE_GPA, "\x48\x9c\xc3", 3);
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA], 0xcc);      /* rex.w pushfq */
	ck_assert_uint_eq(scan_patched_insn(vm->scan, CODE_GPA)->id,
			  X86_INS_PUSHFQ);
	cs32.attr = (cs32.attr & ~SEG_L) | SEG_DB;
	vm->cpu.seg[SR_CS] = cs32;
	vm->cpu.rip = CODE_GPA;
	scan_check_rip(vm->scan);
	ck_assert_uint_eq(vm->ram[CODE_GPA], 0x48);          /* dec eax */
	ck_assert_uint_eq(vm->ram[CODE_GPA + 1], 0xcc);      /* pushfd */
}
END_TEST

/*
 * A 32-bit kernel's long-mode switch often shares a page with its 64-bit
 * code.  Instruction starts vetted in 32-bit mode are no entries for the
 * 64-bit rescan: decoded as 64-bit code, the pushf at offset 6 (inside
 * the movabs immediate) would be patched and corrupt the immediate.
 */
START_TEST(test_starts_vetted_in_32bit_mode_are_not_rescanned_in_64bit_mode)
{
	struct segment cs64 = vm->cpu.seg[SR_CS], cs32 = cs64;
	/* 32-bit: dec eax; mov eax, 0x9090909c; pushf; nop x3; ret.
	 * 64-bit: movabs rax, 0x9090909c9090909c; ret. */
	static const char code[] = "\x48\xb8\x9c\x90\x90\x90\x9c\x90\x90\x90"
				   "\xc3";

	put(CODE_GPA, code, sizeof(code) - 1);
	cs32.attr = (cs32.attr & ~SEG_L) | SEG_DB;
	vm->cpu.seg[SR_CS] = cs32;
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 6], 0xcc);      /* pushfd */
	vm->cpu.seg[SR_CS] = cs64;
	vm->cpu.rip = CODE_GPA;
	scan_check_rip(vm->scan);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 6], 0x9c);      /* immediate */
	ck_assert_uint_eq(vm->ram[CODE_GPA + 10], 0xcc);     /* ret */
	ck_assert_ptr_null(scan_patched_insn(vm->scan, CODE_GPA + 6));
}
END_TEST

START_TEST(test_data_on_a_code_page_is_not_code)
{
	/* pushfq; ret at +0, then data bytes at +0x100 */
	put(CODE_GPA, "\x9c\xc3", 2);
	scan_from(vm->scan, CODE_GPA);
	ck_assert(scan_write_touches_code(vm->scan, CODE_GPA + 1, 1));
	ck_assert(scan_write_touches_code(vm->scan, CODE_GPA, 8));
	ck_assert(!scan_write_touches_code(vm->scan, CODE_GPA + 2, 4));
	ck_assert(!scan_write_touches_code(vm->scan, CODE_GPA + 0x100, 8));
	ck_assert(is_ready(CODE_GPA));
}
END_TEST

START_TEST(test_a_copy_of_a_patched_frame_gets_the_original_bytes)
{
	uint64_t copy = CODE_GPA + 0x3000;

	/* mov eax, 1; pushfq; ret: the pushfq is patched */
	put(CODE_GPA, "\xb8\x01\x00\x00\x00\x9c\xc3", 7);
	scan_from(vm->scan, CODE_GPA);
	ck_assert_uint_eq(vm->ram[CODE_GPA + 5], 0xcc);
	/* A kernel copies the page as it reads it, int3 and all (fork). */
	memcpy(vm->ram + copy, vm->ram + CODE_GPA, 0x1000);
	scan_from(vm->scan, copy);
	/* The copy's pushfq is known as one (patched again, its original
	 * kept), not run as a breakpoint of the guest's own. */
	ck_assert_uint_eq(vm->ram[copy + 5], 0xcc);
	ck_assert_ptr_nonnull(scan_patched_insn(vm->scan, copy + 5));
	ck_assert_str_eq(scan_patched_insn(vm->scan, copy + 5)->mnemonic, "pushfq");
}
END_TEST

START_TEST(test_a_real_int3_in_a_page_unlike_any_other_stays)
{
	uint64_t other = CODE_GPA + 0x3000;

	put(CODE_GPA, "\xb8\x01\x00\x00\x00\x9c\xc3", 7);
	scan_from(vm->scan, CODE_GPA);
	/* Same int3 offset, different code around it: not a copy. */
	put(other, "\xb8\x02\x00\x00\x00\xcc\xc3", 7);
	scan_from(vm->scan, other);
	ck_assert_uint_eq(vm->ram[other + 5], 0xcc);
	ck_assert_ptr_null(scan_patched_insn(vm->scan, other + 5));
}
END_TEST

START_TEST(test_a_copy_matched_first_by_a_partial_copy_still_gets_everything)
{
	uint64_t parent = CODE_GPA + 0x1000, a = CODE_GPA + 0x3000,
		 b = CODE_GPA + 0x5000;

	/* Frame a exists first (an earlier life as other code). */
	put(a, "\x90\xc3", 2);
	scan_from(vm->scan, a);
	scan_code_written(vm->scan, a);
	/* The parent runs two entries: pushfq; ret and, at +0x20, popfq;
	 * ret.  Both are patched. */
	put(parent, "\x9c\xc3", 2);
	put(parent + 0x20, "\x9d\xc3", 2);
	scan_from(vm->scan, parent);
	scan_from(vm->scan, parent + 0x20);
	/* Child a, a copy, runs only the first entry. */
	memcpy(vm->ram + a, vm->ram + parent, 0x1000);
	scan_from(vm->scan, a);
	ck_assert_uint_eq(vm->ram[a + 0x20], 0x9d);
	/* Child b, another copy: a matches it first, with less patched. */
	memcpy(vm->ram + b, vm->ram + parent, 0x1000);
	scan_from(vm->scan, b);
	ck_assert_uint_eq(vm->ram[b + 0x20], 0x9d);      /* not a stray int3 */
	ck_assert_ptr_nonnull(scan_patched_insn(vm->scan, b));
}
END_TEST

static Suite *scan_suite(void)
{
	Suite *s = suite_create("scan");
	TCase *t = tcase_create("classify");

	tcase_add_test(t, test_silent_sensitive_instructions_are_patched);
	tcase_add_test(t, test_indirect_transfers_are_patched_and_direct_ones_followed);
	tcase_add_test(t, test_ordinary_and_self_trapping_instructions_run_natively);
	suite_add_tcase(s, t);

	t = tcase_create("scan");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_scan_patches_in_place_and_opens_the_frame);
	tcase_add_test(t, test_bytes_not_reached_by_control_flow_are_left_alone);
	tcase_add_test(t, test_a_target_in_an_unrun_page_is_scanned_when_that_page_runs);
	tcase_add_test(t, test_a_target_in_a_scanned_page_is_vetted_at_once);
	tcase_add_test(t, test_an_instruction_straddling_two_pages_opens_both);
	tcase_add_test(t, test_an_unvetted_offset_in_an_open_frame_is_scanned_at_resume);
	tcase_add_test(t, test_a_write_restores_the_frame_and_the_rescan_covers_calls_into_it);
	tcase_add_test(t, test_a_rewritten_frame_is_not_rescanned_from_its_old_starts);
	tcase_add_test(t, test_a_call_from_a_rewritten_frame_is_forgotten);
	tcase_add_test(t, test_a_frame_scanned_in_another_mode_is_rescanned);
	tcase_add_test(t, test_starts_vetted_in_32bit_mode_are_not_rescanned_in_64bit_mode);
	tcase_add_test(t, test_data_on_a_code_page_is_not_code);
	tcase_add_test(t, test_a_copy_of_a_patched_frame_gets_the_original_bytes);
	tcase_add_test(t, test_a_real_int3_in_a_page_unlike_any_other_stays);
	tcase_add_test(t, test_a_copy_matched_first_by_a_partial_copy_still_gets_everything);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(scan_suite)
