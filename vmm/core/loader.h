/*
 * Loading a guest.  Two boot protocols:
 *   - Trapeze's own: a static ELF64 x86-64 image whose PT_LOAD segments
 *     are copied into guest RAM at their physical addresses, entered in
 *     long mode with the boot state of the Trapeze ABI (boot info, boot
 *     GDT, identity page tables);
 *   - multiboot v1 (multiboot.c): an image with a multiboot header,
 *     entered in 32-bit protected mode with paging off, as GRUB or QEMU's
 *     -kernel would.
 * Which one: an ELF64 image with the Trapeze entry note is ours (guest-kit
 * images carry a multiboot header too, for QEMU; the note wins); else an
 * image with a multiboot header in its first 8 KiB is a multiboot kernel;
 * else it must be a Trapeze ELF64 image entered at e_entry.
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

enum boot_protocol {
	BOOT_TRAPEZE,              /* 64-bit entry, Trapeze boot info */
	BOOT_MULTIBOOT,            /* 32-bit entry, multiboot information */
};

struct boot_image {
	enum boot_protocol proto;
	uint64_t entry;            /* Trapeze: the note's, else e_entry;
				      multiboot: the physical entry */
	int entry_from_note;
	uint64_t start, end;       /* physical extent of the segments */
	unsigned nseg;
	struct image_segment seg[LOADER_MAX_SEGMENTS];
	uint32_t mb_flags;         /* the multiboot header's flags */
	uint64_t mod_start, mod_end; /* module 0 (--initrd); equal: none */
};

/*
 * Check an ELF image in memory against guest RAM of ram_size bytes.
 * Returns 0, or -1 with one line for the user in err.
 */
int loader_parse(const uint8_t *buf, size_t len, uint64_t ram_size,
		 struct boot_image *img, char *err, size_t errlen);

/* Checks shared by both protocols: segment i of an image of len bytes
 * against RAM, then added to img; the entry inside a loaded segment. */
int loader_add_segment(struct boot_image *img, const struct image_segment *s,
		       unsigned i, size_t len, uint64_t ram_size, char *err,
		       size_t errlen);
int loader_check_entry(const struct boot_image *img, char *err,
		       size_t errlen);
int loader_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole regular file (at most 4 GiB); NULL with err set. */
uint8_t *loader_read_file(const char *path, size_t *len, char *err,
			  size_t errlen);

/* Read, check and copy a guest file into RAM. */
int loader_load_file(struct vm *vm, const char *path, struct boot_image *img,
		     char *err, size_t errlen);

/* Build the boot info, GDT and identity tables; reset the vCPU
 * (BOOT_TRAPEZE images; multiboot_boot_setup does the other kind). */
void loader_boot_setup(struct vm *vm, const struct boot_image *img,
		       const char *cmdline);

/* Parse a decimal size such as 64M, 1G, 512K, 2MiB or a byte count.
 * 0 on error, including a size that does not fit in 64 bits. */
uint64_t parse_size(const char *s);

#endif
