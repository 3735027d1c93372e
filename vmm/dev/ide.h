/*
 * The PC's two ATA (IDE) channels in PIO mode: primary at 0x1f0-0x1f7 and
 * 0x3f6 (IRQ 14), secondary at 0x170-0x177 and 0x376 (IRQ 15), a master
 * and a slave on each.  Drive index 0-3 is primary master, primary slave,
 * secondary master, secondary slave, as QEMU's -drive index= counts.
 */
#ifndef TRAPEZE_IDE_H
#define TRAPEZE_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/io.h"
#include "dev/irq.h"

#define IDE_DRIVES 4
#define IDE_PRIMARY_BASE 0x1f0
#define IDE_PRIMARY_CTL 0x3f6
#define IDE_PRIMARY_IRQ 14
#define IDE_SECONDARY_BASE 0x170
#define IDE_SECONDARY_CTL 0x376
#define IDE_SECONDARY_IRQ 15
#define IDE_LATENCY_NS 50000       /* a command's time in the VM */

struct disk;
struct ide;
struct pc;
struct timers;

/* Interrupts go to irq(opaque, 14 or 15, level). */
struct ide *ide_create(struct irq_line primary, struct irq_line secondary);
/* The PC's two channels at 0x1f0 and 0x170, IRQs 14 and 15, with the
 * board's drives. */
int ide__init(struct pc *pc);
void ide_destroy(struct ide *ide);
/* Each command takes ns of the drive's time (on ts's clock) before the
 * interrupt that ends it; status shows BSY meanwhile.  Without this call
 * the drive is never busy. */
void ide_set_latency(struct ide *ide, struct timers *ts, uint64_t ns);
/* Put a disk in drive index 0-3 (before the guest starts). */
void ide_attach(struct ide *ide, unsigned index, struct disk *disk);
/* Both channels' ports, whether or not drives are attached (a PC's
 * controller is always there; an empty channel reads as zeros). */
void ide__register(struct ide *ide, struct io_bus *bus);

#endif
