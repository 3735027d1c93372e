/*
 * ATA disks in PIO mode, as a PC's IDE controller presents them (ATA/ATAPI
 * specifications; QEMU's ide/core.c is the behaviour guests are used to).
 *
 * The guest writes a command's parameters into the task file (sector
 * count, LBA, device) and the command into the command register.  A
 * command is carried out on the trap of that out instruction.  A read
 * brings its first sector into the drive's buffer and raises DRQ and the
 * interrupt; the guest takes the 512 bytes from the data port (16- or
 * 32-bit, rep insw/insl), and the next sector comes in when the buffer is
 * empty.  A write raises DRQ for data; each full buffer goes to the image
 * (disk.c) before the drive asks for more or says it is done.
 *
 * A drive given a working time (ide_set_latency) takes it, as a real one
 * (and QEMU's, whose I/O completes on another thread) does: between the
 * work and the interrupt that reports it, status shows BSY alone.  A
 * kernel then sleeps on its request and runs something else, as it would
 * on a PC; without it, every process would run on from the instruction
 * that started its I/O.  With no working time, nothing is ever busy.
 *
 * Status and error registers say what ATA says they do: BSY while the
 * drive works, DRDY when ready, DRQ while data is due, ERR with the reason in
 * the error register: ABRT for a command refused or an address past the
 * end (ATA allows ABRT or IDNF there; QEMU says ABRT, so guests see the
 * same on both), UNC for a sector the host could not read.
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
#include <string.h>

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
static void interrupt(struct ide_channel *ch, struct ide_drive *d)
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

/* The command ends with an error: ERR, the reason, an interrupt.  DSC
 * (obsolete since ATA-4) is left clear, as QEMU's drives leave it. */
static void fail(struct ide_channel *ch, struct ide_drive *d, uint8_t why)
{
	d->error = why;
	d->status = ST_DRDY | ST_ERR;
	d->xfer = XFER_NONE;
	interrupt(ch, d);
}

static void done(struct ide_channel *ch, struct ide_drive *d)
{
	d->status = ST_DRDY | ST_DSC;
	d->xfer = XFER_NONE;
	interrupt(ch, d);
}

/* ---- addressing ---------------------------------------------------- */

/* The task file's address as an LBA; false if a CHS address names no
 * sector of the geometry. */
static bool get_lba(const struct ide_channel *ch, const struct ide_drive *d,
		    uint64_t *lba)
{
	unsigned cyl = (unsigned)ch->lba_hi << 8 | ch->lba_mid;
	unsigned head = ch->device & 0x0f, sect = ch->lba_lo;

	if (ch->device & DEV_LBA) {
		*lba = (uint64_t)head << 24 | (uint64_t)ch->lba_hi << 16 |
		       (uint64_t)ch->lba_mid << 8 | ch->lba_lo;
		return true;
	}
	if (sect == 0 || sect > d->spt || head >= d->heads)
		return false;
	*lba = ((uint64_t)cyl * d->heads + head) * d->spt + sect - 1;
	return true;
}

/* Write an address back to the task file, in the mode the guest used. */
static void set_lba(struct ide_channel *ch, const struct ide_drive *d,
		    uint64_t lba)
{
	unsigned cyl, head;

	if (ch->device & DEV_LBA) {
		ch->lba_lo = (uint8_t)lba;
		ch->lba_mid = (uint8_t)(lba >> 8);
		ch->lba_hi = (uint8_t)(lba >> 16);
		ch->device = (ch->device & 0xf0) | ((lba >> 24) & 0x0f);
		return;
	}
	cyl = (unsigned)(lba / (d->heads * d->spt));
	head = (unsigned)(lba / d->spt % d->heads);
	ch->lba_lo = (uint8_t)(lba % d->spt + 1);
	ch->lba_mid = (uint8_t)cyl;
	ch->lba_hi = (uint8_t)(cyl >> 8);
	ch->device = (ch->device & 0xf0) | head;
}

/* A sector finished: the count and address registers move on, as the
 * drive's own would (so after an error they name the failing sector). */
static void advance(struct ide_channel *ch, struct ide_drive *d)
{
	ch->count--;
	d->lba++;
	set_lba(ch, d, d->lba);
}

/* ---- reads and writes ------------------------------------------------- */

/* Offer sector d->lba to the guest, or end the command on an error. */
static void read_sector(struct ide_channel *ch, struct ide_drive *d)
{
	if (d->lba >= d->sectors || d->lba > LBA28_MAX) {
		fail(ch, d, ER_ABRT);
		return;
	}
	if (disk_read(d->disk, d->lba, d->buf)) {
		fail(ch, d, ER_UNC);
		return;
	}
	d->pos = 0;
	d->status = ST_DRDY | ST_DSC | ST_DRQ;
	interrupt(ch, d);
}

/* Ask for sector d->lba's data (no interrupt for the first: the guest
 * sends it right after the command). */
static void want_sector(struct ide_channel *ch, struct ide_drive *d,
			bool first)
{
	if (d->lba >= d->sectors || d->lba > LBA28_MAX) {
		fail(ch, d, ER_ABRT);
		return;
	}
	d->pos = 0;
	d->status = ST_DRDY | ST_DSC | ST_DRQ;
	if (!first)
		interrupt(ch, d);
}

static void start_rw(struct ide_channel *ch, struct ide_drive *d, bool write)
{
	uint64_t lba;

	if (!get_lba(ch, d, &lba)) {
		fail(ch, d, ER_ABRT);
		return;
	}
	d->lba = lba;
	d->left = (ch->count ? ch->count : 256) - 1;
	d->xfer = write ? XFER_WRITE : XFER_READ;
	if (write)
		want_sector(ch, d, true);
	else
		read_sector(ch, d);
}

/* The guest has taken or given the whole buffer. */
static void buffer_done(struct ide_channel *ch, struct ide_drive *d)
{
	switch (d->xfer) {
	case XFER_READ:
		advance(ch, d);
		if (d->left--) {
			read_sector(ch, d);
			break;
		}
		/* The last sector taken ends the command without another
		 * interrupt (ATA's PIO data-in protocol). */
		d->status = ST_DRDY | ST_DSC;
		d->xfer = XFER_NONE;
		break;
	case XFER_WRITE:
		if (disk_write(d->disk, d->lba, d->buf)) {
			fail(ch, d, ER_ABRT);
			break;
		}
		advance(ch, d);
		if (d->left--)
			want_sector(ch, d, false);
		else
			done(ch, d);
		break;
	default:
		d->status = ST_DRDY | ST_DSC;
		d->xfer = XFER_NONE;
	}
}

static uint32_t data_in(struct ide_channel *ch, unsigned size)
{
	struct ide_drive *d = &ch->drive[ch->sel];
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++) {
		if (!(d->status & ST_DRQ) || d->xfer == XFER_WRITE)
			break;
		v |= (uint32_t)d->buf[d->pos++] << (8 * i);
		if (d->pos == DISK_SECTOR)
			buffer_done(ch, d);
	}
	return v;
}

static void data_out(struct ide_channel *ch, unsigned size, uint32_t v)
{
	struct ide_drive *d = &ch->drive[ch->sel];
	unsigned i;

	for (i = 0; i < size; i++) {
		if (!(d->status & ST_DRQ) || d->xfer != XFER_WRITE)
			break;
		d->buf[d->pos++] = (uint8_t)(v >> (8 * i));
		if (d->pos == DISK_SECTOR)
			buffer_done(ch, d);
	}
}

/* ---- other commands ------------------------------------------------ */

/* An ATA string: two characters a word, the first in the high byte,
 * padded with spaces. */
static void id_string(uint16_t *w, unsigned words, const char *s)
{
	unsigned i;

	for (i = 0; i < 2 * words; i++) {
		uint8_t c = *s ? (uint8_t)*s++ : ' ';

		if (i % 2)
			w[i / 2] |= c;
		else
			w[i / 2] = (uint16_t)(c << 8);
	}
}

static void identify(struct ide_channel *ch, struct ide_drive *d)
{
	uint16_t w[256];
	uint64_t lba28 = d->sectors < LBA28_MAX ? d->sectors : LBA28_MAX;
	uint32_t chs = (uint32_t)d->cyls * d->heads * d->spt;
	unsigned i;

	memset(w, 0, sizeof(w));
	w[0] = 0x0040;                  /* fixed disk */
	w[1] = d->cyls;
	w[3] = d->heads;
	w[6] = d->spt;
	id_string(&w[10], 10, "TRAPEZE0000");
	id_string(&w[23], 4, "1.0");
	id_string(&w[27], 20, "TRAPEZE HARDDISK");
	w[49] = 0x0200;                 /* LBA supported */
	w[53] = 0x0001;                 /* words 54-58 are valid */
	w[54] = d->cyls;
	w[55] = d->heads;
	w[56] = d->spt;
	w[57] = (uint16_t)chs;
	w[58] = (uint16_t)(chs >> 16);
	w[60] = (uint16_t)lba28;
	w[61] = (uint16_t)(lba28 >> 16);
	w[83] = 0x4000 | 0x1000;        /* words 82-84 valid; FLUSH CACHE */
	w[84] = 0x4000;
	w[86] = 0x1000;                 /* FLUSH CACHE enabled */
	w[87] = 0x4000;
	for (i = 0; i < 256; i++) {
		d->buf[2 * i] = (uint8_t)w[i];
		d->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
	d->pos = 0;
	d->xfer = XFER_PIO_IN;
	d->status = ST_DRDY | ST_DSC | ST_DRQ;
	interrupt(ch, d);
}

static void command(struct ide_channel *ch, uint8_t cmd)
{
	struct ide_drive *d = &ch->drive[ch->sel];
	uint64_t lba;

	if (!answers(ch, d))
		return;
	stop_work(ch);
	d->irq_pending = false;         /* writing a command acknowledges */
	update_line(ch);                /* so its own interrupt is an edge */
	d->xfer = XFER_NONE;
	d->error = 0;
	if (!d->disk) {
		fail(ch, d, ER_ABRT);
		return;
	}
	switch (cmd) {
	case 0x20: case 0x21:           /* READ SECTORS (with/without retry) */
		start_rw(ch, d, false);
		break;
	case 0x30: case 0x31:           /* WRITE SECTORS */
		start_rw(ch, d, true);
		break;
	case 0xec:                      /* IDENTIFY DEVICE */
		identify(ch, d);
		break;
	case 0x40: case 0x41:           /* READ VERIFY SECTORS */
		if (!get_lba(ch, d, &lba) || lba + (ch->count ? ch->count : 256)
						     > d->sectors)
			fail(ch, d, ER_ABRT);
		else
			done(ch, d);
		break;
	case 0xe7:                      /* FLUSH CACHE */
		if (disk_flush(d->disk))
			fail(ch, d, ER_ABRT);
		else
			done(ch, d);
		break;
	case 0x10:                      /* RECALIBRATE */
	case 0x91:                      /* INITIALIZE DEVICE PARAMETERS */
	case 0xef:                      /* SET FEATURES */
		done(ch, d);
		break;
	default:
		fail(ch, d, ER_ABRT);
	}
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
	case 0: return data_in(ch, size);
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
	case 0: data_out(ch, size, v); return;
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
