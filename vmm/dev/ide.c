/*
 * ATA disks in PIO mode, as a PC's IDE controller presents them (ATA/ATAPI
 * specifications; QEMU's ide/core.c is the behaviour guests are used to).
 * This file is the controller: the two channels' registers, which drive
 * answers, the interrupt line and the drive's working time.  The commands
 * written to the command register, and the data phases they start, are
 * ide-ata.c's.
 *
 * A drive given a working time (ide_set_latency) takes it, as a real one
 * (and QEMU's, whose I/O completes on another thread) does: between the
 * work and the interrupt that reports it, status shows BSY alone.  A
 * kernel then sleeps on its request and runs something else, as it would
 * on a PC; without it, every process would run on from the instruction
 * that started its I/O.  With no working time, nothing is ever busy.
 *
 * The interrupt (INTRQ) is pending from a data request or completion
 * until the guest reads the status register or writes a command; it
 * reaches the interrupt line only for the selected drive and while nIEN
 * in the device control register is clear.
 *
 * Registers (from the channel's base; the control block is one port):
 *   0 data   1 error / features   2 sector count   3-5 LBA 0-23
 *   6 device (DEV bit 4, LBA bit 6, LBA 24-27)   7 status / command
 *   ctl: alternate status (no interrupt acknowledge) / device control
 */
#include <stdlib.h>

#include "dev/timer.h"

#include "host/disk.h"
#include "dev/ide.h"
#include "dev/ide-internal.h"
#include "dev/pc.h"

static void reset_drive(struct ide_drive *d)
{
	d->status = ST_DRDY | ST_DSC;
	d->error = 0x01;          /* diagnostic code: no error */
	d->xfer = XFER_NONE;
	d->irq_pending = false;
}

struct ide *ide_create(struct irq_line primary, struct irq_line secondary)
{
	struct ide *ide = calloc(1, sizeof(*ide));
	unsigned c;

	if (!ide)
		return NULL;
	for (c = 0; c < 2; c++) {
		ide->ch[c].ide = ide;
		ide->ch[c].irq = c ? secondary : primary;
		reset_drive(&ide->ch[c].drive[0]);
		reset_drive(&ide->ch[c].drive[1]);
	}
	return ide;
}

void ide_destroy(struct ide *ide)
{
	free(ide);
}

void ide_attach(struct ide *ide, unsigned index, struct disk *disk)
{
	struct ide_drive *d = &ide->ch[index / 2].drive[index % 2];
	uint64_t cyls;

	d->disk = disk;
	d->sectors = disk_sectors(disk);
	/* The usual translated geometry of an LBA disk: 16 heads of 63
	 * sectors, as many cylinders as fit (at least one, at most 16383). */
	d->heads = 16;
	d->spt = 63;
	cyls = d->sectors / (16 * 63);
	d->cyls = cyls < 1 ? 1 : cyls > 16383 ? 16383 : (uint16_t)cyls;
}

/* Does drive d answer register accesses?  A present drive does.  So does
 * an absent master whose slave is present: as on QEMU, it reads as ready
 * and refuses every command (xv6 boots with only disk 1 and waits for
 * drive 0 to be ready first).  An absent slave reads as zeros and ignores
 * commands, which is how software finds it missing. */
static bool answers(const struct ide_channel *ch, const struct ide_drive *d)
{
	return d->disk || (d == &ch->drive[0] && ch->drive[1].disk);
}

static void update_line(struct ide_channel *ch)
{
	struct ide_drive *d = &ch->drive[ch->sel];
	bool level = d->irq_pending && answers(ch, d) &&
		     !(ch->control & CTL_NIEN);

	if (level != ch->line) {
		ch->line = level;
		irq_line_set(&ch->irq, level);
	}
}

static void raise_now(struct ide_channel *ch, struct ide_drive *d)
{
	d->irq_pending = true;
	update_line(ch);
}

/* The drive has done what d->status says: after its working time, if
 * it has one, status shows it and the interrupt is raised. */
void ide_interrupt(struct ide_channel *ch, struct ide_drive *d)
{
	if (!ch->ide->latency) {
		raise_now(ch, d);
		return;
	}
	ch->busy = d;
	ch->done_status = d->status;
	d->status = ST_BSY;
	vtimer_start(ch->ide->timers, &ch->work, ch->ide->latency, 0);
}

static void work_done(void *opaque, uint64_t now)
{
	struct ide_channel *ch = opaque;
	struct ide_drive *d = ch->busy;

	(void)now;
	if (!d)
		return;
	ch->busy = NULL;
	d->status = ch->done_status;
	raise_now(ch, d);
}

/* A command or a reset while the drive works: the work is abandoned. */
static void stop_work(struct ide_channel *ch)
{
	if (!ch->busy)
		return;         /* (busy only with a latency, so with timers) */
	vtimer_stop(ch->ide->timers, &ch->work);
	ch->busy = NULL;
}

void ide_set_latency(struct ide *ide, struct timers *ts, uint64_t ns)
{
	unsigned c;

	ide->timers = ts;
	ide->latency = ns;
	for (c = 0; c < 2; c++) {
		ide->ch[c].work = (struct vtimer){ .fire = work_done,
						   .opaque = &ide->ch[c],
						   .host_clock = true };
		timers_add(ts, &ide->ch[c].work);
	}
}

/* The command register: the drive's work in progress is abandoned and
 * the command is ide-ata.c's to carry out. */
static void command(struct ide_channel *ch, uint8_t cmd)
{
	struct ide_drive *d = &ch->drive[ch->sel];

	if (!answers(ch, d))
		return;
	stop_work(ch);
	d->irq_pending = false;         /* writing a command acknowledges */
	update_line(ch);                /* so its own interrupt is an edge */
	ide_ata_command(ch, d, cmd);
}

/* ---- the ports ----------------------------------------------------- */

/* Software reset (SRST): both drives to their power-on state, and the
 * task file to the signature of an ATA device. */
static void soft_reset(struct ide_channel *ch)
{
	reset_drive(&ch->drive[0]);
	reset_drive(&ch->drive[1]);
	ch->count = ch->lba_lo = 1;
	ch->lba_mid = ch->lba_hi = 0;
	ch->device = 0;
	ch->sel = 0;
}

static uint32_t read_reg(struct ide_channel *ch, unsigned reg, unsigned size)
{
	struct ide_drive *d = &ch->drive[ch->sel];

	if (!answers(ch, d))
		return 0;
	switch (reg) {
	case 0: return ide_ata_data_in(ch, size);
	case 1: return d->error;
	case 2: return ch->count;
	case 3: return ch->lba_lo;
	case 4: return ch->lba_mid;
	case 5: return ch->lba_hi;
	case 6: return ch->device | 0xa0;   /* obsolete bits read as one */
	default:
		d->irq_pending = false;         /* reading status acknowledges */
		update_line(ch);
		return d->status;
	}
}

static void write_reg(struct ide_channel *ch, unsigned reg, unsigned size,
		      uint32_t v)
{
	switch (reg) {
	case 0: ide_ata_data_out(ch, size, v); return;
	case 1: ch->feature = (uint8_t)v; return;
	case 2: ch->count = (uint8_t)v; return;
	case 3: ch->lba_lo = (uint8_t)v; return;
	case 4: ch->lba_mid = (uint8_t)v; return;
	case 5: ch->lba_hi = (uint8_t)v; return;
	case 6:
		ch->device = (uint8_t)v & ~0xa0;
		ch->sel = (v & DEV_DRV) ? 1 : 0;
		update_line(ch);
		return;
	default:
		command(ch, (uint8_t)v);
	}
}

static void ide_cmd_io(void *opaque, uint16_t port, unsigned size,
		       bool write, uint32_t *val)
{
	struct ide_channel *ch = opaque;
	unsigned reg = port & 7;

	if (write)
		write_reg(ch, reg, size, *val);
	else
		*val = read_reg(ch, reg, size);
}

static void ide_ctl_io(void *opaque, uint16_t port, unsigned size,
		       bool write, uint32_t *val)
{
	struct ide_channel *ch = opaque;
	struct ide_drive *d = &ch->drive[ch->sel];
	uint8_t v = (uint8_t)*val;

	if (!write) {
		*val = answers(ch, d) ? d->status : 0;
		return;
	}
	if (!(ch->control & CTL_SRST) && (v & CTL_SRST)) {
		/* Busy for as long as SRST is held. */
		stop_work(ch);
		reset_drive(&ch->drive[0]);
		reset_drive(&ch->drive[1]);
		ch->drive[0].status = ch->drive[1].status = ST_BSY;
	} else if ((ch->control & CTL_SRST) && !(v & CTL_SRST)) {
		soft_reset(ch);
	}
	ch->control = v;
	update_line(ch);
}

static const char *reg_name(unsigned off, bool write)
{
	static const char *const out[8] = {
		"data", "features", "count", "LBA low", "LBA mid", "LBA high",
		"device", "command" };
	static const char *const in[8] = {
		"data", "error", "count", "LBA low", "LBA mid", "LBA high",
		"device", "status" };

	return (write ? out : in)[off & 7];
}

void ide__register(struct ide *ide, struct io_bus *bus)
{
	io_register(bus, IDE_PRIMARY_BASE, 8, ide_cmd_io, &ide->ch[0],
		    "IDE primary");
	io_register(bus, IDE_PRIMARY_CTL, 1, ide_ctl_io, &ide->ch[0],
		    "IDE primary control");
	io_register(bus, IDE_SECONDARY_BASE, 8, ide_cmd_io, &ide->ch[1],
		    "IDE secondary");
	io_register(bus, IDE_SECONDARY_CTL, 1, ide_ctl_io, &ide->ch[1],
		    "IDE secondary control");
	io_name_registers(bus, IDE_PRIMARY_BASE, reg_name);
	io_name_registers(bus, IDE_SECONDARY_BASE, reg_name);
}

_Static_assert(PC_DRIVES == IDE_DRIVES, "one --drive index per IDE drive");

int ide__init(struct pc *pc)
{
	struct ide *ide = ide_create(
		irq_router_line(&pc->lines, IDE_PRIMARY_IRQ),
		irq_router_line(&pc->lines, IDE_SECONDARY_IRQ));
	unsigned i;

	if (!ide)
		return -1;
	/* A disk that takes some time, as a PC's and QEMU's do: the guest's
	 * kernel sleeps on its I/O and runs something else meanwhile. */
	ide_set_latency(ide, pc->timers, IDE_LATENCY_NS);
	for (i = 0; i < IDE_DRIVES; i++)
		if (pc->drive[i])
			ide_attach(ide, i, pc->drive[i]);
	ide__register(ide, &pc->io);
	return 0;
}
