/*
 * The real-time clock at ports 0x70/0x71, on a clock the test sets: the
 * time in BCD and binary, 12- and 24-hour form, the update-in-progress
 * bit at the end of each second, register C's flags, a guest setting
 * the time, and CMOS bytes kept as memory.
 */
#include <check.h>
#include <stdlib.h>

#include "check-main.h"
#include "dev/rtc.h"

#define NS 1000000000ull

/* 2026-11-26 13:45:07 UTC, a Thursday. */
#define T0 1795700707ull

static uint64_t clock_ns;
static struct rtc *rtc;

static uint64_t test_clock(void)
{
	return clock_ns;
}

static void setup(void)
{
	clock_ns = T0 * NS + 500000000ull;
	rtc = rtc_create(test_clock);
	ck_assert_ptr_nonnull(rtc);
}

static void teardown(void)
{
	rtc_destroy(rtc);
}

static uint8_t rd(uint8_t reg)
{
	uint32_t v = reg;

	rtc_io(rtc, RTC_INDEX_PORT, 1, true, &v);
	rtc_io(rtc, RTC_DATA_PORT, 1, false, &v);
	return (uint8_t)v;
}

static void wr(uint8_t reg, uint8_t val)
{
	uint32_t v = reg;

	rtc_io(rtc, RTC_INDEX_PORT, 1, true, &v);
	v = val;
	rtc_io(rtc, RTC_DATA_PORT, 1, true, &v);
}

START_TEST(test_time_reads_in_bcd_24_hour_form_by_default)
{
	ck_assert_uint_eq(rd(0x00), 0x07);
	ck_assert_uint_eq(rd(0x02), 0x45);
	ck_assert_uint_eq(rd(0x04), 0x13);
	ck_assert_uint_eq(rd(0x06), 0x05);          /* Thursday: day 5 */
	ck_assert_uint_eq(rd(0x07), 0x26);
	ck_assert_uint_eq(rd(0x08), 0x11);
	ck_assert_uint_eq(rd(0x09), 0x26);
	ck_assert_uint_eq(rd(0x32), 0x20);
	ck_assert_uint_eq(rd(0x0d), 0x80);          /* valid RAM and time */
}
END_TEST

START_TEST(test_binary_and_12_hour_forms_follow_register_b)
{
	wr(0x0b, 0x04);                             /* binary, 12-hour */
	ck_assert_uint_eq(rd(0x02), 45);
	ck_assert_uint_eq(rd(0x04), 0x80 | 1);      /* 1 pm */
}
END_TEST

START_TEST(test_update_in_progress_only_in_the_last_244_us)
{
	ck_assert(!(rd(0x0a) & 0x80));
	clock_ns = T0 * NS + NS - 100000;           /* 100 us before */
	ck_assert(rd(0x0a) & 0x80);
	clock_ns = (T0 + 1) * NS;
	ck_assert(!(rd(0x0a) & 0x80));
	ck_assert_uint_eq(rd(0x0a), 0x26);          /* divider kept */
}
END_TEST

START_TEST(test_register_c_reports_updates_and_alarms_then_clears)
{
	ck_assert_uint_eq(rd(0x0c), 0);             /* no second passed */
	wr(0x01, 0x09);                             /* alarm at :09 */
	wr(0x03, 0xff);
	wr(0x05, 0xff);
	clock_ns += NS;                             /* :08 */
	ck_assert_uint_eq(rd(0x0c), 0x10);          /* UF only */
	clock_ns += NS;                             /* :09 */
	wr(0x0b, 0x02 | 0x20);                      /* AIE */
	ck_assert_uint_eq(rd(0x0c), 0x80 | 0x20 | 0x10);
	ck_assert_uint_eq(rd(0x0c), 0);             /* read clears */
}
END_TEST

START_TEST(test_guest_sets_the_time_and_it_runs_on)
{
	wr(0x04, 0x08);                             /* 08 h */
	wr(0x09, 0x30);                             /* year 30 */
	ck_assert_uint_eq(rd(0x04), 0x08);
	ck_assert_uint_eq(rd(0x09), 0x30);
	ck_assert_uint_eq(rd(0x02), 0x45);
	clock_ns += 60 * NS;
	ck_assert_uint_eq(rd(0x02), 0x46);
}
END_TEST

START_TEST(test_other_cmos_bytes_are_memory)
{
	uint32_t v = 0;

	wr(0x40, 0xa5);
	ck_assert_uint_eq(rd(0x40), 0xa5);
	wr(0x0d, 0);                                /* read-only */
	ck_assert_uint_eq(rd(0x0d), 0x80);
	rtc_io(rtc, RTC_INDEX_PORT, 1, false, &v);
	ck_assert_uint_eq(v, 0xff);                 /* index: write-only */
}
END_TEST

static Suite *rtc_suite(void)
{
	Suite *s = suite_create("rtc");
	TCase *t = tcase_create("rtc");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_time_reads_in_bcd_24_hour_form_by_default);
	tcase_add_test(t, test_binary_and_12_hour_forms_follow_register_b);
	tcase_add_test(t, test_update_in_progress_only_in_the_last_244_us);
	tcase_add_test(t, test_register_c_reports_updates_and_alarms_then_clears);
	tcase_add_test(t, test_guest_sets_the_time_and_it_runs_on);
	tcase_add_test(t, test_other_cmos_bytes_are_memory);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(rtc_suite)
