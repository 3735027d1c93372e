/*
 * Multiboot, version 1 (the GNU Multiboot Specification 0.6.96): the
 * header a kernel image carries in its first 8 KiB, and the information
 * block a multiboot loader hands it in EBX.  Shared by the monitor's
 * multiboot loader (vmm/multiboot.c) and by guests that a multiboot
 * loader boots (guest-kit/lib/mbentry.S, tests/guests/mb32), so that the
 * two sides cannot disagree about a field.
 */
#ifndef TRAPEZE_MULTIBOOT_H
#define TRAPEZE_MULTIBOOT_H

#define MB_HEADER_MAGIC     0x1badb002u  /* in the image's header */
#define MB_BOOT_MAGIC       0x2badb002u  /* in EAX at the entry */
#define MB_SEARCH           8192         /* the header lies in this many
					    first bytes, 4-byte aligned */

/* Header flags: bits 0-15 are requirements a loader must refuse when it
 * cannot meet them; bits 16-31 are optional features. */
#define MB_HDR_PAGE_ALIGN   (1u << 0)    /* modules on 4 KiB boundaries */
#define MB_HDR_MEMORY       (1u << 1)    /* mem_* and mmap_* wanted */
#define MB_HDR_VIDEO        (1u << 2)    /* a graphics mode wanted */
#define MB_HDR_ADDRESS      (1u << 16)   /* the address fields are valid */

/* Information flags: which fields of struct mb_info are valid. */
#define MB_INFO_MEMORY      (1u << 0)
#define MB_INFO_CMDLINE     (1u << 2)
#define MB_INFO_MODS        (1u << 3)
#define MB_INFO_MMAP        (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

#define MB_MMAP_AVAILABLE   1
#define MB_MMAP_RESERVED    2

#ifndef __ASSEMBLER__
#include <stdint.h>

struct mb_header {
	uint32_t magic, flags, checksum;
	/* valid with MB_HDR_ADDRESS */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	uint32_t entry_addr;
};

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;    /* KiB below 640 KiB, above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;                 /* physical address of a string */
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[6];
};

struct mb_module {
	uint32_t mod_start, mod_end;      /* [start, end) physical */
	uint32_t string;                  /* its command line */
	uint32_t reserved;
};

/* One memory map entry; size counts the bytes after itself (20). */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));
#endif

#endif
