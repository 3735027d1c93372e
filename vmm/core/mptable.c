/*
 * The MP tables (Intel MultiProcessor Specification v1.4, chapter 4).
 *
 * A kernel finds the 16-byte floating pointer structure ("_MP_") by
 * scanning the first KiB of the EBDA, the last KiB of base memory, and
 * 0xf0000-0xfffff, on 16-byte boundaries, for the signature and a zero
 * byte sum.  It points to the configuration table ("PCMP"): a header and
 * entries of five kinds, processors first, each kind together.  xv6's
 * mp.c reads the local APIC address from the header, takes every
 * processor entry as a CPU and the I/O APIC entry's id, and skips the
 * rest by size.
 *
 * Feature byte 2's IMCRP bit stays clear: there is no IMCR, the machine
 * starts in virtual-wire mode, so kernels do not write ports 0x22/0x23.
 */
#include <string.h>

#include "core/mptable.h"

#define BDA_BASE_KB  0x413
#define LAPIC_VERSION 0x14        /* an integrated APIC */
#define IOAPIC_VERSION 0x11       /* 82093AA */

enum { MP_PROC, MP_BUS, MP_IOAPIC, MP_IOINTR, MP_LINTR };
enum { INT_INT, INT_NMI, INT_SMI, INT_EXTINT };

struct table {
	uint8_t *base, *p;
	uint16_t entries;
};

static void put8(struct table *t, uint8_t v) { *t->p++ = v; }
static void put16(struct table *t, uint16_t v)
{
	put8(t, (uint8_t)v);
	put8(t, (uint8_t)(v >> 8));
}
static void put32(struct table *t, uint32_t v)
{
	put16(t, (uint16_t)v);
	put16(t, (uint16_t)(v >> 16));
}
static void put_str(struct table *t, const char *s, size_t n)
{
	memset(t->p, ' ', n);
	memcpy(t->p, s, strlen(s) < n ? strlen(s) : n);
	t->p += n;
}

/* The byte that makes n bytes at p sum to zero. */
static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum += *p++;
	return (uint8_t)-sum;
}

static void processor(struct table *t, const struct mptable_config *cfg)
{
	put8(t, MP_PROC);
	put8(t, 0);                   /* local APIC id */
	put8(t, LAPIC_VERSION);
	put8(t, 0x03);                /* EN: usable; BP: the bootstrap CPU */
	put32(t, cfg->cpu_signature);
	put32(t, cfg->cpu_features);
	put32(t, 0);
	put32(t, 0);
	t->entries++;
}

/* An interrupt routing entry: I/O (to an I/O APIC pin) or local (to a
 * LINT pin of every local APIC). */
static void route(struct table *t, unsigned kind, unsigned type,
		  unsigned irq, unsigned dest, unsigned pin)
{
	put8(t, (uint8_t)kind);
	put8(t, (uint8_t)type);
	put16(t, 0);                  /* polarity, trigger: as the bus says */
	put8(t, 0);                   /* source bus: ISA */
	put8(t, (uint8_t)irq);
	put8(t, (uint8_t)dest);
	put8(t, (uint8_t)pin);
	t->entries++;
}

static void entries(struct table *t, const struct mptable_config *cfg)
{
	unsigned irq;

	processor(t, cfg);
	put8(t, MP_BUS);
	put8(t, 0);                   /* bus id */
	put_str(t, "ISA", 6);
	t->entries++;
	put8(t, MP_IOAPIC);
	put8(t, cfg->ioapic_id);
	put8(t, IOAPIC_VERSION);
	put8(t, 0x01);                /* EN */
	put32(t, cfg->ioapic_addr);
	t->entries++;
	/* ISA IRQ n on pin n, but IRQ 0 (the PIT) on pin 2, where the
	 * 8259s' cascade would be: QEMU wires it so, its ACPI tables say
	 * so (an override), and dev/irq.c routes it so. */
	for (irq = 0; irq < 16; irq++)
		if (irq != 2)
			route(t, MP_IOINTR, INT_INT, irq, cfg->ioapic_id,
			      irq ? irq : 2);
	route(t, MP_LINTR, INT_EXTINT, 0, 0xff, 0);
	route(t, MP_LINTR, INT_NMI, 0, 0xff, 1);
}

int mptable_build(void *ram, size_t ram_size, uint64_t gpa,
		  const struct mptable_config *cfg)
{
	uint8_t *mem = ram, *fp, *conf;
	struct table t;
	uint16_t len;

	if (gpa % 16 || gpa + MPTABLE_SIZE > ram_size ||
	    BDA_BASE_KB + 2 > ram_size)
		return -1;
	fp = mem + gpa;
	conf = fp + 16;
	memset(fp, 0, MPTABLE_SIZE);

	t = (struct table){ conf, conf + 44, 0 };
	entries(&t, cfg);
	len = (uint16_t)(t.p - conf);
	t.p = conf;
	put_str(&t, "PCMP", 4);
	put16(&t, len);
	put8(&t, 4);                  /* specification 1.4 */
	put8(&t, 0);                  /* checksum, below */
	put_str(&t, "TRAPEZE", 8);    /* OEM id */
	put_str(&t, "PC", 12);        /* product id */
	put32(&t, 0);                 /* no OEM table */
	put16(&t, 0);
	put16(&t, t.entries);
	put32(&t, cfg->lapic_addr);
	put16(&t, 0);                 /* no extended entries */
	put8(&t, 0);
	put8(&t, 0);
	conf[7] = checksum(conf, len);

	t.p = fp;
	put_str(&t, "_MP_", 4);
	put32(&t, (uint32_t)(gpa + 16));
	put8(&t, 1);                  /* length in 16-byte units */
	put8(&t, 4);
	put8(&t, 0);                  /* checksum, below */
	put8(&t, 0);                  /* 0: the table above, not a default */
	put8(&t, 0);                  /* IMCRP clear: virtual-wire mode */
	fp[10] = checksum(fp, 16);

	if (!mem[BDA_BASE_KB] && !mem[BDA_BASE_KB + 1]) {
		mem[BDA_BASE_KB] = 640 & 0xff;
		mem[BDA_BASE_KB + 1] = 640 >> 8;
	}
	return 0;
}
