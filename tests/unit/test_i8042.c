/*
 * The 8042 keyboard controller: what xv6's kbdgetc sees with no key, and
 * the replies and interrupts of the commands kernels send at start-up,
 * checked against the PC/AT technical reference.
 */
#include <check.h>
#include <string.h>

#include "check-main.h"
#include "dev/i8042.h"
#include "dev/io.h"

#define OBF 0x01
#define SYS 0x04
#define CMD 0x08

static struct io_bus bus;
static struct i8042 *k;
static unsigned raises, lowers, resets;
static bool level;

static void record_irq(void *opaque, unsigned line, bool up)
{
	ck_assert_uint_eq(line, 1);
	if (up)
		raises++;
	else
		lowers++;
	level = up;
}

static void record_reset(void *opaque)
{
	resets++;
}

static void setup(void)
{
	memset(&bus, 0, sizeof(bus));
	raises = lowers = resets = 0;
	level = false;
	k = i8042_create((struct irq_line){ record_irq, NULL, I8042_IRQ },
			 record_reset, NULL);
	ck_assert_ptr_nonnull(k);
	i8042__register(k, &bus);
}

static void teardown(void)
{
	i8042_destroy(k);
}

static uint8_t inb(uint16_t port)
{
	uint32_t v = 0xdeadbeef;

	io_port(&bus, port, 1, false, &v);
	return (uint8_t)v;
}

static void outb(uint16_t port, uint8_t v)
{
	uint32_t x = v;

	io_port(&bus, port, 1, true, &x);
}

START_TEST(test_no_key_pending_at_start)
{
	/* kbdgetc: if((inb(0x64) & KBS_DIB) == 0) return -1; */
	ck_assert_uint_eq(inb(0x64) & OBF, 0);
	ck_assert_uint_eq(inb(0x64) & SYS, SYS);
	ck_assert_uint_eq(raises, 0);
}
END_TEST

START_TEST(test_self_test_replies_0x55_with_irq1)
{
	outb(0x64, 0xaa);
	ck_assert_uint_eq(inb(0x64) & (OBF | CMD), OBF | CMD);
	ck_assert_uint_eq(raises, 1);
	ck_assert_uint_eq(inb(0x60), 0x55);
	ck_assert_uint_eq(inb(0x64) & OBF, 0);
	ck_assert(!level);
}
END_TEST

START_TEST(test_command_byte_reads_back_what_was_written)
{
	outb(0x64, 0x60);
	outb(0x60, 0x44);                 /* interrupts off */
	outb(0x64, 0x20);
	ck_assert_uint_eq(raises, 0);
	ck_assert_uint_eq(inb(0x60), 0x44);
	ck_assert_uint_eq(inb(0x64) & CMD, CMD);  /* last write: a command */
}
END_TEST

START_TEST(test_keyboard_reset_acks_then_passes)
{
	outb(0x60, 0xff);
	ck_assert_uint_eq(inb(0x60), 0xfa);
	ck_assert_uint_eq(inb(0x64) & OBF, OBF);
	ck_assert_uint_eq(inb(0x60), 0xaa);
	ck_assert_uint_eq(inb(0x64) & OBF, 0);
	ck_assert_uint_eq(raises, 2);     /* one edge per byte */
}
END_TEST

START_TEST(test_led_command_takes_its_argument)
{
	outb(0x60, 0xed);
	ck_assert_uint_eq(inb(0x60), 0xfa);
	outb(0x60, 0x07);
	ck_assert_uint_eq(inb(0x60), 0xfa);
	ck_assert_uint_eq(inb(0x64) & OBF, 0);
}
END_TEST

START_TEST(test_empty_data_read_repeats_the_last_byte)
{
	outb(0x64, 0xab);
	ck_assert_uint_eq(inb(0x60), 0x00);
	outb(0x64, 0xaa);
	ck_assert_uint_eq(inb(0x60), 0x55);
	ck_assert_uint_eq(inb(0x60), 0x55);
}
END_TEST

START_TEST(test_reset_pulse_asks_for_a_reset)
{
	outb(0x64, 0xad);                 /* harmless ones first */
	outb(0x64, 0xae);
	outb(0x64, 0xa7);
	ck_assert_uint_eq(resets, 0);
	outb(0x64, 0xfe);
	ck_assert_uint_eq(resets, 1);
	outb(0x64, 0xd1);
	outb(0x60, 0x02);                 /* output port, reset bit low */
	ck_assert_uint_eq(resets, 2);
}
END_TEST

static Suite *i8042_suite(void)
{
	Suite *s = suite_create("i8042");
	TCase *t = tcase_create("i8042");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_no_key_pending_at_start);
	tcase_add_test(t, test_self_test_replies_0x55_with_irq1);
	tcase_add_test(t, test_command_byte_reads_back_what_was_written);
	tcase_add_test(t, test_keyboard_reset_acks_then_passes);
	tcase_add_test(t, test_led_command_takes_its_argument);
	tcase_add_test(t, test_empty_data_read_repeats_the_last_byte);
	tcase_add_test(t, test_reset_pulse_asks_for_a_reset);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(i8042_suite)
