/*
 * Loading the user image into a new address space.  All the built-in
 * programs live in one static ELF executable, user/user.elf, linked at
 * USER_BASE and carried inside the kernel image (programs.S); its entry
 * takes the program number.  Each process gets its own copy of every
 * segment, so programs share no writable data.
 */
#include "kernel.h"

extern const uint8_t user_elf[], user_elf_end[];

#define PT_LOAD 1
#define PF_X    1
#define PF_W    2

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static int bad_header(const struct elf64_ehdr *eh, uint64_t size)
{
	return size < sizeof(*eh) || memcmp(eh->ident, "\177ELF\2\1", 6) ||
	       eh->type != 2 || eh->machine != 62 ||
	       eh->phentsize != sizeof(struct elf64_phdr) ||
	       eh->phoff > size ||
	       (uint64_t)eh->phnum * sizeof(struct elf64_phdr) >
		       size - eh->phoff;
}

/* Copy the part of the segment's file bytes that falls in the page at
 * va into page. */
static void fill_page(uint8_t *page, uint64_t va,
		      const struct elf64_phdr *ph)
{
	uint64_t from = va > ph->vaddr ? va : ph->vaddr;
	uint64_t to = ph->vaddr + ph->filesz;

	if (to > va + PAGE_SIZE)
		to = va + PAGE_SIZE;
	if (from < to)
		memcpy(page + (from - va), user_elf + ph->offset +
		       (from - ph->vaddr), to - from);
}

static int load_segment(uint64_t pml4, const struct elf64_phdr *ph,
			uint64_t size, struct pte_batch *b)
{
	uint64_t flags = PTE_U | (ph->flags & PF_W ? PTE_W : 0) |
			 (ph->flags & PF_X ? 0 : PTE_NX);
	uint64_t va;

	if (ph->filesz > ph->memsz || ph->offset > size ||
	    ph->filesz > size - ph->offset || ph->vaddr < USER_BASE ||
	    ph->memsz > USER_IMAGE_END - ph->vaddr)
		return -1;
	for (va = ALIGN_DOWN(ph->vaddr, PAGE_SIZE); va < ph->vaddr + ph->memsz;
	     va += PAGE_SIZE) {
		uint8_t *page = kalloc();

		if (!page)
			return -1;
		fill_page(page, va, ph);
		if (vm_map(pml4, va, (uint64_t)(uintptr_t)page, flags, b) < 0) {
			kfree(page);
			return -1;
		}
	}
	return 0;
}

/* Map the user image into pml4: its entry point, or 0.  On failure what
 * was mapped stays mapped, for vm_free() to take back. */
uint64_t exec_load(uint64_t pml4)
{
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)user_elf;
	uint64_t size = (uint64_t)(user_elf_end - user_elf);
	const struct elf64_phdr *ph;
	struct pte_batch b = { .n = 0 };
	int i, err = 0;

	if (bad_header(eh, size))
		panic("exec: the built-in user image is not an x86-64 ELF");
	ph = (const struct elf64_phdr *)(user_elf + eh->phoff);
	for (i = 0; i < eh->phnum && !err; i++)
		if (ph[i].type == PT_LOAD)
			err = load_segment(pml4, &ph[i], size, &b);
	batch_flush(&b);
	if (err)
		return 0;
	return eh->entry;
}
