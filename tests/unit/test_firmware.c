/*
 * What a guest reads about the machine: fw_cfg items through the ports,
 * the ACPI tables (every checksum, the RSDP where the scan finds it, the
 * FADT's PM registers, the MADT's entries) and the PM timer.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check-main.h"
#include "dev/acpi.h"
#include "dev/fwcfg.h"

static uint64_t item(struct fwcfg *f, uint16_t key, unsigned bytes)
{
	uint32_t v = key;
	uint64_t r = 0;
	unsigned i;

	fwcfg_io(f, 0x510, 2, true, &v);
	for (i = 0; i < bytes; i++) {
		fwcfg_io(f, 0x511, 1, false, &v);
		r |= (uint64_t)(v & 0xff) << (8 * i);
	}
	return r;
}

START_TEST(test_fwcfg_items)
{
	struct fwcfg *f = fwcfg_create(64ull << 20, 1);

	ck_assert_uint_eq(item(f, FWCFG_SIGNATURE, 4), 0x554d4551); /* QEMU */
	ck_assert_uint_eq(item(f, FWCFG_ID, 4), 1);
	ck_assert_uint_eq(item(f, FWCFG_RAM_SIZE, 8), 64ull << 20);
	ck_assert_uint_eq(item(f, FWCFG_NB_CPUS, 2), 1);
	ck_assert_uint_eq(item(f, FWCFG_MAX_CPUS, 2), 1);
	ck_assert_uint_eq(item(f, FWCFG_FILE_DIR, 4), 0);
	/* Past the end, an absent item, an arch-local one: zeros. */
	ck_assert_uint_eq(item(f, FWCFG_NB_CPUS, 4) >> 16, 0);
	ck_assert_uint_eq(item(f, 0x11, 8), 0);
	ck_assert_uint_eq(item(f, 0x8002, 4), 0);
	fwcfg_destroy(f);
}
END_TEST

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint8_t *ram;

static void setup(void)
{
	ram = calloc(1, 1 << 20);
	ck_assert_ptr_nonnull(ram);
}

static void teardown(void)
{
	free(ram);
}

static const uint8_t *table(const uint8_t *rsdt, const char *sig)
{
	uint32_t i, n = (get32(rsdt + 4) - 36) / 4;

	for (i = 0; i < n; i++)
		if (!memcmp(ram + get32(rsdt + 36 + 4 * i), sig, 4))
			return ram + get32(rsdt + 36 + 4 * i);
	return NULL;
}

START_TEST(test_acpi_tables_have_valid_checksums)
{
	const uint8_t *rsdp, *rsdt, *fadt, *madt;
	uint64_t a;

	acpi_build_tables(ram, true);
	for (a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(ram + a, "RSD PTR ", 8))
			break;
	ck_assert_uint_lt(a, 0x100000);
	rsdp = ram + a;
	ck_assert_uint_eq(acpi_checksum(rsdp, 20), 0);
	rsdt = ram + get32(rsdp + 16);
	ck_assert(!memcmp(rsdt, "RSDT", 4));
	ck_assert_uint_eq(acpi_checksum(rsdt, get32(rsdt + 4)), 0);
	fadt = table(rsdt, "FACP");
	madt = table(rsdt, "APIC");
	ck_assert_ptr_nonnull(fadt);
	ck_assert_ptr_nonnull(madt);
	ck_assert_uint_eq(acpi_checksum(fadt, get32(fadt + 4)), 0);
	ck_assert_uint_eq(acpi_checksum(madt, get32(madt + 4)), 0);
	ck_assert_uint_eq(get32(fadt + 76), ACPI_PM_TMR);
	ck_assert_uint_eq(get32(fadt + 56), ACPI_PM_BASE);
	ck_assert(!memcmp(ram + get32(fadt + 36), "FACS", 4));
	ck_assert(!memcmp(ram + get32(fadt + 40), "DSDT", 4));
	ck_assert_uint_eq(acpi_checksum(ram + get32(fadt + 40), 36), 0);
	ck_assert_uint_eq(get32(madt + 36), 0xfee00000);
	/* First entries: processor local APIC 0, I/O APIC at 0xfec00000. */
	ck_assert_uint_eq(madt[44], 0);
	ck_assert_uint_eq(madt[52], 1);
	ck_assert_uint_eq(get32(madt + 56), 0xfec00000);
}
END_TEST

START_TEST(test_acpi_without_apics_has_no_madt)
{
	const uint8_t *rsdt;

	acpi_build_tables(ram, false);
	rsdt = ram + get32(ram + ACPI_RSDP_GPA + 16);
	ck_assert_uint_eq(acpi_checksum(rsdt, get32(rsdt + 4)), 0);
	ck_assert_ptr_nonnull(table(rsdt, "FACP"));
	ck_assert_ptr_null(table(rsdt, "APIC"));
}
END_TEST

START_TEST(test_pm_timer_advances_and_pm1_registers)
{
	struct acpi_pm *pm = acpi_pm_create();
	struct timespec t = { 0, 2000000 };
	uint32_t a, b, v;

	acpi_pm_io(pm, ACPI_PM_TMR, 4, false, &a);
	nanosleep(&t, NULL);
	acpi_pm_io(pm, ACPI_PM_TMR, 4, false, &b);
	ck_assert_uint_le(a, 0xffffff);
	ck_assert_uint_gt((b - a) & 0xffffff, 0);
	acpi_pm_io(pm, ACPI_PM_BASE + 4, 2, false, &v);
	ck_assert_uint_eq(v & 1, 1);                   /* SCI_EN */
	v = 0x0120;
	acpi_pm_io(pm, ACPI_PM_BASE + 2, 2, true, &v);
	acpi_pm_io(pm, ACPI_PM_BASE + 2, 2, false, &v);
	ck_assert_uint_eq(v, 0x0120);
	acpi_pm_destroy(pm);
}
END_TEST

static unsigned slept, slept_typ;

static void record_sleep(void *opaque, unsigned typ)
{
	(void)opaque;
	slept++;
	slept_typ = typ;
}

START_TEST(test_slp_en_asks_for_the_sleep_state)
{
	struct acpi_pm *pm = acpi_pm_create();
	uint32_t v = (5u << 10) | 1;                 /* SLP_TYP 5, no SLP_EN */

	acpi_pm_on_sleep(pm, record_sleep, NULL);
	acpi_pm_io(pm, ACPI_PM_BASE + 4, 2, true, &v);
	ck_assert_uint_eq(slept, 0);
	v = (1u << 13) | (1u << 10) | 1;             /* S3 as QEMU's DSDT */
	acpi_pm_io(pm, ACPI_PM_BASE + 4, 2, true, &v);
	ck_assert_uint_eq(slept, 1);
	ck_assert_uint_eq(slept_typ, 1);
	acpi_pm_io(pm, ACPI_PM_BASE + 4, 2, false, &v);
	ck_assert_uint_eq(v & (1u << 13), 0);        /* write-only */
	acpi_pm_destroy(pm);
}
END_TEST

static Suite *firmware_suite(void)
{
	Suite *s = suite_create("firmware");
	TCase *t = tcase_create("fwcfg");
	TCase *a = tcase_create("acpi");

	tcase_add_test(t, test_fwcfg_items);
	tcase_add_checked_fixture(a, setup, teardown);
	tcase_add_test(a, test_acpi_tables_have_valid_checksums);
	tcase_add_test(a, test_acpi_without_apics_has_no_madt);
	tcase_add_test(a, test_pm_timer_advances_and_pm1_registers);
	tcase_add_test(a, test_slp_en_asks_for_the_sleep_state);
	suite_add_tcase(s, t);
	suite_add_tcase(s, a);
	return s;
}

CHECK_MAIN(firmware_suite)
