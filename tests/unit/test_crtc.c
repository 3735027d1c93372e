/*
 * The CRT controller: the cursor location as xv6's cgaputc writes and
 * reads it back, the 16-bit form of the same, and unknown indexes.
 */
#include <check.h>
#include <string.h>

#include "check-main.h"
#include "dev/crtc.h"
#include "dev/io.h"

static struct io_bus bus;
static struct crtc *c;

static void setup(void)
{
	memset(&bus, 0, sizeof(bus));
	c = crtc_create();
	ck_assert_ptr_nonnull(c);
	crtc__register(c, &bus);
}

static void teardown(void)
{
	crtc_destroy(c);
}

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	io_port(&bus, port, size, false, &v);
	return v;
}

static void out(uint16_t port, unsigned size, uint32_t v)
{
	io_port(&bus, port, size, true, &v);
}

/* cgaputc's read of the cursor position. */
static unsigned cursor(void)
{
	unsigned pos;

	out(0x3d4, 1, 14);
	pos = in(0x3d5, 1) << 8;
	out(0x3d4, 1, 15);
	pos |= in(0x3d5, 1);
	return pos;
}

START_TEST(test_cursor_starts_at_zero)
{
	ck_assert_uint_eq(cursor(), 0);
}
END_TEST

START_TEST(test_cursor_reads_back_as_cgaputc_wrote_it)
{
	unsigned pos = 24 * 80 + 17;

	out(0x3d4, 1, 14);
	out(0x3d5, 1, pos >> 8);
	out(0x3d4, 1, 15);
	out(0x3d5, 1, pos & 0xff);
	ck_assert_uint_eq(cursor(), pos);
	ck_assert_uint_eq(in(0x3d4, 1), 15);       /* the index reads back */
}
END_TEST

START_TEST(test_word_write_sets_index_and_data)
{
	out(0x3d4, 2, 0x0e | 0x07 << 8);
	out(0x3d4, 2, 0x0f | 0xd0 << 8);
	ck_assert_uint_eq(cursor(), 0x07d0);
}
END_TEST

START_TEST(test_registers_are_those_of_80_column_text)
{
	out(0x3d4, 1, 0x01);                      /* horizontal display end */
	ck_assert_uint_eq(in(0x3d5, 1), 79);
	out(0x3d4, 1, 0x40);                      /* no such register */
	ck_assert_uint_eq(in(0x3d5, 1), 0xff);
	out(0x3d5, 1, 0x12);
	ck_assert_uint_eq(in(0x3d5, 1), 0xff);
}
END_TEST

static Suite *crtc_suite(void)
{
	Suite *s = suite_create("crtc");
	TCase *t = tcase_create("crtc");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_cursor_starts_at_zero);
	tcase_add_test(t, test_cursor_reads_back_as_cgaputc_wrote_it);
	tcase_add_test(t, test_word_write_sets_index_and_data);
	tcase_add_test(t, test_registers_are_those_of_80_column_text);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(crtc_suite)
