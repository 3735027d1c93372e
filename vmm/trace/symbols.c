/*
 * Guest symbols (see symbols.h): the ELF file's .symtab, sorted by
 * address, searched by bisection.  Read once, before the guest starts.
 */
#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/symbols.h"

struct sym {
	uint64_t addr, size;
	const char *name;
};

struct symbols {
	struct sym *sym;
	size_t n;
	uint64_t lo, hi;         /* the image's allocated sections */
	char *strtab;
};

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(n)) &&
	    fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*len = buf ? (size_t)n : 0;
	fclose(f);
	return buf;
}

/* Is this symbol worth naming: a function, object or label with an
 * address and a name in the string table? */
static bool worth_naming(const Elf64_Sym *sym, const char *strtab,
			 size_t strsize)
{
	unsigned type = ELF64_ST_TYPE(sym->st_info);

	return (type == STT_FUNC || type == STT_NOTYPE ||
		type == STT_OBJECT) && sym->st_value &&
	       sym->st_name < strsize && strtab[sym->st_name] &&
	       sym->st_shndx != SHN_UNDEF && sym->st_shndx != SHN_ABS;
}

/* The extent of the allocated sections: addresses outside it are none
 * of the image's. */
static void extent(struct symbols *s, const Elf64_Shdr *sh, size_t n)
{
	size_t j;

	s->lo = UINT64_MAX;
	for (j = 0; j < n; j++)
		if ((sh[j].sh_flags & SHF_ALLOC) && sh[j].sh_size) {
			if (sh[j].sh_addr < s->lo)
				s->lo = sh[j].sh_addr;
			if (sh[j].sh_addr + sh[j].sh_size > s->hi)
				s->hi = sh[j].sh_addr + sh[j].sh_size;
		}
}

/* The symbols of one symbol table (st, its strings str), sorted. */
static struct symbols *from_table(const uint8_t *buf, const Elf64_Shdr *st,
				  const Elf64_Shdr *str)
{
	const Elf64_Sym *sym = (const void *)(buf + st->sh_offset);
	size_t count = st->sh_size / sizeof(*sym), j;
	struct symbols *s = calloc(1, sizeof(*s));

	if (!s || !(s->sym = calloc(count ? count : 1, sizeof(*s->sym))) ||
	    !(s->strtab = malloc(str->sh_size))) {
		symbols_free(s);
		return NULL;
	}
	memcpy(s->strtab, buf + str->sh_offset, str->sh_size);
	s->strtab[str->sh_size - 1] = 0;
	for (j = 0; j < count; j++)
		if (worth_naming(&sym[j], s->strtab, str->sh_size))
			s->sym[s->n++] = (struct sym){
				sym[j].st_value, sym[j].st_size,
				s->strtab + sym[j].st_name };
	qsort(s->sym, s->n, sizeof(*s->sym), by_addr);
	return s;
}

/* Copy the .symtab entries worth naming; every offset is checked. */
static struct symbols *collect(const uint8_t *buf, size_t len)
{
	const Elf64_Ehdr *eh = (const void *)buf;
	const Elf64_Shdr *sh;
	struct symbols *s;
	size_t i;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > len ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff)
		return NULL;
	sh = (const void *)(buf + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *st = &sh[i], *str;

		if (st->sh_type != SHT_SYMTAB || st->sh_link >= eh->e_shnum)
			continue;
		str = &sh[st->sh_link];
		if (st->sh_offset > len || st->sh_size > len - st->sh_offset ||
		    str->sh_offset > len || str->sh_size > len - str->sh_offset ||
		    !str->sh_size || !(s = from_table(buf, st, str)))
			return NULL;
		extent(s, sh, eh->e_shnum);
		return s;
	}
	return NULL;
}

struct symbols *symbols_load(const char *path)
{
	size_t len;
	uint8_t *buf = slurp(path, &len);
	struct symbols *s = buf ? collect(buf, len) : NULL;

	free(buf);
	return s;
}

void symbols_free(struct symbols *s)
{
	if (!s)
		return;
	free(s->sym);
	free(s->strtab);
	free(s);
}

const char *symbols_name(const struct symbols *s, uint64_t addr, char *buf,
			 size_t len)
{
	size_t lo = 0, hi = s ? s->n : 0;
	const struct sym *best;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->sym[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	best = lo ? &s->sym[lo - 1] : NULL;
	/* Local labels share addresses with functions: prefer a sized one. */
	while (best && best > s->sym && !best->size &&
	       best[-1].addr == best->addr)
		best--;
	/* Past the image (user programs loaded at run time, say), the
	 * nearest symbol below would be a lie. */
	if (!best || (best->size && addr >= best->addr + best->size) ||
	    addr < s->lo || addr >= s->hi) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (addr == best->addr)
		snprintf(buf, len, "%s", best->name);
	else
		snprintf(buf, len, "%s+0x%llx", best->name,
			 (unsigned long long)(addr - best->addr));
	return buf;
}
