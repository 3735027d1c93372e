/*
 * The ATA command set of the IDE controller's drives (ide.c has the
 * registers, the interrupt line and the working time): IDENTIFY DEVICE,
 * READ and WRITE SECTORS in PIO mode, READ VERIFY, FLUSH CACHE and the
 * few a BIOS-era driver sends and expects to succeed.
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
 * Status and error registers say what ATA says they do: BSY while the
 * drive works, DRDY when ready, DRQ while data is due, ERR with the reason in
 * the error register: ABRT for a command refused or an address past the
 * end (ATA allows ABRT or IDNF there; QEMU says ABRT, so guests see the
 * same on both), UNC for a sector the host could not read.
 */
#include <string.h>

#include "host/disk.h"
#include "dev/ide-internal.h"

/* The command ends with an error: ERR, the reason, an interrupt.  DSC
 * (obsolete since ATA-4) is left clear, as QEMU's drives leave it. */
static void fail(struct ide_channel *ch, struct ide_drive *d, uint8_t why)
{
	d->error = why;
	d->status = ST_DRDY | ST_ERR;
	d->xfer = XFER_NONE;
	ide_interrupt(ch, d);
}

static void done(struct ide_channel *ch, struct ide_drive *d)
{
	d->status = ST_DRDY | ST_DSC;
	d->xfer = XFER_NONE;
	ide_interrupt(ch, d);
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
	ide_interrupt(ch, d);
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
		ide_interrupt(ch, d);
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

uint32_t ide_ata_data_in(struct ide_channel *ch, unsigned size)
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

void ide_ata_data_out(struct ide_channel *ch, unsigned size, uint32_t v)
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
	ide_interrupt(ch, d);
}

void ide_ata_command(struct ide_channel *ch, struct ide_drive *d, uint8_t cmd)
{
	uint64_t lba;

	d->xfer = XFER_NONE;
	d->error = 0;
	if (!d->disk) {
		/* the absent master that answers for its slave (ide.c) */
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
