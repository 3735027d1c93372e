/*
 * ACPI, the part a guest written for a PC looks for: tables in the BIOS
 * area (RSDP found by scanning 0xe0000-0xfffff, RSDT, FADT, FACS, an
 * empty DSDT, MADT describing the local APIC, the I/O APIC and the
 * ISA interrupt overrides) and the fixed-hardware registers the FADT
 * points at: the PM1 event and control blocks and the PM timer (ACPI
 * 6.5, ch. 4 and 5).
 */
#ifndef TRAPEZE_ACPI_H
#define TRAPEZE_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_PM_BASE     0x600     /* PM1a_EVT 0x600, PM1a_CNT 0x604 */
#define ACPI_PM_TMR      0x608
#define ACPI_PM_TMR_HZ   3579545ull
#define ACPI_SCI_IRQ     9

/* Where the tables go in guest RAM (the BIOS area); the RSDP is at
 * ACPI_RSDP_GPA, on the 16-byte boundary the scan expects. */
#define ACPI_TABLES_GPA  0xe0000ull
#define ACPI_RSDP_GPA    0xf0000ull
#define ACPI_AREA_END    0x100000ull

struct acpi_pm;
struct pc;
struct io_bus;

/* Write the tables into guest RAM (ram is the monitor's view of GPA 0,
 * at least 1 MiB); with apics false, no MADT.  Returns the number of
 * bytes used past ACPI_TABLES_GPA. */
uint64_t acpi_build_tables(uint8_t *ram, bool apics);
/* The sum of len bytes, which is 0 for a well-formed table. */
uint8_t acpi_checksum(const uint8_t *p, uint64_t len);

struct acpi_pm *acpi_pm_create(void);
void acpi_pm_destroy(struct acpi_pm *pm);
/* Called when the guest sets SLP_EN in PM1a_CNT, with its SLP_TYP. */
void acpi_pm_on_sleep(struct acpi_pm *pm,
		      void (*sleep)(void *opaque, unsigned slp_typ),
		      void *opaque);
void acpi_pm__register(struct acpi_pm *pm, struct io_bus *bus);
/* The PM1 registers and timer; SLP_EN ends the run (the board's sleep). */
int acpi_pm__init(struct pc *pc);
void acpi_pm_io(void *opaque, uint16_t port, unsigned size, bool write,
		uint32_t *val);

#endif
