/*
 * The built-in guest images as files (see embedded.h).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/embedded.h"

extern const unsigned char embedded_kernel_start[], embedded_kernel_end[];
extern const unsigned char embedded_pg_start[], embedded_pg_end[];

int embedded_path(enum embedded_image which, char *path, size_t len)
{
	const unsigned char *p = which == EMBEDDED_KERNEL ? embedded_kernel_start
							 : embedded_pg_start;
	const unsigned char *end = which == EMBEDDED_KERNEL ? embedded_kernel_end
							   : embedded_pg_end;
	/* No MFD_CLOEXEC: QEMU, started by the demo, opens it by this name. */
	int fd = memfd_create(which == EMBEDDED_KERNEL ? "kernel.elf"
						       : "popek-goldberg.elf", 0);

	if (fd < 0)
		return -1;
	while (p < end) {
		ssize_t n = write(fd, p, (size_t)(end - p));

		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return 0;
}
