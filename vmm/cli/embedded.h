/*
 * Guest images built into the trapeze binary (vmm/images.S), so that
 * `trapeze run` with no guest and `trapeze demo` work from anywhere,
 * installed or not.
 */
#ifndef TRAPEZE_EMBEDDED_H
#define TRAPEZE_EMBEDDED_H

#include <stddef.h>

enum embedded_image {
	EMBEDDED_KERNEL,          /* guest-kit/kernel/kernel.elf */
	EMBEDDED_POPEK_GOLDBERG,  /* guest-kit/examples/popek-goldberg.elf */
};

/* Put the image in an anonymous memory file and name it in path
 * ("/proc/self/fd/N"): this process and the children it starts (QEMU for
 * the demo) can open it, and it vanishes with them.  0, or -1 with errno. */
int embedded_path(enum embedded_image which, char *path, size_t len);

#endif
