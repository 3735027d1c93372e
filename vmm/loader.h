/*
 * Loading a guest: a static ELF64 x86-64 image whose PT_LOAD segments are
 * copied into guest RAM at their physical addresses, and the boot state
 * of the Trapeze ABI (boot info, boot GDT, identity page tables).
 */
#ifndef TRAPEZE_LOADER_H
#define TRAPEZE_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct vm;

#define LOADER_MAX_SEGMENTS 16

struct image_segment {
	uint64_t paddr, memsz, filesz, offset;
	uint64_t vaddr;            /* where it is linked (may differ) */
};

struct boot_image {
	uint64_t entry;            /* 64-bit entry: the note's, else e_entry */
	int entry_from_note;
	uint64_t start, end;       /* physical extent of the segments */
	unsigned nseg;
	struct image_segment seg[LOADER_MAX_SEGMENTS];
};

/*
 * Check an ELF image in memory against guest RAM of ram_size bytes.
 * Returns 0, or -1 with one line for the user in err.
 */
int loader_parse(const uint8_t *buf, size_t len, uint64_t ram_size,
		 struct boot_image *img, char *err, size_t errlen);

/* Read, check and copy a guest file into RAM. */
int loader_load_file(struct vm *vm, const char *path, struct boot_image *img,
		     char *err, size_t errlen);

/* Build the boot info, GDT and identity tables; reset the vCPU. */
void loader_boot_setup(struct vm *vm, const struct boot_image *img,
		       const char *cmdline);

/* Parse a decimal size such as 64M, 1G, 512K, 2MiB or a byte count.
 * 0 on error, including a size that does not fit in 64 bits. */
uint64_t parse_size(const char *s);

#endif
