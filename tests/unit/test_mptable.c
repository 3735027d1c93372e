/*
 * The MP tables, read back the way xv6's mp.c reads them: the floating
 * pointer found by its search (BIOS data area, then 0xf0000-0xfffff),
 * both checksums, the configuration table's version and local APIC
 * address, then every entry by type and size, checked against the
 * MultiProcessor Specification v1.4.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "core/mptable.h"

#define RAM (1u << 20)
#define GPA 0xf0000u

static uint8_t *ram;
static const struct mptable_config cfg = {
	.lapic_addr = 0xfee00000u, .ioapic_addr = 0xfec00000u,
	.ioapic_id = 1, .cpu_signature = 0x00a10f11u,
	.cpu_features = 0x178bfbffu,
};

static void setup(void)
{
	ram = calloc(1, RAM);
	ck_assert_ptr_nonnull(ram);
}

static void teardown(void)
{
	free(ram);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

static const uint8_t *search(uint32_t a, uint32_t len)
{
	uint32_t p;

	for (p = a; p < a + len; p += 16)
		if (!memcmp(ram + p, "_MP_", 4) && sum(ram + p, 16) == 0)
			return ram + p;
	return NULL;
}

/* mp.c's mpsearch: EBDA, else the last KiB of base memory; then the BIOS. */
static const uint8_t *mpsearch(void)
{
	uint32_t p = (uint32_t)(ram[0x40f] << 8 | ram[0x40e]) << 4;
	const uint8_t *mp;

	if (p) {
		if ((mp = search(p, 1024)))
			return mp;
	} else {
		p = (uint32_t)(ram[0x414] << 8 | ram[0x413]) * 1024;
		ck_assert_uint_ge(p, 1024);   /* else xv6 reads 0xfffffc00 */
		if ((mp = search(p - 1024, 1024)))
			return mp;
	}
	return search(0xf0000, 0x10000);
}

START_TEST(test_xv6_finds_the_floating_pointer)
{
	const uint8_t *mp;

	ck_assert_int_eq(mptable_build(ram, RAM, GPA, &cfg), 0);
	mp = mpsearch();
	ck_assert_ptr_eq(mp, ram + GPA);
	ck_assert_uint_eq(mp[8], 1);                  /* length: 16 bytes */
	ck_assert_uint_eq(mp[9], 4);                  /* version 1.4 */
	ck_assert_uint_eq(mp[11], 0);                 /* a table, not default */
	ck_assert_uint_eq(mp[12] & 0x80, 0);          /* no IMCR */
	ck_assert_uint_eq(get16(ram + 0x413), 640);
}
END_TEST

START_TEST(test_config_table_header_and_checksum)
{
	const uint8_t *conf;
	uint16_t len;

	mptable_build(ram, RAM, GPA, &cfg);
	conf = ram + get32(ram + GPA + 4);
	ck_assert_mem_eq(conf, "PCMP", 4);
	len = get16(conf + 4);
	ck_assert_uint_le(GPA + 16 + len, GPA + MPTABLE_SIZE);
	ck_assert(conf[6] == 1 || conf[6] == 4);
	ck_assert_uint_eq(sum(conf, len), 0);
	ck_assert_uint_eq(get32(conf + 36), 0xfee00000u);   /* lapicaddr */
	ck_assert_uint_eq(get16(conf + 34), 20);            /* entries */
	ck_assert_uint_eq(get16(conf + 40), 0);             /* no extended */
}
END_TEST

START_TEST(test_entries_as_mpinit_walks_them)
{
	const uint8_t *conf, *p, *e;
	unsigned ncpu = 0, nbus = 0, nioapic = 0, nintr = 0, nlint = 0;
	unsigned pins = 0;

	mptable_build(ram, RAM, GPA, &cfg);
	conf = ram + get32(ram + GPA + 4);
	for (p = conf + 44, e = conf + get16(conf + 4); p < e;) {
		switch (*p) {
		case 0:
			ck_assert_uint_eq(p[1], 0);           /* apicid */
			ck_assert_uint_eq(p[3], 0x03);        /* EN | BP */
			ck_assert_uint_eq(get32(p + 4), cfg.cpu_signature);
			ck_assert_uint_eq(get32(p + 8), cfg.cpu_features);
			ncpu++;
			p += 20;
			break;
		case 1:
			ck_assert_mem_eq(p + 2, "ISA   ", 6);
			nbus++;
			p += 8;
			break;
		case 2:
			ck_assert_uint_eq(p[1], 1);           /* ioapicid */
			ck_assert_uint_eq(p[3] & 1, 1);       /* enabled */
			ck_assert_uint_eq(get32(p + 4), 0xfec00000u);
			nioapic++;
			p += 8;
			break;
		case 3:
			ck_assert_uint_eq(p[1], 0);           /* INT */
			ck_assert_uint_eq(p[4], 0);           /* ISA bus */
			ck_assert_uint_eq(p[6], 1);           /* to the I/O APIC */
			/* pin = IRQ, but the PIT's IRQ 0 on pin 2 */
			ck_assert_uint_eq(p[7], p[5] ? p[5] : 2);
			pins |= 1u << p[7];
			nintr++;
			p += 8;
			break;
		case 4:
			ck_assert_uint_eq(p[6], 0xff);        /* every LAPIC */
			ck_assert_uint_eq(p[1], p[7] ? 1 : 3); /* NMI, ExtINT */
			nlint++;
			p += 8;
			break;
		default:
			ck_abort_msg("entry type %u: xv6 says no SMP", *p);
		}
	}
	ck_assert_ptr_eq(p, e);
	ck_assert_uint_eq(ncpu, 1);
	ck_assert_uint_eq(nbus, 1);
	ck_assert_uint_eq(nioapic, 1);
	ck_assert_uint_eq(nintr, 15);
	ck_assert_uint_eq(pins, 0xffffu & ~1u);           /* all but 0 */
	ck_assert_uint_eq(nlint, 2);
}
END_TEST

START_TEST(test_bda_base_memory_already_set_is_kept)
{
	ram[0x413] = 0x7f;                  /* 639 KiB */
	ram[0x414] = 0x02;
	mptable_build(ram, RAM, GPA, &cfg);
	ck_assert_uint_eq(get16(ram + 0x413), 639);
	ck_assert_ptr_eq(mpsearch(), ram + GPA);
}
END_TEST

START_TEST(test_refuses_what_does_not_fit)
{
	ck_assert_int_eq(mptable_build(ram, GPA + 100, GPA, &cfg), -1);
	ck_assert_int_eq(mptable_build(ram, RAM, GPA + 8, &cfg), -1);
	ck_assert_int_eq(mptable_build(ram, RAM, RAM - 16, &cfg), -1);
}
END_TEST

static Suite *mptable_suite(void)
{
	Suite *s = suite_create("mptable");
	TCase *t = tcase_create("mptable");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_xv6_finds_the_floating_pointer);
	tcase_add_test(t, test_config_table_header_and_checksum);
	tcase_add_test(t, test_entries_as_mpinit_walks_them);
	tcase_add_test(t, test_bda_base_memory_already_set_is_kept);
	tcase_add_test(t, test_refuses_what_does_not_fit);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(mptable_suite)
