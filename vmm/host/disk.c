/*
 * Disk images (see disk.h).
 *
 * Without snapshot, every sector the guest writes goes to the file with
 * pwrite as the sector's transfer completes, before the controller says
 * the command is done.  So whatever way the run ends (the guest's exit,
 * --timeout, Ctrl-C, a crash report, an internal error, even kill -9), the
 * file holds every write the guest saw complete; there is nothing to flush
 * at exit.
 *
 * With snapshot=on the file is opened read-only and never written: the
 * guest's writes land in an overlay, anonymous memory the size of the disk
 * (reserved, so only the pages written cost memory) with a bitmap saying
 * which sectors it holds.  Everything is set up at open, so the trap path
 * allocates nothing, and a file shrunk under our feet gives the guest a
 * read error, never a SIGBUS in the monitor (as a file mapping would).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/disk.h"

struct disk {
	int fd;
	uint64_t sectors;
	bool snapshot;
	uint8_t *overlay;         /* snapshot: written sectors */
	uint8_t *written;         /* snapshot: one bit per sector */
};

static struct disk *fail(struct disk *d, char *err, size_t errlen,
			 const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	disk_close(d);
	return NULL;
}

static int make_overlay(struct disk *d)
{
	size_t len = d->sectors * DISK_SECTOR;

	d->overlay = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (d->overlay == MAP_FAILED) {
		d->overlay = NULL;
		return -1;
	}
	d->written = calloc(d->sectors / 8 + 1, 1);
	return d->written ? 0 : -1;
}

struct disk *disk_open(const char *path, bool snapshot, char *err,
		       size_t errlen)
{
	struct disk *d = calloc(1, sizeof(*d));
	char size[32];
	struct stat st;
	off_t end;

	if (!d)
		return fail(d, err, errlen, "%s", "out of memory");
	d->snapshot = snapshot;
	d->fd = open(path, (snapshot ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0) {
		if (!snapshot && (errno == EACCES || errno == EROFS))
			return fail(d, err, errlen, "cannot open it for "
				    "writing: %s (snapshot=on uses it "
				    "read-only)", strerror(errno));
		return fail(d, err, errlen, "cannot open it: %s",
			    strerror(errno));
	}
	if (fstat(d->fd, &st) != 0 || S_ISDIR(st.st_mode))
		return fail(d, err, errlen, "%s", "is a directory");
	end = lseek(d->fd, 0, SEEK_END);
	if (end < 0)
		return fail(d, err, errlen, "cannot find its size: %s",
			    strerror(errno));
	if (end == 0)
		return fail(d, err, errlen, "%s", "is empty");
	if (end % DISK_SECTOR) {
		snprintf(size, sizeof(size), "%lld", (long long)end);
		return fail(d, err, errlen, "its size, %s bytes, is not a "
			    "whole number of 512-byte sectors", size);
	}
	d->sectors = (uint64_t)end / DISK_SECTOR;
	if (snapshot && make_overlay(d))
		return fail(d, err, errlen, "%s",
			    "out of memory for the snapshot overlay");
	return d;
}

void disk_close(struct disk *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	if (d->overlay)
		munmap(d->overlay, d->sectors * DISK_SECTOR);
	free(d->written);
	free(d);
}

uint64_t disk_sectors(const struct disk *d)
{
	return d->sectors;
}

static bool in_overlay(const struct disk *d, uint64_t lba)
{
	return d->snapshot && (d->written[lba / 8] >> (lba % 8)) & 1;
}

/* pread/pwrite until done: a signal (the timer) may cut them short. */
static int full_io(int fd, void *buf, uint64_t lba, bool write)
{
	size_t done = 0;

	while (done < DISK_SECTOR) {
		off_t off = (off_t)(lba * DISK_SECTOR + done);
		ssize_t n = write ? pwrite(fd, (uint8_t *)buf + done,
					   DISK_SECTOR - done, off)
				  : pread(fd, (uint8_t *)buf + done,
					  DISK_SECTOR - done, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int disk_read(struct disk *d, uint64_t lba, void *buf)
{
	if (lba >= d->sectors)
		return -1;
	if (in_overlay(d, lba)) {
		memcpy(buf, d->overlay + lba * DISK_SECTOR, DISK_SECTOR);
		return 0;
	}
	return full_io(d->fd, buf, lba, false);
}

int disk_write(struct disk *d, uint64_t lba, const void *buf)
{
	if (lba >= d->sectors)
		return -1;
	if (!d->snapshot)
		return full_io(d->fd, (void *)buf, lba, true);
	memcpy(d->overlay + lba * DISK_SECTOR, buf, DISK_SECTOR);
	d->written[lba / 8] |= (uint8_t)(1u << (lba % 8));
	return 0;
}

int disk_flush(struct disk *d)
{
	return d->snapshot ? 0 : fdatasync(d->fd);
}
