/*
 * What every boot protocol checks of an image before anything is copied
 * (loader.h): each segment inside the file and inside guest RAM, above
 * the boot area, the entry point inside a segment loaded where it is
 * linked.  The ELF loader (loader.c) and the multiboot one (multiboot.c)
 * both read their files and describe their images as struct boot_image
 * here, and check them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/loader.h"
#include "trapeze/abi.h"

#define MAX_IMAGE (1ull << 32)        /* loader_read_file reads no more */

int loader_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *mib(uint64_t bytes)
{
	static char s[32];

	if (bytes % (1ull << 20) == 0)
		snprintf(s, sizeof(s), "%llu MiB",
			 (unsigned long long)(bytes >> 20));
	else
		snprintf(s, sizeof(s), "%llu bytes", (unsigned long long)bytes);
	return s;
}

int loader_add_segment(struct boot_image *img, const struct image_segment *s,
		       unsigned i, size_t len, uint64_t ram_size, char *err,
		       size_t errlen)
{
	if (s->filesz > s->memsz)
		return loader_fail(err, errlen, "segment %u: file size exceeds "
				   "memory size", i);
	if (s->offset > len || s->filesz > len - s->offset)
		return loader_fail(err, errlen, "segment %u lies past the end "
				   "of the file (truncated?)", i);
	if (s->paddr < TRAPEZE_LOAD_MIN)
		return loader_fail(err, errlen, "segment %u at %#llx overlaps "
				   "the boot area below 1 MiB", i,
				   (unsigned long long)s->paddr);
	if (s->paddr >= ram_size || s->memsz > ram_size - s->paddr)
		return loader_fail(err, errlen, "segment %u ends past guest RAM "
				   "(%s)", i, mib(ram_size));
	if (img->nseg == LOADER_MAX_SEGMENTS)
		return loader_fail(err, errlen, "more than %d loadable "
				   "segments", LOADER_MAX_SEGMENTS);
	img->seg[img->nseg++] = *s;
	if (img->nseg == 1 || s->paddr < img->start)
		img->start = s->paddr;
	if (s->paddr + s->memsz > img->end)
		img->end = s->paddr + s->memsz;
	return 0;
}

/* The boot map is the identity (and multiboot runs with paging off): the
 * entry must be in a segment linked where it is loaded (others may be
 * linked elsewhere, for the guest's own page tables to map later). */
int loader_check_entry(const struct boot_image *img, char *err,
		       size_t errlen)
{
	int in_segment = 0;
	unsigned i;

	if (!img->nseg)
		return loader_fail(err, errlen, "no loadable segment");
	for (i = 0; i < img->nseg; i++)
		if (img->entry >= img->seg[i].paddr &&
		    img->entry < img->seg[i].paddr + img->seg[i].memsz)
			in_segment = img->seg[i].vaddr == img->seg[i].paddr ? 1 : 2;
	if (!in_segment)
		return loader_fail(err, errlen, "entry point %#llx is outside "
				   "every loaded segment",
				   (unsigned long long)img->entry);
	if (in_segment == 2)
		return loader_fail(err, errlen, "entry point %#llx is in a "
				   "segment linked at another address than it "
				   "is loaded at",
				   (unsigned long long)img->entry);
	return 0;
}

uint8_t *loader_read_file(const char *path, size_t *len, char *err,
			 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t done = 0;

	if (fd < 0) {
		loader_fail(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		loader_fail(err, errlen, "not a regular file");
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > MAX_IMAGE) {
		loader_fail(err, errlen, "larger than 4 GiB");
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	while (buf && done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n <= 0) {
			loader_fail(err, errlen, "read error: %s",
			     n ? strerror(errno) : "file shrank");
			free(buf);
			buf = NULL;
			break;
		}
		done += n;
	}
	close(fd);
	*len = done;
	return buf;
}
