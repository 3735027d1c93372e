/*
 * Running ahead of a trap: what the monitor emulates after a trap, and
 * where it stops and lets the guest run natively again.
 */
#include <check.h>
#include <string.h>

#include "engine/ahead.h"
#include "cpu/decode.h"
#include "check-main.h"
#include "harness.h"
#include "engine/scan.h"

static struct vm *vm;

static void setup(void)
{
	vm = harness_vm_scan();
	vm->opt.run_ahead = true;
	memset(&vm->stats, 0, sizeof(vm->stats));
}

static void code(const char *bytes, size_t n)
{
	harness_poke(vm, CODE_GPA, bytes, n);
	scan_from(vm->scan, CODE_GPA);
	vm->cpu.rip = CODE_GPA;
}

#define CODE(bytes) code(bytes, sizeof(bytes) - 1)

START_TEST(test_a_chain_of_trapping_instructions_costs_one_trap)
{
	/* cli; nop; sti; nop; hlt */
	CODE("\xfa\x90\xfb\x90\xf4");
	ahead_run(vm->ahead);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->run, 5);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->trappers, 3);
	ck_assert(vm->cpu.halted);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 5);
}
END_TEST

START_TEST(test_patched_instructions_are_emulated_from_their_originals)
{
	/* pushfq (patched by the scanner); pop rax; hlt */
	vm->cpu.rflags |= RFLAGS_IF;
	CODE("\x9c\x58\xf4");
	ck_assert_uint_eq(vm->ram[CODE_GPA], 0xcc);
	ahead_run(vm->ahead);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->trappers, 2);
	ck_assert(vm->cpu.gpr[RAX] & RFLAGS_IF);      /* the virtual IF */
	ck_assert(vm->cpu.halted);
}
END_TEST

START_TEST(test_ordinary_code_runs_natively_after_a_few_instructions)
{
	char nops[AHEAD_PLAIN_RUN + 3];

	memset(nops, 0x90, sizeof(nops) - 1);
	nops[sizeof(nops) - 1] = (char)0xfa;           /* then cli */
	code(nops, sizeof(nops));
	ahead_run(vm->ahead);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->run, AHEAD_PLAIN_RUN);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + AHEAD_PLAIN_RUN);
	/* The same start again: remembered as leading nowhere. */
	vm->cpu.rip = CODE_GPA;
	ahead_run(vm->ahead);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->run, AHEAD_PLAIN_RUN);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA);
}
END_TEST

START_TEST(test_a_read_of_device_memory_counts_as_a_trapper)
{
	/* nops, mov (%rbx),%ecx from the local APIC's ID, nops, hlt: with
	 * as many nops on each side as make a run on their own, the read
	 * (which would have trapped) keeps the monitor going to the hlt. */
	char c[2 * (AHEAD_PLAIN_RUN - 1) + 3];

	harness_map_devices(vm);
	memset(c, 0x90, sizeof(c));
	c[AHEAD_PLAIN_RUN - 1] = (char)0x8b;
	c[AHEAD_PLAIN_RUN] = 0x0b;
	c[sizeof(c) - 1] = (char)0xf4;
	vm->cpu.gpr[RBX] = 0xfee00020;
	vm->cpu.gpr[RCX] = 0x1234;
	code(c, sizeof(c));
	ahead_run(vm->ahead);
	ck_assert(vm->cpu.halted);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->run, 2 * (AHEAD_PLAIN_RUN - 1) + 2);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->trappers, 2);
	ck_assert_uint_eq(vm->cpu.gpr[RCX], 0);       /* APIC ID 0 */
}
END_TEST

START_TEST(test_code_that_changed_is_decoded_anew)
{
	uint64_t runs;

	/* cli; hlt, run ahead; then the guest rewrites it as sti; hlt.
	 * What was remembered of the first pass is stale: until the new
	 * code is scanned nothing runs ahead, and then the new code does. */
	CODE("\xfa\xf4");
	ahead_run(vm->ahead);
	ck_assert(vm->cpu.halted);
	scan_code_written(vm->scan, CODE_GPA);
	harness_poke(vm, CODE_GPA, "\xfb\xf4", 2);
	vm->cpu.halted = false;
	vm->cpu.rip = CODE_GPA;
	runs = ahead_stats(vm->ahead)->run;
	ahead_run(vm->ahead);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->run, runs);
	ck_assert(!vm->cpu.halted);
	code("\xfb\xf4", 2);
	ahead_run(vm->ahead);
	ck_assert(vm->cpu.halted);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
}
END_TEST

START_TEST(test_a_remembered_patch_whose_decode_was_replaced_is_decoded_anew)
{
	/* pushfq (patched); pop rax; hlt, run ahead twice.  Between the
	 * passes the decoder's slot for CODE_GPA goes to a cli elsewhere
	 * (0x300000 shares it): the second pass must still push flags. */
	vm->cpu.rflags |= RFLAGS_IF;
	CODE("\x9c\x58\xf4");
	ahead_run(vm->ahead);
	ck_assert(vm->cpu.gpr[RAX] & RFLAGS_IF);
	decode(vm->cpu.dec, MODE_LONG64, 0x300000, (const uint8_t *)"\xfa", 1);
	vm->cpu.halted = false;
	vm->cpu.rip = CODE_GPA;
	vm->cpu.gpr[RAX] = 0;
	ahead_run(vm->ahead);
	ck_assert(vm->cpu.halted);
	ck_assert(vm->cpu.gpr[RAX] & RFLAGS_IF);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
}
END_TEST

START_TEST(test_unscanned_code_is_left_to_the_scanner)
{
	harness_poke(vm, CODE_GPA, "\xfa\xf4", 2);
	vm->cpu.rip = CODE_GPA;
	ahead_run(vm->ahead);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->run, 0);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA);
}
END_TEST

START_TEST(test_it_stops_where_an_interrupt_is_taken)
{
	/* sti; nop; nop; cli with an interrupt pending: after sti's shadow
	 * (one instruction) the interrupt comes first. */
	vm->cpu.rflags &= ~RFLAGS_IF;
	vm->cpu.irq.pv_timer_pending = true;
	CODE("\xfb\x90\x90\xfa");
	ahead_run(vm->ahead);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->run, 2);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 2);
	ck_assert(vm->cpu.rflags & RFLAGS_IF);
}
END_TEST

START_TEST(test_it_stops_at_an_exception)
{
	/* cli; ud2; hlt: the #UD is pending, the hlt never reached */
	CODE("\xfa\x0f\x0b\xf4");
	ahead_run(vm->ahead);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA + 1);
	ck_assert(!vm->cpu.halted);
}
END_TEST

START_TEST(test_a_single_stepping_guest_is_not_run_ahead)
{
	vm->cpu.rflags |= RFLAGS_TF;
	CODE("\xfa\xfa\xf4");
	ahead_run(vm->ahead);
	ck_assert_uint_eq(ahead_stats(vm->ahead)->run, 0);
	ck_assert_uint_eq(vm->cpu.rip, CODE_GPA);
}
END_TEST

static Suite *ahead_suite(void)
{
	Suite *s = suite_create("ahead");
	TCase *t = tcase_create("ahead");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_a_chain_of_trapping_instructions_costs_one_trap);
	tcase_add_test(t, test_patched_instructions_are_emulated_from_their_originals);
	tcase_add_test(t, test_ordinary_code_runs_natively_after_a_few_instructions);
	tcase_add_test(t, test_a_read_of_device_memory_counts_as_a_trapper);
	tcase_add_test(t, test_code_that_changed_is_decoded_anew);
	tcase_add_test(t, test_a_remembered_patch_whose_decode_was_replaced_is_decoded_anew);
	tcase_add_test(t, test_unscanned_code_is_left_to_the_scanner);
	tcase_add_test(t, test_it_stops_where_an_interrupt_is_taken);
	tcase_add_test(t, test_it_stops_at_an_exception);
	tcase_add_test(t, test_a_single_stepping_guest_is_not_run_ahead);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(ahead_suite)
