/*
 * The local APIC on its own: registers as the xAPIC page and the x2APIC
 * MSRs show them, the APIC base MSR's states, priorities (TPR, PPR, ISR,
 * IRR), EOI, IPIs to self, and the timer's modes.  Time is a fake clock
 * the timer tests move on past a deadline.
 */
#include <check.h>
#include <string.h>

#include "check-main.h"
#include "dev/lapic.h"
#include "dev/mmio.h"
#include "dev/timer.h"

static struct timers ts;
static struct lapic *l;
static uint64_t fake_tsc;
static uint8_t eoi_vector;
static unsigned eois;

static uint64_t fake_now;

static uint64_t read_tsc(void *opaque)
{
	return fake_tsc;
}

static uint64_t fake_clock(void *ctx)
{
	return fake_now;
}

static void on_eoi(void *opaque, uint8_t vector)
{
	eoi_vector = vector;
	eois++;
}

static void setup(void)
{
	memset(&ts, 0, sizeof(ts));
	fake_now = 5000000000ull;
	timers_set_clock(&ts, fake_clock, NULL);
	fake_tsc = 1000000;
	eois = 0;
	l = lapic_create(&ts, 1000000 /* 1 GHz */, read_tsc, NULL);
	ck_assert_ptr_nonnull(l);
	lapic_set_eoi_hook(l, on_eoi, NULL);
}

static void teardown(void)
{
	lapic_destroy(l);
}

static uint32_t rd(unsigned off)
{
	uint64_t v = 0;

	lapic_mmio(l, off, 4, false, &v);
	return (uint32_t)v;
}

static void wr(unsigned off, uint32_t val)
{
	uint64_t v = val;

	lapic_mmio(l, off, 4, true, &v);
}

static void sleep_ns(uint64_t ns)
{
	fake_now += ns;
}

START_TEST(test_reset_state_is_what_firmware_leaves)
{
	ck_assert_uint_eq(lapic_base(l), 0xfee00900);
	ck_assert_uint_eq(rd(0x30), 0x50014);
	ck_assert_uint_eq(rd(0x20), 0);
	ck_assert_uint_eq(rd(0xf0), 0xff);
	ck_assert_uint_eq(rd(0x350), 0x8700);
	ck_assert_uint_eq(rd(0x320), 0x10000);
	ck_assert(lapic_accepts_pic(l));
}
END_TEST

START_TEST(test_narrow_and_unaligned_accesses_read_zero)
{
	uint64_t v = 0x55;

	lapic_mmio(l, 0x30, 1, false, &v);
	ck_assert_uint_eq(v, 0);
	lapic_mmio(l, 0x34, 4, false, &v);
	ck_assert_uint_eq(v, 0);
	v = 0x20;
	lapic_mmio(l, 0x80, 2, true, &v);
	ck_assert_uint_eq(rd(0x80), 0);
}
END_TEST

START_TEST(test_cr8_is_tpr_high_nibble)
{
	lapic_set_cr8(l, 7);
	ck_assert_uint_eq(rd(0x80), 0x70);
	wr(0x80, 0x35);
	ck_assert_uint_eq(lapic_cr8(l), 3);
	ck_assert_uint_eq(rd(0xa0), 0x35);             /* PPR = TPR */
}
END_TEST

START_TEST(test_highest_irr_above_ppr_is_taken)
{
	lapic_accept(l, 0x41, false);
	lapic_accept(l, 0x62, false);
	ck_assert(lapic_pending(l));
	ck_assert_int_eq(lapic_ack(l), 0x62);
	ck_assert_uint_eq(rd(0x100 + 0x30) >> 2 & 1, 1);    /* ISR bit 0x62 */
	/* 0x41 is of a lower class than the one in service. */
	ck_assert(!lapic_pending(l));
	ck_assert_uint_eq(rd(0xa0), 0x60);
	wr(0xb0, 0);                                   /* EOI */
	ck_assert_int_eq(lapic_ack(l), 0x41);
	wr(0xb0, 0);
	ck_assert(!lapic_pending(l));
	ck_assert_uint_eq(eois, 0);                    /* edge: no EOI out */
}
END_TEST

START_TEST(test_tpr_holds_back_lower_classes)
{
	wr(0x80, 0x50);
	lapic_accept(l, 0x55, false);
	ck_assert(!lapic_pending(l));
	lapic_accept(l, 0x61, false);
	ck_assert_int_eq(lapic_ack(l), 0x61);
	wr(0xb0, 0);
	wr(0x80, 0x40);
	ck_assert_int_eq(lapic_ack(l), 0x55);
}
END_TEST

START_TEST(test_level_eoi_reaches_the_ioapic)
{
	lapic_accept(l, 0x70, true);
	ck_assert_uint_eq(rd(0x180 + 0x30) >> 16 & 1, 1);  /* TMR */
	ck_assert_int_eq(lapic_ack(l), 0x70);
	wr(0xb0, 0);
	ck_assert_uint_eq(eois, 1);
	ck_assert_uint_eq(eoi_vector, 0x70);
}
END_TEST

START_TEST(test_self_ipi_through_icr)
{
	wr(0x310, 0);
	wr(0x300, 0x40000 | 0x99);                     /* shorthand self */
	ck_assert_int_eq(lapic_ack(l), 0x99);
	wr(0xb0, 0);
	wr(0x310, 0xffu << 24);                        /* broadcast */
	wr(0x300, 0x98);
	ck_assert_int_eq(lapic_ack(l), 0x98);
	wr(0xb0, 0);
	wr(0x300, 0xc0000 | 0x97);                     /* all but self */
	ck_assert(!lapic_pending(l));
	wr(0x300, 0x40000 | 0x05);                     /* illegal vector */
	wr(0x280, 0);
	ck_assert_uint_eq(rd(0x280), 0x60);
}
END_TEST

START_TEST(test_a_self_nmi_is_pending_until_taken)
{
	ck_assert(!lapic_nmi_pending(l));
	wr(0x300, 0x40000 | 0x400);                    /* self, mode NMI */
	ck_assert(lapic_nmi_pending(l));
	ck_assert(!lapic_pending(l));                  /* not in the IRR */
	lapic_take_nmi(l);
	ck_assert(!lapic_nmi_pending(l));
	wr(0x300, 0xc0000 | 0x400);                    /* all but self */
	ck_assert(!lapic_nmi_pending(l));
}
END_TEST

START_TEST(test_apic_base_state_machine)
{
	uint64_t b = lapic_base(l) & ~0xc00ull;

	ck_assert(!lapic_set_base(l, b | 0x400, 48));  /* EXTD without EN */
	ck_assert(lapic_set_base(l, b | 0xc00, 48));   /* xAPIC -> x2APIC */
	ck_assert(lapic_x2apic_mode(l));
	ck_assert(!lapic_set_base(l, b | 0x800, 48));  /* x2APIC -> xAPIC */
	ck_assert(lapic_set_base(l, b, 48));           /* -> disabled */
	ck_assert(!lapic_set_base(l, b | 0xc00, 48));  /* disabled -> x2 */
	ck_assert(!lapic_set_base(l, b | 0x800 | 1, 48));  /* reserved */
	ck_assert(!lapic_set_base(l, b | 0x800 | (1ull << 48), 48));
	ck_assert(lapic_set_base(l, 0xfed40800, 48));  /* moved */
	ck_assert_uint_eq(lapic_base(l), 0xfed40900);  /* BSP kept */
}
END_TEST

START_TEST(test_disabled_page_reads_all_ones)
{
	uint64_t v;

	ck_assert(lapic_set_base(l, 0xfee00000, 48));
	lapic_mmio(l, 0x30, 4, false, &v);
	ck_assert_uint_eq(v, ~0ull);
	ck_assert(lapic_accepts_pic(l));
	lapic_accept(l, 0x50, false);
	ck_assert(!lapic_pending(l));
}
END_TEST

START_TEST(test_x2apic_msrs)
{
	uint64_t v;

	ck_assert(!lapic_msr_read(l, 0x803, &v));      /* xAPIC mode: #GP */
	ck_assert(lapic_set_base(l, 0xfee00c00, 48));
	ck_assert(lapic_msr_read(l, 0x803, &v));
	ck_assert_uint_eq(v, 0x50014);
	ck_assert(lapic_msr_read(l, 0x80d, &v));
	ck_assert_uint_eq(v, 1);                       /* LDR of ID 0 */
	ck_assert(!lapic_msr_write(l, 0x802, 5));      /* ID read-only */
	ck_assert(!lapic_msr_read(l, 0x80e, &v));      /* no DFR */
	ck_assert(!lapic_msr_read(l, 0x83f, &v));      /* SELF IPI: WO */
	ck_assert(!lapic_msr_write(l, 0x80b, 1));      /* EOI must be 0 */
	ck_assert(!lapic_msr_write(l, 0x83f, 0x166));  /* reserved bits */
	ck_assert(!lapic_pending(l));
	ck_assert(lapic_msr_write(l, 0x83f, 0x66));
	ck_assert_int_eq(lapic_ack(l), 0x66);
	ck_assert(lapic_msr_write(l, 0x80b, 0));
	ck_assert(lapic_msr_write(l, 0x830, 0x40000 | 0x67));
	ck_assert_int_eq(lapic_ack(l), 0x67);
	ck_assert(lapic_msr_read(l, 0x830, &v));
	ck_assert_uint_eq(v, 0x40000 | 0x67);
}
END_TEST

START_TEST(test_one_shot_counts_down_and_fires_once)
{
	wr(0xf0, 0x1ff);
	wr(0x3e0, 0xb);                                /* divide by 1 */
	wr(0x320, 0x40);
	wr(0x380, 2000000);                            /* 2 ms */
	ck_assert_uint_eq(rd(0x390), 2000000);
	sleep_ns(500000);
	ck_assert_uint_eq(rd(0x390), 1500000);
	ck_assert_uint_ne(timers_next(&ts), 0);
	sleep_ns(3000000);
	timers_run(&ts);
	ck_assert_uint_eq(rd(0x390), 0);
	ck_assert_int_eq(lapic_ack(l), 0x40);
	wr(0xb0, 0);
	ck_assert_uint_eq(timers_next(&ts), 0);
	/* An expired one-shot stays at zero when made periodic. */
	wr(0x320, 0x40 | (1 << 17));
	ck_assert_uint_eq(rd(0x390), 0);
}
END_TEST

START_TEST(test_periodic_reloads_and_masked_timer_stays_quiet)
{
	wr(0xf0, 0x1ff);
	wr(0x3e0, 0xb);
	wr(0x320, 0x40 | (1 << 17) | (1 << 16));       /* periodic, masked */
	wr(0x380, 1000000);
	sleep_ns(2500000);
	timers_run(&ts);
	ck_assert(!lapic_pending(l));
	ck_assert_uint_gt(rd(0x390), 0);               /* reloaded */
	ck_assert_uint_ne(timers_next(&ts), 0);
	wr(0x320, 0x40 | (1 << 17));
	sleep_ns(1500000);
	timers_run(&ts);
	ck_assert_int_eq(lapic_ack(l), 0x40);
	wr(0x380, 0);
	ck_assert_uint_eq(timers_next(&ts), 0);
}
END_TEST

START_TEST(test_divider_scales_the_count)
{
	wr(0xf0, 0x1ff);
	wr(0x3e0, 0xa);                                /* divide by 128 */
	wr(0x320, 0x40);
	wr(0x380, 1000);                               /* 128 us */
	ck_assert_uint_eq(timers_next(&ts), fake_now + 128000);
}
END_TEST

START_TEST(test_tsc_deadline_fires_and_clears)
{
	wr(0xf0, 0x1ff);
	lapic_set_tsc_deadline(l, fake_tsc + 10);      /* not in that mode */
	ck_assert_uint_eq(lapic_tsc_deadline(l), 0);
	wr(0x320, 0x40 | (2 << 17));
	wr(0x380, 5);                                  /* ignored */
	ck_assert_uint_eq(rd(0x380), 0);
	lapic_set_tsc_deadline(l, fake_tsc - 1);       /* already past */
	ck_assert_int_eq(lapic_ack(l), 0x40);
	wr(0xb0, 0);
	ck_assert_uint_eq(lapic_tsc_deadline(l), 0);
	lapic_set_tsc_deadline(l, fake_tsc + 1000000); /* 1 ms at 1 GHz */
	ck_assert_uint_eq(lapic_tsc_deadline(l), fake_tsc + 1000000);
	ck_assert_uint_ne(timers_next(&ts), 0);
	sleep_ns(2000000);
	timers_run(&ts);
	ck_assert_int_eq(lapic_ack(l), 0x40);
	ck_assert_uint_eq(lapic_tsc_deadline(l), 0);
	/* Leaving the mode disarms it. */
	lapic_set_tsc_deadline(l, fake_tsc + 1000000);
	wr(0x320, 0x40);
	ck_assert_uint_eq(timers_next(&ts), 0);
}
END_TEST

START_TEST(test_software_disable_masks_the_lvt)
{
	wr(0xf0, 0x1ff);
	wr(0x320, 0x40);
	ck_assert_uint_eq(rd(0x320), 0x40);
	wr(0xf0, 0xff);
	ck_assert_uint_eq(rd(0x320) & 0x10000, 0x10000);
	ck_assert(!lapic_accepts_pic(l));              /* LINT0 masked */
}
END_TEST

START_TEST(test_logical_destinations)
{
	wr(0xd0, 0x02u << 24);                         /* flat, bit 1 */
	ck_assert(lapic_match_dest(l, 0x02, true));
	ck_assert(lapic_match_dest(l, 0x06, true));
	ck_assert(!lapic_match_dest(l, 0x01, true));
	ck_assert(lapic_match_dest(l, 0x00, false));   /* physical ID 0 */
	ck_assert(lapic_match_dest(l, 0xff, false));
	wr(0xe0, 0x0fffffff);                          /* cluster */
	wr(0xd0, 0x31u << 24);                         /* cluster 3, bit 0 */
	ck_assert(lapic_match_dest(l, 0x31, true));
	ck_assert(!lapic_match_dest(l, 0x21, true));
}
END_TEST

static Suite *lapic_suite(void)
{
	Suite *s = suite_create("lapic");
	TCase *t = tcase_create("lapic");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_reset_state_is_what_firmware_leaves);
	tcase_add_test(t, test_narrow_and_unaligned_accesses_read_zero);
	tcase_add_test(t, test_cr8_is_tpr_high_nibble);
	tcase_add_test(t, test_highest_irr_above_ppr_is_taken);
	tcase_add_test(t, test_tpr_holds_back_lower_classes);
	tcase_add_test(t, test_level_eoi_reaches_the_ioapic);
	tcase_add_test(t, test_self_ipi_through_icr);
	tcase_add_test(t, test_a_self_nmi_is_pending_until_taken);
	tcase_add_test(t, test_apic_base_state_machine);
	tcase_add_test(t, test_disabled_page_reads_all_ones);
	tcase_add_test(t, test_x2apic_msrs);
	tcase_add_test(t, test_one_shot_counts_down_and_fires_once);
	tcase_add_test(t, test_periodic_reloads_and_masked_timer_stays_quiet);
	tcase_add_test(t, test_divider_scales_the_count);
	tcase_add_test(t, test_tsc_deadline_fires_and_clears);
	tcase_add_test(t, test_software_disable_masks_the_lvt);
	tcase_add_test(t, test_logical_destinations);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(lapic_suite)
