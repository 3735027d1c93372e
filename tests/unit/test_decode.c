/*
 * The decoder: Capstone behind a cache keyed by RIP.  Each test decodes
 * bytes as the trap path would and checks the instruction, the cache
 * counters, and that a decode never outlives the bytes it came from.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "cpu/decode.h"

#define RIP 0x201000ull

#define DECODE(mode, rip, bytes) \
	decode(dec, mode, rip, (const uint8_t *)(bytes), sizeof(bytes) - 1)

static struct decoder *dec;

static void setup(void)
{
	dec = decoder_create();
	ck_assert_ptr_nonnull(dec);
}

static void teardown(void)
{
	decoder_destroy(dec);
}

static struct decode_stats stats(void)
{
	struct decode_stats st;

	decoder_stats(dec, &st);
	return st;
}

static void assert_insn(const cs_insn *i, unsigned id, unsigned size)
{
	ck_assert_ptr_nonnull(i);
	ck_assert_msg(i->id == id, "decoded %s %s (id %u), want id %u",
		      i->mnemonic, i->op_str, i->id, id);
	ck_assert_uint_eq(i->size, size);
}

/* ---- instructions ---- */

START_TEST(test_cli_decodes_as_one_byte_cli)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\xfa"), X86_INS_CLI, 1);
}
END_TEST

START_TEST(test_mov_cr3_rax_decodes_with_cr3_and_rax_operands)
{
	const cs_insn *i = DECODE(MODE_LONG64, RIP, "\x0f\x22\xd8");
	const cs_x86 *x;

	assert_insn(i, X86_INS_MOV, 3);
	ck_assert_ptr_nonnull(i->detail);
	x = &i->detail->x86;
	ck_assert_uint_eq(x->op_count, 2);
	ck_assert_int_eq(x->operands[0].type, X86_OP_REG);
	ck_assert_int_eq(x->operands[0].reg, X86_REG_CR3);
	ck_assert_int_eq(x->operands[1].type, X86_OP_REG);
	ck_assert_int_eq(x->operands[1].reg, X86_REG_RAX);
}
END_TEST

START_TEST(test_out_dx_al_decodes_as_one_byte_out)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\xee"), X86_INS_OUT, 1);
}
END_TEST

START_TEST(test_only_the_first_instruction_is_decoded)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\xfa\xf4\x90"), X86_INS_CLI, 1);
}
END_TEST

START_TEST(test_decode_reports_the_guest_rip_as_address)
{
	const cs_insn *i = DECODE(MODE_LONG64, RIP, "\xee");

	ck_assert_ptr_nonnull(i);
	ck_assert_uint_eq(i->address, RIP);
}
END_TEST

START_TEST(test_bytes_that_are_no_instruction_return_null)
{
	ck_assert_ptr_null(DECODE(MODE_LONG64, RIP, "\xff\xff"));
	/* push es does not exist in 64-bit mode. */
	ck_assert_ptr_null(DECODE(MODE_LONG64, RIP + 0x10, "\x06"));
}
END_TEST

START_TEST(test_bytes_shorter_than_the_instruction_return_null)
{
	ck_assert_ptr_null(DECODE(MODE_LONG64, RIP, "\x0f\x22"));
	ck_assert_ptr_null(DECODE(MODE_LONG64, RIP + 0x10, "\x48"));
	ck_assert_ptr_null(decode(dec, MODE_LONG64, RIP + 0x20,
				  (const uint8_t *)"\xfa", 0));
}
END_TEST

/* ---- modes ---- */

START_TEST(test_compat_mode_decodes_0x48_as_dec_eax)
{
	assert_insn(DECODE(MODE_COMPAT, RIP, "\x48\x89\xc3"), X86_INS_DEC, 1);
}
END_TEST

START_TEST(test_long_mode_decodes_0x48_as_a_rex_prefix)
{
	const cs_insn *i = DECODE(MODE_LONG64, RIP, "\x48\x89\xc3");

	assert_insn(i, X86_INS_MOV, 3);          /* mov rbx, rax */
	ck_assert_int_eq(i->detail->x86.operands[0].reg, X86_REG_RBX);
}
END_TEST

START_TEST(test_compat_mode_decodes_push_es)
{
	assert_insn(DECODE(MODE_COMPAT, RIP, "\x06"), X86_INS_PUSH, 1);
}
END_TEST

/* ---- the cache ---- */

START_TEST(test_second_decode_of_the_same_bytes_at_a_rip_is_a_hit)
{
	const cs_insn *i;

	assert_insn(DECODE(MODE_LONG64, RIP, "\x0f\x22\xd8"), X86_INS_MOV, 3);
	ck_assert_uint_eq(stats().misses, 1);
	ck_assert_uint_eq(stats().hits, 0);
	i = DECODE(MODE_LONG64, RIP, "\x0f\x22\xd8");
	assert_insn(i, X86_INS_MOV, 3);
	ck_assert_int_eq(i->detail->x86.operands[0].reg, X86_REG_CR3);
	ck_assert_uint_eq(stats().misses, 1);
	ck_assert_uint_eq(stats().hits, 1);
}
END_TEST

START_TEST(test_the_cache_says_whether_it_still_holds_an_instruction)
{
	/* 0x1000 and 0x101000 share a slot; 48 89 c3 means one thing in
	 * each mode. */
	const cs_insn *i = DECODE(MODE_LONG64, 0x1000, "\x48\x89\xc3");

	ck_assert(decode_holds(dec, MODE_LONG64, 0x1000, i));
	ck_assert(!decode_holds(dec, MODE_COMPAT, 0x1000, i));
	DECODE(MODE_COMPAT, 0x1000, "\x48\x89\xc3");
	ck_assert(!decode_holds(dec, MODE_LONG64, 0x1000, i));
	i = DECODE(MODE_LONG64, 0x1000, "\x48\x89\xc3");
	ck_assert(decode_holds(dec, MODE_LONG64, 0x1000, i));
	DECODE(MODE_LONG64, 0x101000, "\x90");
	ck_assert(!decode_holds(dec, MODE_LONG64, 0x1000, i));
}
END_TEST

START_TEST(test_new_bytes_at_a_cached_rip_miss_and_decode_afresh)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\xfa"), X86_INS_CLI, 1);
	/* The guest rewrote its code: cli became sti. */
	assert_insn(DECODE(MODE_LONG64, RIP, "\xfb"), X86_INS_STI, 1);
	ck_assert_uint_eq(stats().misses, 2);
	ck_assert_uint_eq(stats().hits, 0);
	/* And a longer instruction over the same first byte. */
	assert_insn(DECODE(MODE_LONG64, RIP, "\x0f\x22\xd8"), X86_INS_MOV, 3);
	assert_insn(DECODE(MODE_LONG64, RIP, "\x0f\x20\xd8"), X86_INS_MOV, 3);
	ck_assert_int_eq(DECODE(MODE_LONG64, RIP, "\x0f\x20\xd8")
			 ->detail->x86.operands[0].reg, X86_REG_RAX);
}
END_TEST

START_TEST(test_a_changed_last_byte_is_not_a_hit)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\xe6\xf8"), X86_INS_OUT, 2);
	assert_insn(DECODE(MODE_LONG64, RIP, "\xe6\xf4"), X86_INS_OUT, 2);
	ck_assert_uint_eq(stats().hits, 0);
	ck_assert_int_eq(DECODE(MODE_LONG64, RIP, "\xe6\xf4")
			 ->detail->x86.operands[0].imm, 0xf4);
}
END_TEST

START_TEST(test_same_bytes_at_another_rip_decode_on_their_own)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\xfa"), X86_INS_CLI, 1);
	assert_insn(DECODE(MODE_LONG64, RIP + 1, "\xfa"), X86_INS_CLI, 1);
	ck_assert_uint_eq(stats().misses, 2);
	ck_assert_uint_eq(DECODE(MODE_LONG64, RIP + 1, "\xfa")->address,
			  RIP + 1);
}
END_TEST

START_TEST(test_same_rip_in_another_mode_is_not_a_hit)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\x48\x89\xc3"), X86_INS_MOV, 3);
	assert_insn(DECODE(MODE_COMPAT, RIP, "\x48\x89\xc3"), X86_INS_DEC, 1);
	ck_assert_uint_eq(stats().hits, 0);
}
END_TEST

START_TEST(test_cached_rip_with_too_few_bytes_left_returns_null)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\x0f\x22\xd8"), X86_INS_MOV, 3);
	ck_assert_ptr_null(DECODE(MODE_LONG64, RIP, "\x0f\x22"));
}
END_TEST

START_TEST(test_failed_decode_does_not_leave_a_stale_entry)
{
	assert_insn(DECODE(MODE_LONG64, RIP, "\xfa"), X86_INS_CLI, 1);
	ck_assert_ptr_null(DECODE(MODE_LONG64, RIP, "\x06"));
	ck_assert_ptr_null(DECODE(MODE_LONG64, RIP, "\x06"));
	assert_insn(DECODE(MODE_LONG64, RIP, "\xfa"), X86_INS_CLI, 1);
}
END_TEST

static Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *t;

	t = tcase_create("instructions");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_cli_decodes_as_one_byte_cli);
	tcase_add_test(t, test_mov_cr3_rax_decodes_with_cr3_and_rax_operands);
	tcase_add_test(t, test_out_dx_al_decodes_as_one_byte_out);
	tcase_add_test(t, test_only_the_first_instruction_is_decoded);
	tcase_add_test(t, test_decode_reports_the_guest_rip_as_address);
	tcase_add_test(t, test_bytes_that_are_no_instruction_return_null);
	tcase_add_test(t, test_bytes_shorter_than_the_instruction_return_null);
	suite_add_tcase(s, t);

	t = tcase_create("modes");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_compat_mode_decodes_0x48_as_dec_eax);
	tcase_add_test(t, test_long_mode_decodes_0x48_as_a_rex_prefix);
	tcase_add_test(t, test_compat_mode_decodes_push_es);
	suite_add_tcase(s, t);

	t = tcase_create("cache");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_second_decode_of_the_same_bytes_at_a_rip_is_a_hit);
	tcase_add_test(t, test_new_bytes_at_a_cached_rip_miss_and_decode_afresh);
	tcase_add_test(t, test_a_changed_last_byte_is_not_a_hit);
	tcase_add_test(t, test_same_bytes_at_another_rip_decode_on_their_own);
	tcase_add_test(t, test_same_rip_in_another_mode_is_not_a_hit);
	tcase_add_test(t, test_cached_rip_with_too_few_bytes_left_returns_null);
	tcase_add_test(t, test_failed_decode_does_not_leave_a_stale_entry);
	tcase_add_test(t, test_the_cache_says_whether_it_still_holds_an_instruction);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(decode_suite)
