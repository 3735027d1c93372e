/*
 * The physical page allocator: the RAM above the kernel image, one 4 KiB
 * page at a time.  Pages never handed out are taken in order from a bump
 * pointer, so boot touches none of them (under Trapeze the first touch of
 * a page costs a shadow-MMU fault); freed pages go on a list threaded
 * through themselves.  Every page comes back zeroed: a fresh one is not
 * zeroed again when the platform says RAM starts out zero
 * (TRAPEZE_FEAT_ZERO_RAM), which spares the host a touch of each page
 * before its user's own.
 */
#include "kernel.h"

struct run {
	struct run *next;
};

static struct run *free_list;
static uint64_t next_fresh, end_fresh, next_low, end_low, free_pages;
static int fresh_is_zero;

/* Fresh pages come from above LARGE_START first, then from the stretch
 * between the kernel image and it.  The identity map (vm.c) maps the
 * first 2 MiB with 4 KiB pages, to keep page 0 absent, and the rest with
 * 2 MiB pages: under Trapeze each 4 KiB supervisor page costs a shadow
 * fault the first time the kernel touches it (and a step at every
 * privilege switch after), where one fault maps a whole 2 MiB page. */
#define LARGE_START (2ull << 20)

void kalloc_init(uint64_t start, uint64_t end, int ram_is_zero)
{
	fresh_is_zero = ram_is_zero;
	next_low = ALIGN_UP(start, PAGE_SIZE);
	end_fresh = ALIGN_DOWN(end, PAGE_SIZE);
	end_low = end_fresh < LARGE_START ? end_fresh : LARGE_START;
	next_fresh = next_low > LARGE_START ? next_low : LARGE_START;
	if (next_low > end_low)
		next_low = end_low;
	if (next_fresh > end_fresh)
		next_fresh = end_fresh;
	free_pages = (end_fresh - next_fresh + end_low - next_low) / PAGE_SIZE;
}

static void zero_page(void *page)
{
	uint64_t *p = page;
	uint64_t n = PAGE_SIZE / 8;

	__asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ull)
			 : "memory");
}

/* A page: freed ones first, then fresh ones (kalloc_many counts on that
 * order). */
static void *take(int *fresh)
{
	void *page = NULL;

	*fresh = 1;
	if (free_list) {
		page = free_list;
		free_list = free_list->next;
		*fresh = 0;
	} else if (next_fresh < end_fresh) {
		page = (void *)(uintptr_t)next_fresh;
		next_fresh += PAGE_SIZE;
	} else if (next_low < end_low) {
		page = (void *)(uintptr_t)next_low;
		next_low += PAGE_SIZE;
	}
	if (page)
		free_pages--;
	return page;
}

void *kalloc(void)
{
	void *page;

	return kalloc_many(&page, 1) ? page : NULL;
}

/* Up to n pages, zeroed, taken under one irq_save(): the demand-zero path
 * takes a batch per fault, and every call on it is a trap under Trapeze's
 * scanner (returns and indirect calls are patched).  How many it got. */
unsigned kalloc_many(void **pages, unsigned n)
{
	uint64_t flags = irq_save();
	unsigned i, used = 0;     /* pages[0..used) were handed out before */
	int fresh;

	for (i = 0; i < n && (pages[i] = take(&fresh)); i++)
		if (!fresh || !fresh_is_zero)
			used = i + 1;
	irq_restore(flags);
	for (n = i, i = 0; i < used; i++)
		zero_page(pages[i]);
	return n;
}

void kfree(void *page)
{
	struct run *r = page;
	uint64_t flags;

	if ((uintptr_t)page & (PAGE_SIZE - 1))
		panic("kfree: 0x%llx is not a page", (unsigned long long)
		      (uintptr_t)page);
	flags = irq_save();
	r->next = free_list;
	free_list = r;
	free_pages++;
	irq_restore(flags);
}

uint64_t kalloc_free_count(void)
{
	return free_pages;
}
