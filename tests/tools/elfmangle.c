/*
 * elfmangle: write a damaged copy of a good guest image, for the tests of
 * the loader's error messages.
 *   elfmangle MUTATION IN.elf OUT
 * MUTATION: not-elf, elf32, dynamic, interp, past-ram, low-segment,
 *           entry-outside, truncated, no-load: a damaged ELF64 image
 *           (not-elf, elf32, truncated and interp, which overwrites the
 *           Trapeze note's program header, also lose the multiboot header,
 *           else a multiboot loader could still boot what is left);
 *           no-note: without the Trapeze note, so the multiboot header
 *           decides how it boots; mb-checksum, mb-video, mb-flag5: that,
 *           and the header's checksum broken, or a video mode or the
 *           unknown required flag 5 asked for (checksum kept right).
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *msg)
{
	fprintf(stderr, "elfmangle: %s\n", msg);
	exit(2);
}

static Elf64_Phdr *first_load(Elf64_Ehdr *eh, unsigned char *buf)
{
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff);
	unsigned i;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			return &ph[i];
	die("no PT_LOAD in the input");
	return NULL;
}

/* Move the entry point: e_entry and the Trapeze note's, which wins. */
static void set_entry(Elf64_Ehdr *eh, unsigned char *buf, uint64_t entry)
{
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff);
	unsigned i;

	eh->e_entry = entry;
	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Nhdr *n = (Elf64_Nhdr *)(buf + ph[i].p_offset);

		if (ph[i].p_type == PT_NOTE && n->n_namesz == 8 &&
		    !memcmp(n + 1, "Trapeze", 8) && n->n_descsz == 8)
			memcpy((unsigned char *)(n + 1) + 8, &entry, 8);
	}
}

/* The guest-kit multiboot header, in the first 8 KiB. */
static uint32_t *mb_header(unsigned char *buf, long len)
{
	long off;

	for (off = 0; off + 12 <= len && off + 12 <= 8192; off += 4) {
		uint32_t *h = (uint32_t *)(buf + off);

		if (h[0] == 0x1badb002u && h[0] + h[1] + h[2] == 0)
			return h;
	}
	die("no multiboot header in the input");
	return NULL;
}

static void drop_note(Elf64_Ehdr *eh, unsigned char *buf)
{
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff);
	unsigned i;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_NOTE)
			ph[i].p_type = PT_NULL;
}

/* Set header flags, the checksum kept valid. */
static void mb_set_flags(uint32_t *h, uint32_t flags)
{
	h[1] |= flags;
	h[2] = -(h[0] + h[1]);
}

int main(int argc, char **argv)
{
	unsigned char *buf;
	long len;
	FILE *f;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	unsigned i;

	if (argc != 4)
		die("usage: elfmangle MUTATION IN OUT");
	f = fopen(argv[2], "rb");
	if (!f)
		die("cannot open the input");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc(len);
	if (!buf || fread(buf, 1, len, f) != (size_t)len)
		die("cannot read the input");
	fclose(f);
	eh = (Elf64_Ehdr *)buf;
	ph = first_load(eh, buf);

	if (!strcmp(argv[1], "not-elf") || !strcmp(argv[1], "elf32") ||
	    !strcmp(argv[1], "truncated") || !strcmp(argv[1], "interp"))
		mb_header(buf, len)[0] = 0;
	if (!strncmp(argv[1], "mb-", 3) || !strcmp(argv[1], "no-note"))
		drop_note(eh, buf);

	if (!strcmp(argv[1], "not-elf"))
		memcpy(buf, "#!/bin/sh\necho\n", 16);
	else if (!strcmp(argv[1], "elf32"))
		buf[EI_CLASS] = ELFCLASS32;
	else if (!strcmp(argv[1], "no-note"))
		;
	else if (!strcmp(argv[1], "mb-checksum"))
		mb_header(buf, len)[2] += 1;
	else if (!strcmp(argv[1], "mb-video"))
		mb_set_flags(mb_header(buf, len), 1u << 2);
	else if (!strcmp(argv[1], "mb-flag5"))
		mb_set_flags(mb_header(buf, len), 1u << 5);
	else if (!strcmp(argv[1], "dynamic"))
		eh->e_type = ET_DYN;
	else if (!strcmp(argv[1], "interp"))
		((Elf64_Phdr *)(buf + eh->e_phoff))[eh->e_phnum - 1].p_type =
			PT_INTERP;
	else if (!strcmp(argv[1], "past-ram"))
		ph->p_paddr = ph->p_vaddr = 0x7ff00000;
	else if (!strcmp(argv[1], "low-segment"))
		ph->p_paddr = ph->p_vaddr = 0x1000;
	else if (!strcmp(argv[1], "entry-outside"))
		set_entry(eh, buf, 0x5000000);
	else if (!strcmp(argv[1], "truncated"))
		len = ph->p_offset + 16;
	else if (!strcmp(argv[1], "no-load")) {
		Elf64_Phdr *all = (Elf64_Phdr *)(buf + eh->e_phoff);

		for (i = 0; i < eh->e_phnum; i++)
			if (all[i].p_type == PT_LOAD)
				all[i].p_type = PT_NULL;
	} else
		die("unknown mutation");
	f = fopen(argv[3], "wb");
	if (!f || fwrite(buf, 1, len, f) != (size_t)len || fclose(f))
		die("cannot write the output");
	free(buf);
	return 0;
}
