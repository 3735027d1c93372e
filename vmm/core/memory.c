/*
 * Guest RAM (see memory.h): one memfd, mapped once for the monitor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/memory.h"
#include "trapeze/abi.h"
#include "core/vm.h"

int memory_create_ram(struct vm *vm, uint64_t size, char *err, size_t errlen)
{
	int fd = memfd_create("trapeze-guest-ram", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		snprintf(err, errlen, "cannot create %llu MiB of guest RAM: %s",
			 (unsigned long long)(size >> 20), strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map guest RAM: %s",
			 strerror(errno));
		close(fd);
		return -1;
	}
	vm->ram_fd = fd;
	vm->ram = p;
	vm->ram_size = size;
	return 0;
}
