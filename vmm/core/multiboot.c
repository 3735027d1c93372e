/*
 * The multiboot v1 loader (see multiboot.h).
 *
 * The rules are the specification's and, where it leaves room, QEMU's
 * (hw/i386/multiboot.c), so that a kernel sees the same machine under
 * both: the header is the first 4-byte aligned one in the first 8 KiB
 * whose checksum holds; with flag 16 its address fields say what to load,
 * else the ELF program headers do; modules go on page boundaries after
 * the image; the command line starts with the image's own file name.
 * Unlike QEMU, a header whose checksum is wrong, or that requires a
 * feature this loader lacks (a video mode, unknown bits 3-15), stops the
 * boot with one line instead of being ignored or warned about.
 */
#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/gmem.h"
#include "core/loader.h"
#include "core/multiboot.h"
#include "trapeze/abi.h"
#include "trapeze/multiboot.h"
#include "core/vm.h"

#define MB_SUPPORTED (MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY | MB_HDR_ADDRESS)
#define LOW_MEM_END  0x9fc00ull     /* conventional memory, as a PC's */
#define BIOS_START   0xf0000ull

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The first header whose checksum holds; else, through bad, the offset
 * of the first magic number seen (or -1). */
static long find_header(const uint8_t *buf, size_t len, long *bad)
{
	size_t end = len < MB_SEARCH ? len : MB_SEARCH, off;

	*bad = -1;
	for (off = 0; off + 12 <= end; off += 4) {
		if (le32(buf + off) != MB_HEADER_MAGIC)
			continue;
		if ((uint32_t)(MB_HEADER_MAGIC + le32(buf + off + 4) +
			       le32(buf + off + 8)) == 0)
			return (long)off;
		if (*bad < 0)
			*bad = (long)off;
	}
	return -1;
}

static int check_flags(uint32_t flags, char *err, size_t errlen)
{
	uint32_t missing = flags & 0xffff & ~MB_SUPPORTED;
	unsigned bit;

	if (!missing)
		return 0;
	if (missing & MB_HDR_VIDEO)
		return loader_fail(err, errlen, "the multiboot header asks for "
				   "a video mode (flag 2), which this loader "
				   "does not support");
	for (bit = 0; !(missing & (1u << bit)); bit++)
		;
	return loader_fail(err, errlen, "the multiboot header requires flag "
			   "%u (flags %#x), which this loader does not "
			   "support", bit, flags);
}

/* Flag 16: load [load_addr, load_end_addr) from the file, the header
 * sitting at header_addr; zero up to bss_end_addr. */
static int parse_address_fields(const uint8_t *buf, size_t len, long off,
				uint64_t ram_size, struct boot_image *img,
				char *err, size_t errlen)
{
	struct mb_header h;
	struct image_segment s;
	uint64_t file_off, load_end, mem_end;

	if ((size_t)off + sizeof(h) > len)
		return loader_fail(err, errlen, "the multiboot header's address "
				   "fields lie past the end of the file");
	memcpy(&h, buf + off, sizeof(h));
	if (h.load_addr > h.header_addr ||
	    h.header_addr - h.load_addr > (uint64_t)off)
		return loader_fail(err, errlen, "multiboot load_addr %#x does "
				   "not fit header_addr %#x at file offset %#lx",
				   h.load_addr, h.header_addr, off);
	file_off = off - (h.header_addr - h.load_addr);
	load_end = h.load_end_addr ? h.load_end_addr
				   : h.load_addr + (len - file_off);
	mem_end = h.bss_end_addr ? h.bss_end_addr : load_end;
	if (load_end < h.load_addr || mem_end < load_end)
		return loader_fail(err, errlen, "multiboot addresses out of "
				   "order (load %#x, load_end %#x, bss_end %#x)",
				   h.load_addr, h.load_end_addr, h.bss_end_addr);
	s = (struct image_segment){ h.load_addr, mem_end - h.load_addr,
				    load_end - h.load_addr, file_off,
				    h.load_addr };
	img->entry = h.entry_addr;
	if (loader_add_segment(img, &s, 0, len, ram_size, err, errlen))
		return -1;
	return loader_check_entry(img, err, errlen);
}

/* An ELF program header of either class, widened. */
static void phdr_at(const uint8_t *buf, uint64_t off, bool is64,
		    Elf64_Phdr *ph)
{
	if (is64) {
		memcpy(ph, buf + off, sizeof(*ph));
	} else {
		Elf32_Phdr p;

		memcpy(&p, buf + off, sizeof(p));
		*ph = (Elf64_Phdr){ .p_type = p.p_type, .p_offset = p.p_offset,
				    .p_vaddr = p.p_vaddr, .p_paddr = p.p_paddr,
				    .p_filesz = p.p_filesz,
				    .p_memsz = p.p_memsz };
	}
}

/* The entry is a linked address: a multiboot loader runs it at the
 * physical address of the segment that holds it (paging is off). */
static void entry_to_physical(struct boot_image *img)
{
	unsigned i;

	for (i = 0; i < img->nseg; i++) {
		const struct image_segment *s = &img->seg[i];

		if (img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz) {
			img->entry = img->entry - s->vaddr + s->paddr;
			break;
		}
	}
	for (i = 0; i < img->nseg; i++)
		img->seg[i].vaddr = img->seg[i].paddr;
}

/* No flag 16: an ELF32 (i386) or ELF64 (x86-64) executable. */
static int parse_elf(const uint8_t *buf, size_t len, uint64_t ram_size,
		     struct boot_image *img, char *err, size_t errlen)
{
	bool is64;
	uint16_t type, machine, phentsize, phnum;
	uint64_t phoff, entry;
	unsigned i;

	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return loader_fail(err, errlen, "a multiboot header without "
				   "address fields (flag 16) needs an ELF file");
	is64 = buf[EI_CLASS] == ELFCLASS64;
	if (len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)) ||
	    (!is64 && buf[EI_CLASS] != ELFCLASS32) ||
	    buf[EI_DATA] != ELFDATA2LSB)
		return loader_fail(err, errlen, "truncated or unknown ELF "
				   "header");
	if (is64) {
		const Elf64_Ehdr *eh = (const void *)buf;

		type = eh->e_type, machine = eh->e_machine;
		phoff = eh->e_phoff, phentsize = eh->e_phentsize;
		phnum = eh->e_phnum, entry = eh->e_entry;
	} else {
		const Elf32_Ehdr *eh = (const void *)buf;

		type = eh->e_type, machine = eh->e_machine;
		phoff = eh->e_phoff, phentsize = eh->e_phentsize;
		phnum = eh->e_phnum, entry = eh->e_entry;
	}
	if (machine != (is64 ? EM_X86_64 : EM_386))
		return loader_fail(err, errlen, "not an x86 ELF file (machine "
				   "%u)", machine);
	if (type != ET_EXEC)
		return loader_fail(err, errlen, "ELF type %u is not an "
				   "executable", type);
	if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) ||
	    !phnum || phoff > len || (uint64_t)phnum * phentsize > len - phoff)
		return loader_fail(err, errlen, "bad or truncated program "
				   "header table");
	img->entry = entry;
	for (i = 0; i < phnum; i++) {
		Elf64_Phdr ph;

		phdr_at(buf, phoff + (uint64_t)i * phentsize, is64, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (loader_add_segment(img, &(struct image_segment){
				ph.p_paddr, ph.p_memsz, ph.p_filesz,
				ph.p_offset, ph.p_vaddr },
				i, len, ram_size, err, errlen))
			return -1;
	}
	entry_to_physical(img);
	return loader_check_entry(img, err, errlen);
}

int multiboot_parse(const uint8_t *buf, size_t len, uint64_t ram_size,
		    struct boot_image *img, char *err, size_t errlen)
{
	long bad, off = find_header(buf, len, &bad);
	uint32_t flags;

	if (off < 0 && bad < 0)
		return 1;
	if (off < 0)
		return loader_fail(err, errlen, "multiboot header at file offset "
				   "%#lx has a bad checksum", bad);
	flags = le32(buf + off + 4);
	if (check_flags(flags, err, errlen))
		return -1;
	img->proto = BOOT_MULTIBOOT;
	img->mb_flags = flags;
	if (flags & MB_HDR_ADDRESS)
		return parse_address_fields(buf, len, off, ram_size, img, err,
					    errlen);
	return parse_elf(buf, len, ram_size, img, err, errlen);
}

int multiboot_load_module(struct vm *vm, const char *path,
			  struct boot_image *img, char *err, size_t errlen)
{
	uint64_t start = (img->end + 4095) & ~4095ull;
	char why[256];
	size_t len = 0;
	uint8_t *buf;

	if (img->proto != BOOT_MULTIBOOT)
		return loader_fail(err, errlen, "--initrd needs a multiboot "
				   "image (modules are multiboot's)");
	buf = loader_read_file(path, &len, why, sizeof(why));
	if (!buf)
		return loader_fail(err, errlen, "--initrd %s: %s", path, why);
	if (start > vm->ram_size || len > vm->ram_size - start) {
		free(buf);
		return loader_fail(err, errlen, "--initrd %s: %zu bytes do not "
				   "fit in guest RAM after the image", path,
				   len);
	}
	memcpy(vm->ram + start, buf, len);
	free(buf);
	img->mod_start = start;
	img->mod_end = start + len;
	return 0;
}

/* Copy a string into guest RAM at gpa, cut to max bytes with its NUL. */
static void put_string(struct vm *vm, uint64_t gpa, size_t max,
		       const char *a, const char *b)
{
	char *p = gpa_ptr(&vm->cpu, gpa, max);

	snprintf(p, max, "%s%s", a, b ? b : "");
}

static void put_mmap(struct mb_mmap_entry *e, uint64_t addr, uint64_t len,
		     uint32_t type)
{
	*e = (struct mb_mmap_entry){ 20, addr, len, type };
}

void multiboot_boot_setup(struct vm *vm, const struct boot_image *img,
			  const char *image_path, const char *append,
			  const char *module_path)
{
	struct mb_info *mbi = gpa_ptr(&vm->cpu, MB_INFO_GPA, sizeof(*mbi));
	struct mb_mmap_entry *mm = gpa_ptr(&vm->cpu, MB_MMAP_GPA, 4 * sizeof(*mm));
	struct mb_module *mod = gpa_ptr(&vm->cpu, MB_MODS_GPA, sizeof(*mod));
	uint64_t *gdt = gpa_ptr(&vm->cpu, MB_GDT_GPA, 24);
	char *cl;

	memset(vm->ram, 0, TRAPEZE_LOAD_MIN);
	gdt[0] = 0;
	gdt[1] = 0x00cf9b000000ffffull;   /* 0x08: flat 32-bit code, DPL 0 */
	gdt[2] = 0x00cf93000000ffffull;   /* 0x10: flat data, DPL 0 */

	/* QEMU's form: "IMAGE ARGS" (the space even with no ARGS). */
	cl = gpa_ptr(&vm->cpu, MB_CMDLINE_GPA, MB_CMDLINE_MAX);
	snprintf(cl, MB_CMDLINE_MAX, "%s %s", image_path, append ? append : "");
	put_string(vm, MB_LOADER_GPA, 32, "trapeze", NULL);

	put_mmap(&mm[0], 0, LOW_MEM_END, MB_MMAP_AVAILABLE);
	put_mmap(&mm[1], LOW_MEM_END, 0xa0000 - LOW_MEM_END, MB_MMAP_RESERVED);
	put_mmap(&mm[2], BIOS_START, TRAPEZE_LOAD_MIN - BIOS_START,
		 MB_MMAP_RESERVED);
	put_mmap(&mm[3], TRAPEZE_LOAD_MIN, vm->ram_size - TRAPEZE_LOAD_MIN,
		 MB_MMAP_AVAILABLE);

	mbi->flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS |
		     MB_INFO_MMAP | MB_INFO_LOADER_NAME;
	mbi->mem_lower = LOW_MEM_END >> 10;
	mbi->mem_upper = (vm->ram_size - TRAPEZE_LOAD_MIN) >> 10;
	mbi->cmdline = MB_CMDLINE_GPA;
	mbi->mmap_addr = MB_MMAP_GPA;
	mbi->mmap_length = 4 * sizeof(*mm);
	mbi->boot_loader_name = MB_LOADER_GPA;
	mbi->mods_addr = MB_MODS_GPA;
	if (img->mod_end > img->mod_start || module_path) {
		mbi->mods_count = 1;
		mod->mod_start = img->mod_start;
		mod->mod_end = img->mod_end;
		mod->string = MB_MOD_CMDLINE_GPA;
		put_string(vm, MB_MOD_CMDLINE_GPA, MB_MOD_CMDLINE_MAX,
			   module_path ? module_path : "", NULL);
	}
	multiboot_reset_cpu(&vm->cpu, img->entry);
}

/*
 * The multiboot entry state (Multiboot 0.6.96, 3.2): 32-bit protected
 * mode, paging off, flat 4 GiB code and data segments, IF and VM clear,
 * EAX the magic and EBX the information block.  The selectors and GDT are
 * the ones QEMU's multiboot option ROM leaves (code 0x08, data 0x10); the
 * GDT lives in guest RAM at 0x3000, so a guest that reloads a selector
 * before its own lgdt finds it there.
 */
void multiboot_reset_cpu(struct vcpu *v, uint32_t entry)
{
	vcpu_reset_prot32(v, entry, MB_BOOT_CS, MB_BOOT_DS,
			  (struct dtable){ MB_GDT_GPA, 3 * 8 - 1 });
	v->gpr[RAX] = MB_BOOT_MAGIC;
	v->gpr[RBX] = MB_INFO_GPA;
	/* Multiboot leaves ESP undefined; a stack that works is kinder
	 * than one that faults. */
	v->gpr[RSP] = TRAPEZE_BOOT_STACK_TOP;
}
