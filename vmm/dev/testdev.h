/*
 * QEMU's pc-testdev, the device kvm-unit-tests drive directly: a 32-bit
 * scratch register at port 0xe0 (also byte-wide at 0xe8), a "flush page"
 * port at 0xe4, interrupt lines at ports 0x2000-0x2017 (write the level),
 * and 64 KiB of scratch device memory at 0xff000000 that makes every
 * access to it an emulated MMIO access.
 */
#ifndef TRAPEZE_TESTDEV_H
#define TRAPEZE_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"

#define TESTDEV_PORT       0xe0
#define TESTDEV_FLUSH_PORT 0xe4
#define TESTDEV_BYTE_PORT  0xe8
#define TESTDEV_IRQ_PORT   0x2000
#define TESTDEV_IRQ_LINES  24
#define TESTDEV_IOMEM      0xff000000ull
#define TESTDEV_IOMEM_LEN  0x10000u

struct pc;
struct testdev;
struct io_bus;
struct mmio_bus;

/* set_irq(opaque, line, level) drives interrupt line 0-23 (ISA IRQs and
 * I/O APIC pins, as QEMU's isa_get_irq does). */
/* Its lines: IRQ n is lines.line + n. */
struct testdev *testdev_create(struct irq_line lines);
/* kvm-unit-tests' pc-testdev on the PC. */
int testdev__init(struct pc *pc);
void testdev_destroy(struct testdev *t);
/* mmio NULL: no iomem (RAM reaches 0xff000000). */
void testdev__register(struct testdev *t, struct io_bus *io,
		       struct mmio_bus *mmio);
void testdev_io(void *opaque, uint16_t port, unsigned size, bool write,
		uint32_t *val);
void testdev_mmio(void *opaque, uint64_t offset, unsigned size, bool write,
		  uint64_t *val);

#endif
