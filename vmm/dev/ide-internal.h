/*
 * Private to ide.c and ide-ata.c: the controller's state, and the calls
 * each half makes into the other.  ide.c is the registers, the channels,
 * the interrupt line and the drive's working time; ide-ata.c is the ATA
 * command set and the PIO data phases of its commands.
 */
#ifndef TRAPEZE_IDE_INTERNAL_H
#define TRAPEZE_IDE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/irq.h"
#include "dev/timer.h"
#include "host/disk.h"

#define ST_ERR  0x01
#define ST_DRQ  0x08
#define ST_DSC  0x10
#define ST_DRDY 0x40
#define ST_BSY  0x80
#define ER_ABRT 0x04
#define ER_UNC  0x40
#define DEV_DRV 0x10
#define DEV_LBA 0x40
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define LBA28_MAX 0x0fffffffull

enum xfer { XFER_NONE, XFER_READ, XFER_WRITE, XFER_PIO_IN };

struct ide_drive {
	struct disk *disk;        /* NULL: no medium (see answers()) */
	uint64_t sectors;
	uint16_t cyls, heads, spt; /* the geometry CHS addressing uses */
	uint8_t status, error;
	bool irq_pending;
	enum xfer xfer;
	uint64_t lba;             /* the sector in buf */
	unsigned left;            /* sectors after that one */
	unsigned pos;             /* bytes of buf transferred */
	uint8_t buf[DISK_SECTOR];
};

struct ide_channel {
	struct ide_drive drive[2];
	unsigned sel;             /* DEV bit: 0 master, 1 slave */
	uint8_t count, lba_lo, lba_mid, lba_hi, device, feature;
	uint8_t control;
	struct irq_line irq;
	bool line;                /* INTRQ as the interrupt line sees it */
	struct ide *ide;
	struct vtimer work;       /* the drive at work (ide_set_latency) */
	struct ide_drive *busy;   /* which, and the status it will show */
	uint8_t done_status;
};

struct ide {
	struct ide_channel ch[2];
	struct timers *timers;
	uint64_t latency;         /* ns of work before each interrupt */
};

/* ide.c: the drive has done what d->status says; raise the interrupt
 * (after its working time, if it has one). */
void ide_interrupt(struct ide_channel *ch, struct ide_drive *d);

/* ide-ata.c: a command written to drive d, which answers and has had
 * its pending interrupt acknowledged. */
void ide_ata_command(struct ide_channel *ch, struct ide_drive *d,
		     uint8_t cmd);
/* ide-ata.c: the data register, size bytes from or to the selected
 * drive's buffer. */
uint32_t ide_ata_data_in(struct ide_channel *ch, unsigned size);
void ide_ata_data_out(struct ide_channel *ch, unsigned size, uint32_t v);

#endif
