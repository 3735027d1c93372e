/*
 * The I/O APIC with a real local APIC behind it: the register window,
 * which bits of the ID and the redirection entries are writable, edge
 * and level delivery, remote IRR and its EOI, masking.
 */
#include <check.h>
#include <string.h>

#include "check-main.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "dev/timer.h"

static struct timers ts;
static struct lapic *l;
static struct ioapic *io;

static uint64_t no_tsc(void *opaque)
{
	return 0;
}

static void setup(void)
{
	memset(&ts, 0, sizeof(ts));
	l = lapic_create(&ts, 1000000, no_tsc, NULL);
	io = ioapic_create(l);
	ck_assert_ptr_nonnull(io);
	lapic_set_eoi_hook(l, ioapic_eoi, io);
}

static void teardown(void)
{
	ioapic_destroy(io);
	lapic_destroy(l);
}

static uint32_t rd(uint32_t idx)
{
	uint64_t v = idx;

	ioapic_mmio(io, 0, 4, true, &v);
	ioapic_mmio(io, 0x10, 4, false, &v);
	return (uint32_t)v;
}

static void wr(uint32_t idx, uint32_t val)
{
	uint64_t v = idx;

	ioapic_mmio(io, 0, 4, true, &v);
	v = val;
	ioapic_mmio(io, 0x10, 4, true, &v);
}

static void eoi(void)
{
	uint64_t v = 0;

	lapic_mmio(l, 0xb0, 4, true, &v);
}

START_TEST(test_version_and_id_registers)
{
	ck_assert_uint_eq(rd(1), 0x170020);
	wr(1, 0);
	ck_assert_uint_eq(rd(1), 0x170020);
	wr(0, 0xffffffff);
	ck_assert_uint_eq(rd(0), 0x0f000000);
	ck_assert_uint_eq(rd(2), 0x0f000000);          /* arbitration ID */
	ck_assert_uint_eq(rd(0x10) & 0x10000, 0x10000);    /* masked */
}
END_TEST

START_TEST(test_redirection_entry_read_only_bits)
{
	wr(0x10 + 2 * 5, 0xffffffff);
	ck_assert_uint_eq(rd(0x10 + 2 * 5), 0x1afff);  /* no status, no IRR */
	wr(0x11 + 2 * 5, 0xffffffff);
	ck_assert_uint_eq(rd(0x11 + 2 * 5), 0xff000000);
}
END_TEST

START_TEST(test_edge_pin_delivers_on_rising_edges)
{
	wr(0x10 + 2 * 3, 0x60);                        /* edge, unmasked */
	ioapic_set_irq(io, 3, true);
	ioapic_set_irq(io, 3, true);                   /* no new edge */
	ck_assert_int_eq(lapic_ack(l), 0x60);
	eoi();
	ck_assert(!lapic_pending(l));
	ioapic_set_irq(io, 3, false);
	ioapic_set_irq(io, 3, true);
	ck_assert_int_eq(lapic_ack(l), 0x60);
}
END_TEST

START_TEST(test_level_pin_holds_remote_irr_until_eoi)
{
	wr(0x10 + 2 * 14, 0x70 | (1 << 15));
	ioapic_set_irq(io, 14, true);
	ck_assert_uint_eq(rd(0x10 + 2 * 14) >> 14 & 1, 1);
	ck_assert_int_eq(lapic_ack(l), 0x70);
	eoi();                                         /* line still up */
	ck_assert_int_eq(lapic_ack(l), 0x70);          /* delivered again */
	ioapic_set_irq(io, 14, false);
	eoi();
	ck_assert_uint_eq(rd(0x10 + 2 * 14) >> 14 & 1, 0);
	ck_assert(!lapic_pending(l));
}
END_TEST

START_TEST(test_masked_level_pin_delivers_when_unmasked)
{
	wr(0x10 + 2 * 9, 0x71 | (1 << 15) | (1 << 16));
	ioapic_set_irq(io, 9, true);
	ck_assert(!lapic_pending(l));
	wr(0x10 + 2 * 9, 0x71 | (1 << 15));
	ck_assert_int_eq(lapic_ack(l), 0x71);
}
END_TEST

START_TEST(test_an_edge_on_a_masked_pin_is_held_until_unmasked)
{
	/* A UART raises its line before the kernel routes the pin. */
	wr(0x10 + 2 * 4, 0x24 | (1 << 16));            /* edge, masked */
	ioapic_set_irq(io, 4, true);
	ck_assert(!lapic_pending(l));
	wr(0x10 + 2 * 4, 0x24);                        /* unmasked */
	ck_assert_int_eq(lapic_ack(l), 0x24);
	eoi();
	wr(0x10 + 2 * 4, 0x24 | (1 << 16));
	wr(0x10 + 2 * 4, 0x24);                        /* nothing held now */
	ck_assert(!lapic_pending(l));
}
END_TEST

START_TEST(test_destination_must_match)
{
	wr(0x11 + 2 * 4, 0x01000000);                  /* APIC ID 1 */
	wr(0x10 + 2 * 4, 0x72);
	ioapic_set_irq(io, 4, true);
	ck_assert(!lapic_pending(l));
	wr(0x11 + 2 * 4, 0xff000000);                  /* broadcast */
	ioapic_set_irq(io, 4, false);
	ioapic_set_irq(io, 4, true);
	ck_assert_int_eq(lapic_ack(l), 0x72);
}
END_TEST

START_TEST(test_eoi_register)
{
	uint64_t v = 0x73;

	wr(0x10 + 2 * 7, 0x73 | (1 << 15));
	ioapic_set_irq(io, 7, true);
	ioapic_set_irq(io, 7, false);
	ck_assert_uint_eq(rd(0x10 + 2 * 7) >> 14 & 1, 1);
	ioapic_mmio(io, 0x40, 4, true, &v);
	ck_assert_uint_eq(rd(0x10 + 2 * 7) >> 14 & 1, 0);
}
END_TEST

static Suite *ioapic_suite(void)
{
	Suite *s = suite_create("ioapic");
	TCase *t = tcase_create("ioapic");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_version_and_id_registers);
	tcase_add_test(t, test_redirection_entry_read_only_bits);
	tcase_add_test(t, test_edge_pin_delivers_on_rising_edges);
	tcase_add_test(t, test_level_pin_holds_remote_irr_until_eoi);
	tcase_add_test(t, test_masked_level_pin_delivers_when_unmasked);
	tcase_add_test(t, test_an_edge_on_a_masked_pin_is_held_until_unmasked);
	tcase_add_test(t, test_destination_must_match);
	tcase_add_test(t, test_eoi_register);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(ioapic_suite)
