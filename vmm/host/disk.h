/*
 * A disk image: a raw file of 512-byte sectors behind an emulated drive
 * (`--drive file=PATH`).  The IDE controller reads and writes whole
 * sectors through it; it knows nothing of the controller.
 */
#ifndef TRAPEZE_DISK_H
#define TRAPEZE_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR 512

struct disk;

/* Open PATH as a disk; with snapshot, the file is only read and the
 * guest's writes stay in memory.  NULL with one line in err on failure
 * (missing, unreadable, not writable, empty, size not whole sectors). */
struct disk *disk_open(const char *path, bool snapshot, char *err,
		       size_t errlen);
void disk_close(struct disk *d);
uint64_t disk_sectors(const struct disk *d);

/* One sector in or out: 0, or -1 (past the end, host I/O error).  Called
 * on the trap path: no allocation, only async-signal-safe calls. */
int disk_read(struct disk *d, uint64_t lba, void *buf);
int disk_write(struct disk *d, uint64_t lba, const void *buf);
/* The guest asked for its writes to be durable (FLUSH CACHE). */
int disk_flush(struct disk *d);

#endif
