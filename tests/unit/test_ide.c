/*
 * The IDE controller and disk images: each test puts an image in a drive,
 * drives the ports through the bus as a guest driver would (xv6's ide.c
 * among them), and checks status, error, the task file, the interrupt
 * line and the image file against what the ATA specification says.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "dev/ide.h"
#include "host/disk.h"
#include "dev/io.h"
#include "dev/timer.h"

/* Register offsets and bits, from the ATA specification. */
enum { DATA = 0, ERROR = 1, COUNT = 2, LBA0 = 3, LBA1 = 4, LBA2 = 5,
       DEVICE = 6, STATUS = 7, COMMAND = 7 };
#define BSY  0x80
#define DRDY 0x40
#define DRQ  0x08
#define ERR  0x01
#define ABRT 0x04
#define NIEN 0x02
#define SRST 0x04

#define P 0x1f0
#define PCTL 0x3f6

static struct io_bus bus;
static struct ide *ide;
static struct disk *disks[4];
static char paths[4][64];
static struct {
	unsigned raises[16], lowers[16];
	bool level[16];
} irq;

static void record_irq(void *opaque, unsigned line, bool level)
{
	ck_assert_ptr_eq(opaque, &irq);
	ck_assert_uint_lt(line, 16);
	if (level)
		irq.raises[line]++;
	else
		irq.lowers[line]++;
	irq.level[line] = level;
}

/* Sector s of a fresh image is filled with the byte (s * 7 + 1). */
static uint8_t pattern(uint64_t s)
{
	return (uint8_t)(s * 7 + 1);
}

static void make_image(unsigned index, unsigned sectors, bool snapshot)
{
	uint8_t buf[512];
	char err[256];
	unsigned s;
	int fd;

	snprintf(paths[index], sizeof(paths[index]), "/tmp/test_ide.%d.%u",
		 (int)getpid(), index);
	fd = open(paths[index], O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	for (s = 0; s < sectors; s++) {
		memset(buf, pattern(s), sizeof(buf));
		ck_assert_int_eq(write(fd, buf, 512), 512);
	}
	close(fd);
	disks[index] = disk_open(paths[index], snapshot, err, sizeof(err));
	ck_assert_msg(disks[index] != NULL, "%s", err);
	ide_attach(ide, index, disks[index]);
}

static void setup(void)
{
	memset(&bus, 0, sizeof(bus));
	memset(&irq, 0, sizeof(irq));
	ide = ide_create(
		(struct irq_line){ record_irq, &irq, IDE_PRIMARY_IRQ },
		(struct irq_line){ record_irq, &irq, IDE_SECONDARY_IRQ });
	ck_assert_ptr_nonnull(ide);
	ide__register(ide, &bus);
}

static void teardown(void)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (disks[i])
			disk_close(disks[i]);
		disks[i] = NULL;
		if (paths[i][0])
			unlink(paths[i]);
		paths[i][0] = 0;
	}
	ide_destroy(ide);
}

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	io_port(&bus, port, size, false, &v);
	return v;
}

static void out(uint16_t port, unsigned size, uint32_t v)
{
	io_port(&bus, port, size, true, &v);
}

static uint8_t inb(uint16_t port) { return (uint8_t)in(port, 1); }
static void outb(uint16_t port, uint8_t v) { out(port, 1, v); }

/* xv6's idestart: count, LBA, device (LBA mode), command. */
static void issue(uint16_t base, unsigned drive, uint32_t lba, uint8_t count,
		  uint8_t cmd)
{
	outb(base + COUNT, count);
	outb(base + LBA0, lba & 0xff);
	outb(base + LBA1, (lba >> 8) & 0xff);
	outb(base + LBA2, (lba >> 16) & 0xff);
	outb(base + DEVICE, 0xe0 | (drive << 4) | ((lba >> 24) & 0x0f));
	outb(base + COMMAND, cmd);
}

/* insl(port, buf, 128): one sector in 32-bit reads. */
static void insl(uint16_t port, uint8_t *buf)
{
	unsigned i;

	for (i = 0; i < 128; i++) {
		uint32_t v = in(port, 4);

		memcpy(buf + 4 * i, &v, 4);
	}
}

static void outsw(uint16_t port, const uint8_t *buf)
{
	unsigned i;

	for (i = 0; i < 256; i++)
		out(port, 2, (uint32_t)buf[2 * i] | (uint32_t)buf[2 * i + 1] << 8);
}

static void file_sector(unsigned index, unsigned s, uint8_t *buf)
{
	int fd = open(paths[index], O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, 512, (off_t)s * 512), 512);
	close(fd);
}

static bool all(const uint8_t *buf, uint8_t v)
{
	unsigned i;

	for (i = 0; i < 512; i++)
		if (buf[i] != v)
			return false;
	return true;
}

/* ---- presence, as xv6's ideinit finds it ---- */

START_TEST(test_empty_channel_reads_zero)
{
	ck_assert_uint_eq(inb(P + STATUS), 0);
	ck_assert_uint_eq(inb(PCTL), 0);
	outb(P + COMMAND, 0x20);
	ck_assert_uint_eq(irq.raises[14], 0);
}
END_TEST

START_TEST(test_absent_slave_reads_zero_status)
{
	make_image(0, 8, false);
	ck_assert_uint_eq(inb(P + STATUS), DRDY | 0x10);
	outb(P + DEVICE, 0xe0 | 1 << 4);
	ck_assert_uint_eq(inb(P + STATUS), 0);
}
END_TEST

START_TEST(test_only_disk1_master_reads_ready_and_refuses_commands)
{
	make_image(1, 8, false);
	/* idewait(0) on drive 0, then the probe of drive 1 */
	ck_assert_uint_eq(inb(P + STATUS) & (BSY | DRDY), DRDY);
	outb(P + DEVICE, 0xe0 | 1 << 4);
	ck_assert_uint_ne(inb(P + STATUS), 0);
	issue(P, 0, 0, 1, 0x20);
	ck_assert_uint_eq(inb(P + STATUS), DRDY | ERR);
	ck_assert_uint_eq(inb(P + ERROR), ABRT);
}
END_TEST

/* ---- reads ---- */

START_TEST(test_read_sector_with_insl_and_irq14)
{
	uint8_t buf[512];

	make_image(1, 8, false);
	outb(PCTL, 0);
	issue(P, 1, 5, 1, 0x20);
	ck_assert_uint_eq(irq.raises[14], 1);
	ck_assert(irq.level[14]);
	ck_assert_uint_eq(inb(PCTL), DRDY | 0x10 | DRQ);
	ck_assert(irq.level[14]);           /* alternate status: no ack */
	ck_assert_uint_eq(inb(P + STATUS), DRDY | 0x10 | DRQ);
	ck_assert(!irq.level[14]);          /* status read acknowledged */
	insl(P, buf);
	ck_assert(all(buf, pattern(5)));
	ck_assert_uint_eq(inb(P + STATUS), DRDY | 0x10);
	ck_assert_uint_eq(irq.raises[14], 1);   /* none at the end */
	ck_assert_uint_eq(inb(P + COUNT), 0);
	ck_assert_uint_eq(inb(P + LBA0), 6);
}
END_TEST

START_TEST(test_multi_sector_read_interrupts_per_sector)
{
	uint8_t buf[512];
	unsigned s;

	make_image(0, 16, false);
	issue(P, 0, 2, 3, 0x20);
	for (s = 0; s < 3; s++) {
		ck_assert_uint_eq(irq.raises[14], s + 1);
		ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), DRQ);
		insl(P, buf);
		ck_assert(all(buf, pattern(2 + s)));
	}
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), 0);
	ck_assert_uint_eq(irq.raises[14], 3);
}
END_TEST

START_TEST(test_sector_count_zero_reads_256_sectors)
{
	uint8_t buf[512];
	unsigned s;

	make_image(0, 300, false);
	issue(P, 0, 10, 0, 0x20);
	for (s = 0; s < 256; s++) {
		ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), DRQ);
		insl(P, buf);
		ck_assert(all(buf, pattern(10 + s)));
	}
	ck_assert_uint_eq(inb(P + STATUS) & DRQ, 0);
	ck_assert_uint_eq(inb(P + LBA0) | inb(P + LBA1) << 8, 266);
}
END_TEST

START_TEST(test_read_past_end_is_err_abrt)
{
	make_image(1, 8, false);
	issue(P, 1, 8, 1, 0x20);
	ck_assert_uint_eq(irq.raises[14], 1);
	ck_assert_uint_eq(inb(P + STATUS), DRDY | ERR);
	ck_assert_uint_eq(inb(P + ERROR), ABRT);
	ck_assert_uint_eq(in(P + DATA, 4), 0);  /* no data to take */
	issue(P, 1, 0x0fffffff, 1, 0x20);
	ck_assert_uint_eq(inb(P + STATUS) & ERR, ERR);
}
END_TEST

START_TEST(test_read_across_the_end_stops_at_the_first_missing_sector)
{
	uint8_t buf[512];

	make_image(0, 8, false);
	issue(P, 0, 7, 2, 0x20);
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), DRQ);
	insl(P, buf);
	ck_assert(all(buf, pattern(7)));
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), ERR);
	ck_assert_uint_eq(inb(P + ERROR), ABRT);
	ck_assert_uint_eq(inb(P + LBA0), 8);    /* the failing sector */
	ck_assert_uint_eq(inb(P + COUNT), 1);
}
END_TEST

START_TEST(test_chs_address_is_translated)
{
	uint8_t buf[512];

	make_image(0, 2016, false);             /* 2 cylinders of 16 * 63 */
	/* cylinder 1, head 2, sector 4: (1 * 16 + 2) * 63 + 3 = 1137 */
	outb(P + COUNT, 1);
	outb(P + LBA0, 4);
	outb(P + LBA1, 1);
	outb(P + LBA2, 0);
	outb(P + DEVICE, 0xa0 | 2);
	outb(P + COMMAND, 0x20);
	insl(P, buf);
	ck_assert(all(buf, pattern(1137)));
	ck_assert_uint_eq(inb(P + LBA0), 5);
	outb(P + LBA0, 0);                      /* sector numbers start at 1 */
	outb(P + COMMAND, 0x20);
	ck_assert_uint_eq(inb(P + ERROR), ABRT);
}
END_TEST

/* ---- writes ---- */

START_TEST(test_write_reaches_the_file_when_the_sector_completes)
{
	uint8_t buf[512], got[512];

	make_image(1, 8, false);
	memset(buf, 0x5a, sizeof(buf));
	issue(P, 1, 3, 1, 0x30);
	ck_assert_uint_eq(irq.raises[14], 0);   /* data first */
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), DRQ);
	outsw(P, buf);
	ck_assert_uint_eq(irq.raises[14], 1);
	ck_assert_uint_eq(inb(P + STATUS), DRDY | 0x10);
	file_sector(1, 3, got);
	ck_assert(all(got, 0x5a));
	file_sector(1, 4, got);
	ck_assert(all(got, pattern(4)));
}
END_TEST

START_TEST(test_multi_sector_write_interrupts_after_each_sector)
{
	uint8_t buf[512], got[512];

	make_image(0, 8, false);
	issue(P, 0, 1, 2, 0x30);
	memset(buf, 0x11, sizeof(buf));
	outsw(P, buf);
	ck_assert_uint_eq(irq.raises[14], 1);
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), DRQ);
	memset(buf, 0x22, sizeof(buf));
	outsw(P, buf);
	ck_assert_uint_eq(irq.raises[14], 2);
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), 0);
	file_sector(0, 1, got);
	ck_assert(all(got, 0x11));
	file_sector(0, 2, got);
	ck_assert(all(got, 0x22));
}
END_TEST

START_TEST(test_write_past_end_is_err_abrt_and_file_unchanged)
{
	uint8_t got[512];

	make_image(0, 8, false);
	issue(P, 0, 9, 1, 0x30);
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), ERR);
	ck_assert_uint_eq(inb(P + ERROR), ABRT);
	out(P + DATA, 4, 0x12345678);           /* ignored */
	file_sector(0, 7, got);
	ck_assert(all(got, pattern(7)));
}
END_TEST

START_TEST(test_snapshot_keeps_the_file_and_reads_back_writes)
{
	uint8_t buf[512], got[512];

	make_image(1, 8, true);
	memset(buf, 0xee, sizeof(buf));
	issue(P, 1, 2, 1, 0x30);
	outsw(P, buf);
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), 0);
	issue(P, 1, 2, 1, 0x20);
	insl(P, got);
	ck_assert(all(got, 0xee));
	file_sector(1, 2, got);
	ck_assert(all(got, pattern(2)));
}
END_TEST

/* ---- interrupts and control ---- */

START_TEST(test_nien_holds_the_interrupt_line_down)
{
	uint8_t buf[512];

	make_image(0, 8, false);
	outb(PCTL, NIEN);
	issue(P, 0, 0, 1, 0x20);
	ck_assert_uint_eq(irq.raises[14], 0);
	ck_assert_uint_eq(inb(PCTL) & DRQ, DRQ);
	outb(PCTL, 0);                          /* still pending: it shows */
	ck_assert_uint_eq(irq.raises[14], 1);
	insl(P, buf);
	ck_assert(all(buf, pattern(0)));
}
END_TEST

/* A driver that never reads status after a write (xv6's ideintr does
 * not) still gets an interrupt edge for its next command: writing the
 * command register acknowledges the old one. */
START_TEST(test_command_acknowledges_so_each_command_interrupts)
{
	uint8_t buf[512];

	make_image(0, 8, false);
	memset(buf, 0x33, sizeof(buf));
	issue(P, 0, 1, 1, 0x30);
	outsw(P, buf);
	ck_assert_uint_eq(irq.raises[14], 1);
	ck_assert(irq.level[14]);                 /* not acknowledged */
	issue(P, 0, 1, 1, 0x20);
	ck_assert_uint_eq(irq.raises[14], 2);
	ck_assert_uint_eq(irq.lowers[14], 1);
	insl(P, buf);
	ck_assert(all(buf, 0x33));
}
END_TEST

START_TEST(test_secondary_channel_uses_irq15)
{
	uint8_t buf[512];

	make_image(3, 8, false);
	issue(0x170, 1, 4, 1, 0x20);
	ck_assert_uint_eq(irq.raises[15], 1);
	ck_assert_uint_eq(irq.raises[14], 0);
	insl(0x170, buf);
	ck_assert(all(buf, pattern(4)));
}
END_TEST

START_TEST(test_identify_gives_size_and_lba_capability)
{
	uint16_t w[256];
	unsigned i;

	make_image(0, 5000, false);
	issue(P, 0, 0, 0, 0xec);
	ck_assert_uint_eq(irq.raises[14], 1);
	ck_assert_uint_eq(inb(P + STATUS) & DRQ, DRQ);
	for (i = 0; i < 256; i++)
		w[i] = (uint16_t)in(P + DATA, 2);
	ck_assert_uint_eq(inb(P + STATUS) & DRQ, 0);
	ck_assert_uint_eq(w[0], 0x0040);
	ck_assert_uint_eq(w[49] & 0x0200, 0x0200);
	ck_assert_uint_eq(w[60] | (uint32_t)w[61] << 16, 5000);
	ck_assert_uint_eq(w[27] >> 8, 'T');     /* model, high byte first */
}
END_TEST

START_TEST(test_unknown_command_is_aborted)
{
	make_image(0, 8, false);
	issue(P, 0, 0, 1, 0x24);                /* READ SECTORS EXT: LBA48 */
	ck_assert_uint_eq(inb(P + STATUS) & ERR, ERR);
	ck_assert_uint_eq(inb(P + ERROR), ABRT);
}
END_TEST

START_TEST(test_soft_reset_leaves_the_ata_signature)
{
	make_image(0, 8, false);
	make_image(1, 8, false);
	issue(P, 1, 7, 5, 0x20);
	outb(PCTL, SRST);
	ck_assert_uint_eq(inb(PCTL) & BSY, BSY);
	outb(PCTL, 0);
	ck_assert_uint_eq(inb(P + STATUS), DRDY | 0x10);
	ck_assert_uint_eq(inb(P + ERROR), 0x01);
	ck_assert_uint_eq(inb(P + COUNT), 1);
	ck_assert_uint_eq(inb(P + LBA0), 1);
	ck_assert_uint_eq(inb(P + LBA1) | inb(P + LBA2), 0);
	ck_assert_uint_eq(inb(P + DEVICE) & 0x10, 0);   /* drive 0 again */
}
END_TEST

/* ---- hostile guests ---- */

/* Any sequence of accesses, of any width, to any of the controller's
 * ports: the monitor must neither crash nor write outside the image
 * (checked by ASan/valgrind runs as much as by surviving here), and the
 * drive must still work afterwards. */
START_TEST(test_random_port_traffic_never_breaks_the_drive)
{
	static const uint16_t ports[] = { P, P + 1, P + 2, P + 3, P + 4,
					  P + 5, P + 6, P + 7, PCTL };
	uint32_t x = 12345;
	uint8_t buf[512];
	unsigned i;

	make_image(0, 4, false);
	make_image(1, 3, true);
	for (i = 0; i < 300000; i++) {
		uint16_t port;
		unsigned size;

		x = x * 1103515245u + 12345u;
		port = ports[(x >> 8) % 9];
		size = 1u << ((x >> 4) % 3);
		if (port == P + 7 && (x & 1))
			out(port, 1, 0x20 + ((x >> 12) & 0x10));  /* rd/wr */
		else if ((x >> 16) & 1)
			out(port, size, x);
		else
			in(port, size);
	}
	outb(PCTL, SRST);
	outb(PCTL, 0);
	issue(P, 0, 3, 1, 0x20);
	ck_assert_uint_eq(inb(P + STATUS) & (DRQ | ERR), DRQ);
	insl(P, buf);
	/* Sector 3 of drive 0 may have been written at random, but reads
	 * back whole: 512 bytes, then no more data. */
	ck_assert_uint_eq(inb(P + STATUS) & DRQ, 0);
}
END_TEST

/* ---- images ---- */

START_TEST(test_disk_open_refuses_bad_images)
{
	char err[256], path[64];
	int fd;

	ck_assert_ptr_null(disk_open("/nonexistent/x.img", false, err,
				     sizeof(err)));
	ck_assert_str_eq(err, "cannot open it: No such file or directory");
	snprintf(path, sizeof(path), "/tmp/test_ide.%d.odd", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
	ck_assert_ptr_null(disk_open(path, false, err, sizeof(err)));
	ck_assert_str_eq(err, "its size, 3 bytes, is not a whole number of "
			      "512-byte sectors");
	fd = open(path, O_RDWR | O_TRUNC);
	close(fd);
	ck_assert_ptr_null(disk_open(path, true, err, sizeof(err)));
	ck_assert_str_eq(err, "is empty");
	unlink(path);
}
END_TEST

/* The host's clock, as the latency test moves it on. */
static uint64_t fake_now = 1000000000;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

/* A drive given a working time is busy until it has passed, then
 * reports with the interrupt; a command meanwhile abandons the work. */
START_TEST(test_a_drive_with_latency_is_busy_then_interrupts)
{
	struct timers ts;
	uint8_t buf[512];

	memset(&ts, 0, sizeof(ts));
	timers_set_clock(&ts, fake_clock, NULL);
	make_image(1, 16, true);
	ide_set_latency(ide, &ts, 1000000);            /* 1 ms */
	issue(P, 1, 5, 1, 0x20);
	ck_assert_uint_eq(inb(P + STATUS), BSY);
	ck_assert_uint_eq(irq.raises[14], 0);
	ck_assert_uint_eq(in(P + DATA, 4), 0);          /* no data yet */
	timers_run(&ts);                                /* too early */
	ck_assert_uint_eq(inb(P + STATUS), BSY);
	fake_now += 2000000;                            /* 2 ms on */
	timers_run(&ts);
	ck_assert_uint_eq(irq.raises[14], 1);
	ck_assert_uint_eq(inb(P + STATUS) & (BSY | DRDY | DRQ), DRDY | DRQ);
	insl(P + DATA, buf);
	ck_assert_uint_eq(buf[0], pattern(5));
	ck_assert_uint_eq(buf[511], pattern(5));
	/* A command while busy: the old work never reports. */
	issue(P, 1, 6, 1, 0x20);
	issue(P, 1, 7, 1, 0x20);
	fake_now += 2000000;                            /* 2 ms on */
	timers_run(&ts);
	ck_assert_uint_eq(irq.raises[14], 2);
	insl(P + DATA, buf);
	ck_assert_uint_eq(buf[0], pattern(7));
}
END_TEST

static Suite *ide_suite(void)
{
	Suite *s = suite_create("ide");
	TCase *t = tcase_create("ide");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_empty_channel_reads_zero);
	tcase_add_test(t, test_absent_slave_reads_zero_status);
	tcase_add_test(t, test_only_disk1_master_reads_ready_and_refuses_commands);
	tcase_add_test(t, test_read_sector_with_insl_and_irq14);
	tcase_add_test(t, test_multi_sector_read_interrupts_per_sector);
	tcase_add_test(t, test_sector_count_zero_reads_256_sectors);
	tcase_add_test(t, test_read_past_end_is_err_abrt);
	tcase_add_test(t, test_read_across_the_end_stops_at_the_first_missing_sector);
	tcase_add_test(t, test_chs_address_is_translated);
	tcase_add_test(t, test_write_reaches_the_file_when_the_sector_completes);
	tcase_add_test(t, test_multi_sector_write_interrupts_after_each_sector);
	tcase_add_test(t, test_write_past_end_is_err_abrt_and_file_unchanged);
	tcase_add_test(t, test_snapshot_keeps_the_file_and_reads_back_writes);
	tcase_add_test(t, test_nien_holds_the_interrupt_line_down);
	tcase_add_test(t, test_command_acknowledges_so_each_command_interrupts);
	tcase_add_test(t, test_secondary_channel_uses_irq15);
	tcase_add_test(t, test_identify_gives_size_and_lba_capability);
	tcase_add_test(t, test_unknown_command_is_aborted);
	tcase_add_test(t, test_soft_reset_leaves_the_ata_signature);
	tcase_add_test(t, test_random_port_traffic_never_breaks_the_drive);
	tcase_add_test(t, test_disk_open_refuses_bad_images);
	tcase_add_test(t, test_a_drive_with_latency_is_busy_then_interrupts);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(ide_suite)
