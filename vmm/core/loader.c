/*
 * The guest loader (see loader.h).  Every field of the image is checked
 * before it is used: a guest file is user input, and a malformed one must
 * end in one clear line, never in a read past a buffer.
 */
#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu/gmem.h"
#include "core/loader.h"
#include "core/multiboot.h"
#include "trapeze/abi.h"
#include "trapeze/bootstate.h"
#include "core/vm.h"


/* Look for the Trapeze entry note in one PT_NOTE segment. */
static void find_note(const uint8_t *buf, const Elf64_Phdr *ph,
		      struct boot_image *img)
{
	uint64_t off = ph->p_offset, end = ph->p_offset + ph->p_filesz;

	while (off + sizeof(Elf64_Nhdr) <= end) {
		const Elf64_Nhdr *n = (const void *)(buf + off);
		uint64_t name = off + sizeof(*n);
		uint64_t desc = name + ((n->n_namesz + 3) & ~3u);
		uint64_t next = desc + ((n->n_descsz + 3) & ~3u);

		if (next > end || next <= off)
			return;
		if (n->n_namesz == sizeof(TRAPEZE_NOTE_NAME) &&
		    !memcmp(buf + name, TRAPEZE_NOTE_NAME, n->n_namesz) &&
		    n->n_type == TRAPEZE_NOTE_ENTRY64 && n->n_descsz == 8) {
			memcpy(&img->entry, buf + desc, 8);
			img->entry_from_note = 1;
		}
		off = next;
	}
}

static int check_header(const Elf64_Ehdr *eh, size_t len, char *err,
			size_t errlen)
{
	if (len < EI_NIDENT || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return loader_fail(err, errlen, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return loader_fail(err, errlen, "32-bit ELF without a multiboot "
			    "header: Trapeze boots ELF64 x86-64 guests and "
			    "multiboot kernels");
	if (len < sizeof(*eh))
		return loader_fail(err, errlen, "truncated ELF header");
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return loader_fail(err, errlen, "not an x86-64 ELF file (machine %u)",
			    eh->e_machine);
	if (eh->e_type == ET_DYN)
		return loader_fail(err, errlen, "dynamic ELF (ET_DYN): guests must be "
			    "static executables (ET_EXEC)");
	if (eh->e_type != ET_EXEC)
		return loader_fail(err, errlen, "ELF type %u is not an executable",
			    eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return loader_fail(err, errlen, "bad or truncated program header "
			    "table");
	return 0;
}

/* A Trapeze ELF64 image (issue 2's protocol). */
static int parse_elf64(const uint8_t *buf, size_t len, uint64_t ram_size,
		       struct boot_image *img, char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = (const void *)buf;
	const Elf64_Phdr *ph;
	unsigned i;

	if (check_header(eh, len, err, errlen))
		return -1;
	ph = (const void *)(buf + eh->e_phoff);
	img->entry = eh->e_entry;
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP || ph[i].p_type == PT_DYNAMIC)
			return loader_fail(err, errlen, "dynamic ELF (has %s): "
				    "guests must be static",
				    ph[i].p_type == PT_INTERP ? "PT_INTERP"
							      : "PT_DYNAMIC");
		if (ph[i].p_type == PT_NOTE &&
		    ph[i].p_offset <= len && ph[i].p_filesz <= len - ph[i].p_offset)
			find_note(buf, &ph[i], img);
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		if (loader_add_segment(img, &(struct image_segment){
				ph[i].p_paddr, ph[i].p_memsz, ph[i].p_filesz,
				ph[i].p_offset, ph[i].p_vaddr },
				i, len, ram_size, err, errlen))
			return -1;
	}
	return loader_check_entry(img, err, errlen);
}

/* Does an ELF64 image carry our entry note?  Asked before the image is
 * checked (a Trapeze image with a fault is reported as one, not booted
 * through its multiboot header), so only the program header table's
 * bounds are trusted here. */
static bool has_trapeze_note(const uint8_t *buf, size_t len)
{
	const Elf64_Ehdr *eh = (const void *)buf;
	const Elf64_Phdr *ph;
	struct boot_image probe;
	unsigned i;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return false;
	ph = (const void *)(buf + eh->e_phoff);
	memset(&probe, 0, sizeof(probe));
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_NOTE && ph[i].p_offset <= len &&
		    ph[i].p_filesz <= len - ph[i].p_offset)
			find_note(buf, &ph[i], &probe);
	return probe.entry_from_note;
}

int loader_parse(const uint8_t *buf, size_t len, uint64_t ram_size,
		 struct boot_image *img, char *err, size_t errlen)
{
	int r;

	memset(img, 0, sizeof(*img));
	if (!has_trapeze_note(buf, len)) {
		r = multiboot_parse(buf, len, ram_size, img, err, errlen);
		if (r <= 0)
			return r;
		memset(img, 0, sizeof(*img));
	}
	img->proto = BOOT_TRAPEZE;
	return parse_elf64(buf, len, ram_size, img, err, errlen);
}

int loader_load_file(struct vm *vm, const char *path, struct boot_image *img,
		     char *err, size_t errlen)
{
	size_t len = 0;
	uint8_t *buf = loader_read_file(path, &len, err, errlen);
	unsigned i;

	if (!buf)
		return -1;
	if (loader_parse(buf, len, vm->ram_size, img, err, errlen)) {
		free(buf);
		return -1;
	}
	for (i = 0; i < img->nseg; i++) {
		const struct image_segment *s = &img->seg[i];

		memcpy(vm->ram + s->paddr, buf + s->offset, s->filesz);
		memset(vm->ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}
	free(buf);
	return 0;
}

void loader_boot_setup(struct vm *vm, const struct boot_image *img,
		       const char *cmdline)
{
	struct trapeze_boot_info *bi =
		gpa_ptr(&vm->cpu, TRAPEZE_BOOT_INFO_GPA, sizeof(*bi));

	memset(vm->ram, 0, TRAPEZE_LOAD_MIN);
	trapeze_build_boot_state((uintptr_t)vm->ram, vm->ram_size, cmdline);
	bi->image_start = img->start;
	bi->image_end = img->end;
	/* Guest RAM is a fresh memfd and the loader writes only the image
	 * and the first MiB: the rest reads as zero (TRAPEZE_FEAT_ZERO_RAM). */
	bi->features = TRAPEZE_FEAT_HYPERCALL | TRAPEZE_FEAT_SHARED_IRQ |
		       TRAPEZE_FEAT_ZERO_RAM;
	bi->tsc_khz = vm->host.tsc_khz;
	vcpu_reset_long(&vm->cpu, img->entry, TRAPEZE_BOOT_INFO_GPA,
			TRAPEZE_BOOT_PT_GPA);
}

uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || v > (~0ull >> shift))
		return 0;
	return v << shift;
}
