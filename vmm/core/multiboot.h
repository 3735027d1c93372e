/*
 * The multiboot v1 loader: what GRUB or QEMU's -kernel does with a kernel
 * that carries a multiboot header.  The image is loaded at its physical
 * addresses (through the header's address fields, else its ELF32 or
 * ELF64 program headers), a multiboot information block describes the
 * machine (memory map, command line, module 0 from --initrd), and the
 * vCPU starts in 32-bit protected mode with paging off, EAX = 0x2badb002
 * and EBX = the information block.  The guest's 32-bit code runs natively
 * in the host's compatibility mode; its own switch to long mode is
 * emulated instruction by instruction (emu-sysreg.c, emu-msr.c,
 * emu-seg.c).
 */
#ifndef TRAPEZE_MULTIBOOT_LOADER_H
#define TRAPEZE_MULTIBOOT_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct boot_image;

/* Guest-physical layout below 1 MiB at a multiboot entry. */
#define MB_GDT_GPA        0x3000ull  /* flat 32-bit code 0x08, data 0x10 */
#define MB_INFO_GPA       0x9000ull  /* struct mb_info, as QEMU's */
#define MB_MMAP_GPA       0x9100ull
#define MB_MODS_GPA       0x9200ull
#define MB_LOADER_GPA     0x9280ull  /* the boot loader's name */
#define MB_MOD_CMDLINE_GPA 0x9400ull /* module 0's string (its path) */
#define MB_MOD_CMDLINE_MAX 0xc00
#define MB_CMDLINE_GPA    0xa000ull  /* "IMAGE ARGS", as QEMU gives it */
#define MB_CMDLINE_MAX    0x2000
#define MB_BOOT_CS        0x08
#define MB_BOOT_DS        0x10

/*
 * Look for a multiboot header in an image and, when there is one, check
 * it and describe the segments to load.  Returns 1 when the image has no
 * header, 0 when img now describes a multiboot kernel, -1 with one line
 * for the user in err (a bad checksum, a flag this loader cannot honour,
 * a malformed image).
 */
int multiboot_parse(const uint8_t *buf, size_t len, uint64_t ram_size,
		    struct boot_image *img, char *err, size_t errlen);

/* Copy the file at path into RAM as module 0, page-aligned after the
 * image.  0, or -1 with err set. */
int multiboot_load_module(struct vm *vm, const char *path,
			  struct boot_image *img, char *err, size_t errlen);

/* Build the information block and the boot GDT; reset the vCPU to the
 * multiboot entry state.  image_path and append make the command line. */
void multiboot_boot_setup(struct vm *vm, const struct boot_image *img,
			  const char *image_path, const char *append,
			  const char *module_path);
/* The vCPU as the multiboot loader leaves it at entry. */
struct vcpu;
void multiboot_reset_cpu(struct vcpu *v, uint32_t entry);

#endif
