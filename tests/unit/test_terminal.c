/*
 * The terminal's Ctrl-A escapes, as QEMU's -nographic has them: what
 * reaches the guest and what the monitor is asked to do.
 */
#include <check.h>
#include <string.h>

#include "check-main.h"
#include "host/terminal.h"

static bool armed;
static enum terminal_action act;
static uint8_t buf[64];

/* Filter s; the bytes left, as a string. */
static const char *filter(const char *s)
{
	static char out[64];
	size_t n = strlen(s);

	memcpy(buf, s, n);
	n = terminal_escapes(&armed, buf, n, &act);
	memcpy(out, buf, n);
	out[n] = 0;
	return out;
}

static void setup(void)
{
	armed = false;
	act = TERM_NONE;
}

START_TEST(test_plain_bytes_and_ctrl_c_pass)
{
	ck_assert_str_eq(filter("ls\003\r"), "ls\003\r");
	ck_assert_int_eq(act, TERM_NONE);
}
END_TEST

START_TEST(test_ctrl_a_twice_is_one_ctrl_a)
{
	ck_assert_str_eq(filter("a\001\001b"), "a\001b");
	ck_assert_int_eq(act, TERM_NONE);
	ck_assert(!armed);
}
END_TEST

START_TEST(test_ctrl_a_x_quits_and_drops_the_rest)
{
	ck_assert_str_eq(filter("ab\001xcd"), "ab");
	ck_assert_int_eq(act, TERM_QUIT);
}
END_TEST

START_TEST(test_escape_split_across_reads)
{
	ck_assert_str_eq(filter("a\001"), "a");
	ck_assert(armed);
	ck_assert_str_eq(filter("x"), "");
	ck_assert_int_eq(act, TERM_QUIT);
}
END_TEST

START_TEST(test_ctrl_a_h_asks_for_help)
{
	ck_assert_str_eq(filter("\001hz"), "z");
	ck_assert_int_eq(act, TERM_HELP);
}
END_TEST

START_TEST(test_unknown_escape_is_dropped)
{
	ck_assert_str_eq(filter("\001c1"), "1");
	ck_assert_int_eq(act, TERM_NONE);
}
END_TEST

static Suite *terminal_suite(void)
{
	Suite *s = suite_create("terminal");
	TCase *t = tcase_create("escapes");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_plain_bytes_and_ctrl_c_pass);
	tcase_add_test(t, test_ctrl_a_twice_is_one_ctrl_a);
	tcase_add_test(t, test_ctrl_a_x_quits_and_drops_the_rest);
	tcase_add_test(t, test_escape_split_across_reads);
	tcase_add_test(t, test_ctrl_a_h_asks_for_help);
	tcase_add_test(t, test_unknown_escape_is_dropped);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(terminal_suite)
