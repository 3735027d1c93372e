/*
 * fw_cfg (see fwcfg.h).  Each item is a little byte string; selecting an
 * item rewinds its read offset, each data read returns the next byte, and
 * reads past the end or of an item that does not exist return 0, as
 * QEMU's do.  No DMA interface (the ID item says so), no files (the file
 * directory is empty) and no writes.
 */
#include <stdlib.h>
#include <string.h>

#include "dev/io.h"
#include "dev/fwcfg.h"
#include "dev/pc.h"

#define NR_ITEMS 0x20
#define ITEM_MAX 16

struct item {
	uint8_t len;
	uint8_t data[ITEM_MAX];
};

struct fwcfg {
	struct item item[NR_ITEMS];
	uint16_t sel;
	uint32_t off;
};

static void set_le(struct fwcfg *f, unsigned key, uint64_t v, unsigned len)
{
	unsigned i;

	f->item[key].len = (uint8_t)len;
	for (i = 0; i < len; i++)
		f->item[key].data[i] = (uint8_t)(v >> (8 * i));
}

struct fwcfg *fwcfg_create(uint64_t ram_size, unsigned ncpus)
{
	struct fwcfg *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	memcpy(f->item[FWCFG_SIGNATURE].data, "QEMU", 4);
	f->item[FWCFG_SIGNATURE].len = 4;
	set_le(f, FWCFG_ID, 1, 4);              /* traditional interface */
	f->item[FWCFG_UUID].len = 16;           /* all zero: no UUID given */
	set_le(f, FWCFG_RAM_SIZE, ram_size, 8);
	set_le(f, FWCFG_NOGRAPHIC, 1, 2);
	set_le(f, FWCFG_NB_CPUS, ncpus, 2);
	set_le(f, FWCFG_MAX_CPUS, ncpus, 2);
	f->item[FWCFG_FILE_DIR].len = 4;        /* big-endian count: 0 */
	return f;
}

void fwcfg_destroy(struct fwcfg *f)
{
	free(f);
}

static uint8_t next_byte(struct fwcfg *f)
{
	unsigned key = f->sel & 0x3fff;         /* without write/arch bits */

	if ((f->sel & 0x8000) || key >= NR_ITEMS ||
	    f->off >= f->item[key].len)
		return 0;
	return f->item[key].data[f->off++];
}

void fwcfg_io(void *opaque, uint16_t port, unsigned size, bool write,
	      uint32_t *val)
{
	struct fwcfg *f = opaque;
	unsigned i;

	if (port == FWCFG_PORT) {
		if (write) {
			f->sel = (uint16_t)*val;
			f->off = 0;
		} else {
			*val = 0;
		}
		return;
	}
	if (write)
		return;
	*val = 0;
	for (i = 0; i < size; i++)
		*val |= (uint32_t)next_byte(f) << (8 * i);
}

void fwcfg__register(struct fwcfg *f, struct io_bus *bus)
{
	io_register(bus, FWCFG_PORT, 2, fwcfg_io, f, "fw_cfg");
}

int fwcfg__init(struct pc *pc)
{
	struct fwcfg *f = fwcfg_create(pc->ram_size, 1);

	if (!f)
		return -1;
	fwcfg__register(f, &pc->io);
	return 0;
}
