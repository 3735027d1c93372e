/*
 * ACPI tables and PM registers (see acpi.h).
 *
 * The tables are what SeaBIOS leaves for a QEMU guest, cut to what a
 * one-CPU machine without PCI has: an ACPI 1.0 RSDP (revision 0, so
 * the RSDT, not an XSDT, lists the tables), a revision 1 FADT, and a
 * MADT whose entries match the devices of core/board.c: local APIC 0 at
 * 0xfee00000, I/O APIC 0 at 0xfec00000 with GSI base 0, ISA IRQ 0 on
 * GSI 2 (the PIT, as QEMU wires it), the SCI on GSI 9, level, active
 * high, and LINT1 as NMI.  The DSDT holds no AML: there is nothing to
 * enumerate.
 *
 * The PM timer is a 24-bit counter at 3.579545 MHz, computed from the
 * host's monotonic clock.  PM1 status, enable and control are plain
 * registers (status bits clear when written with 1); no event raises
 * the SCI, and setting SLP_EN calls the sleep hook, which ends the run
 * (docs/limits.md).
 */
#include <stdlib.h>
#include <string.h>

#include "dev/io.h"
#include "dev/timer.h"
#include "dev/acpi.h"
#include "dev/pc.h"

#define OEM_ID       "TRAPEZ"
#define OEM_TABLE_ID "TRAPEZE "
#define CREATOR_ID   "TRPZ"

struct acpi_pm {
	uint16_t sts, en, cnt;
	uint64_t t0;
	void (*sleep)(void *opaque, unsigned slp_typ);
	void *opaque;
};

#define PM1_SLP_EN (1u << 13)
#define PM1_SLP_TYP(cnt) (((cnt) >> 10) & 7)

static void put8(uint8_t *p, unsigned off, uint8_t v) { p[off] = v; }
static void put16(uint8_t *p, unsigned off, uint16_t v)
{
	memcpy(p + off, &v, 2);
}
static void put32(uint8_t *p, unsigned off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

uint8_t acpi_checksum(const uint8_t *p, uint64_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/* The 36-byte header every table but the RSDP and FACS starts with. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memset(t, 0, len);
	memcpy(t, sig, 4);
	put32(t, 4, len);
	put8(t, 8, rev);
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t, 24, 1);                        /* OEM revision */
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t, 32, 1);                        /* creator revision */
}

static void seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)-acpi_checksum(t, len);
}

#define FADT_LEN 116
static void build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt)
{
	header(t, "FACP", FADT_LEN, 1);
	put32(t, 36, facs);
	put32(t, 40, dsdt);
	put16(t, 46, ACPI_SCI_IRQ);
	/* SMI_CMD 0: ACPI is always enabled (SCI_EN reads as set). */
	put32(t, 56, ACPI_PM_BASE);             /* PM1a_EVT_BLK */
	put32(t, 64, ACPI_PM_BASE + 4);         /* PM1a_CNT_BLK */
	put32(t, 76, ACPI_PM_TMR);              /* PM_TMR_BLK */
	put8(t, 88, 4);                         /* PM1_EVT_LEN */
	put8(t, 89, 2);                         /* PM1_CNT_LEN */
	put8(t, 91, 4);                         /* PM_TMR_LEN */
	put16(t, 96, 0xfff);                    /* no C2 */
	put16(t, 98, 0xfff);                    /* no C3 */
	put32(t, 112, (1u << 0) | (1u << 2));   /* WBINVD, PROC_C1 */
	seal(t, FADT_LEN);
}

#define FACS_LEN 64
static void build_facs(uint8_t *t)
{
	memset(t, 0, FACS_LEN);
	memcpy(t, "FACS", 4);
	put32(t, 4, FACS_LEN);
}

#define MADT_LEN (44 + 8 + 12 + 10 + 10 + 6)
static void build_madt(uint8_t *t)
{
	uint8_t *e = t + 44;

	header(t, "APIC", MADT_LEN, 1);
	put32(t, 36, 0xfee00000u);              /* local APIC address */
	put32(t, 40, 1);                        /* PCAT_COMPAT: 8259s too */
	/* Processor local APIC: processor 0, APIC ID 0, enabled. */
	put8(e, 0, 0); put8(e, 1, 8); put8(e, 2, 0); put8(e, 3, 0);
	put32(e, 4, 1);
	e += 8;
	/* I/O APIC: ID 0 at 0xfec00000, GSIs from 0. */
	put8(e, 0, 1); put8(e, 1, 12); put8(e, 2, 0);
	put32(e, 4, 0xfec00000u); put32(e, 8, 0);
	e += 12;
	/* Interrupt source overrides: ISA IRQ 0 -> GSI 2 (conforming);
	 * IRQ 9 -> GSI 9, active high, level (the SCI). */
	put8(e, 0, 2); put8(e, 1, 10); put8(e, 2, 0); put8(e, 3, 0);
	put32(e, 4, 2); put16(e, 8, 0);
	e += 10;
	put8(e, 0, 2); put8(e, 1, 10); put8(e, 2, 0); put8(e, 3, 9);
	put32(e, 4, 9); put16(e, 8, 0x000d);
	e += 10;
	/* Local APIC NMI: all processors, LINT1. */
	put8(e, 0, 4); put8(e, 1, 6); put8(e, 2, 0xff); put16(e, 3, 0);
	put8(e, 5, 1);
	seal(t, MADT_LEN);
}

static void build_rsdp(uint8_t *r, uint32_t rsdt)
{
	memset(r, 0, 20);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, OEM_ID, 6);
	put8(r, 15, 0);                          /* revision: ACPI 1.0 */
	put32(r, 16, rsdt);
	r[8] = (uint8_t)-acpi_checksum(r, 20);
}

uint64_t acpi_build_tables(uint8_t *ram, bool apics)
{
	uint32_t rsdt = ACPI_TABLES_GPA, fadt = rsdt + 0x40;
	uint32_t facs = fadt + 0xc0, dsdt = facs + FACS_LEN;
	uint32_t madt = dsdt + 0x40, end = madt + MADT_LEN;
	uint8_t *t = ram + rsdt;

	memset(ram + ACPI_TABLES_GPA, 0, ACPI_AREA_END - ACPI_TABLES_GPA);
	header(t, "RSDT", 36 + (apics ? 2 : 1) * 4, 1);
	put32(t, 36, fadt);
	if (apics)
		put32(t, 40, madt);
	seal(t, 36 + (apics ? 2 : 1) * 4);
	build_fadt(ram + fadt, facs, dsdt);
	build_facs(ram + facs);
	header(ram + dsdt, "DSDT", 36, 1);
	seal(ram + dsdt, 36);
	if (apics)
		build_madt(ram + madt);
	build_rsdp(ram + ACPI_RSDP_GPA, rsdt);
	return end - ACPI_TABLES_GPA;
}

/* ---- the PM registers -------------------------------------------------- */

struct acpi_pm *acpi_pm_create(void)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->cnt = 1;                             /* SCI_EN: ACPI mode */
	pm->t0 = timer_now();
	return pm;
}

void acpi_pm_on_sleep(struct acpi_pm *pm,
		      void (*sleep)(void *opaque, unsigned slp_typ),
		      void *opaque)
{
	pm->sleep = sleep;
	pm->opaque = opaque;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	free(pm);
}

static uint32_t pm_timer(const struct acpi_pm *pm)
{
	uint64_t ns = timer_now() - pm->t0;

	return (uint32_t)((unsigned __int128)ns * ACPI_PM_TMR_HZ /
			  1000000000ull) & 0xffffff;
}

/* One register of the block: base port, width in bytes. */
static uint16_t *pm_reg(struct acpi_pm *pm, uint16_t port)
{
	switch (port) {
	case ACPI_PM_BASE: case ACPI_PM_BASE + 1: return &pm->sts;
	case ACPI_PM_BASE + 2: case ACPI_PM_BASE + 3: return &pm->en;
	case ACPI_PM_BASE + 4: case ACPI_PM_BASE + 5: return &pm->cnt;
	}
	return NULL;
}

static void pm_write16(struct acpi_pm *pm, uint16_t port, uint16_t v,
		       uint16_t mask)
{
	uint16_t *r = pm_reg(pm, port);

	if (!r)
		return;
	if (r == &pm->sts)
		*r &= ~(v & mask);               /* write 1 to clear */
	else if (r == &pm->cnt) {
		*r = (*r & ~mask) | (v & mask) | 1;  /* SCI_EN stays */
		/* SLP_EN is write-only: it asks for the sleep state
		 * SLP_TYP names. */
		if (*r & PM1_SLP_EN) {
			*r &= ~PM1_SLP_EN;
			if (pm->sleep)
				pm->sleep(pm->opaque, PM1_SLP_TYP(*r));
		}
	} else
		*r = (*r & ~mask) | (v & mask);
}

void acpi_pm_io(void *opaque, uint16_t port, unsigned size, bool write,
		uint32_t *val)
{
	struct acpi_pm *pm = opaque;
	unsigned i;

	if (port >= ACPI_PM_TMR) {
		if (!write)
			*val = pm_timer(pm) >> (8 * (port - ACPI_PM_TMR));
		return;
	}
	if (!write)
		*val = 0;
	for (i = 0; i < size && port + i < ACPI_PM_BASE + 6; i++) {
		uint16_t p = (uint16_t)(port + i), *r = pm_reg(pm, p);
		unsigned shift = 8 * (p & 1);

		if (write)
			pm_write16(pm, p & ~1, (uint16_t)(((*val >> (8 * i)) &
						 0xff) << shift),
				   (uint16_t)(0xff << shift));
		else
			*val |= (uint32_t)((*r >> shift) & 0xff) << (8 * i);
	}
}

void acpi_pm__register(struct acpi_pm *pm, struct io_bus *bus)
{
	io_register(bus, ACPI_PM_BASE, 6, acpi_pm_io, pm, "ACPI PM1");
	io_register(bus, ACPI_PM_TMR, 4, acpi_pm_io, pm, "ACPI PM timer");
}

int acpi_pm__init(struct pc *pc)
{
	struct acpi_pm *pm = acpi_pm_create();

	if (!pm)
		return -1;
	acpi_pm__register(pm, &pc->io);
	acpi_pm_on_sleep(pm, pc->sleep, pc->power_ctx);
	return 0;
}
