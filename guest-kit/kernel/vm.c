/*
 * Page tables: the kernel's identity map of RAM and one address space per
 * process.  Every process's PML4 shares slot 0 with the kernel's (the
 * identity map, supervisor-only, which also keeps the Trapeze shared page
 * mapped everywhere) and has its own user memory in slot 1 (uapi.h).
 *
 * Each store of an entry goes through the pv-ops table: natively a plain
 * store (which Trapeze traps and mirrors if the table is live), under
 * Trapeze's paravirtual interface a batched hypercall.  Leaf entries are
 * batched when many are written at once; an entry that points at a new
 * table is written at once, since the next walk must see it.
 */
#include "kernel.h"

uint64_t kernel_pml4;
static uint64_t loaded_cr3;

static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR);
}

void batch_set(struct pte_batch *b, uint64_t *pte, uint64_t val)
{
	if (!b) {
		pv->set_pte(pte, val);
		return;
	}
	if (b->n == sizeof(b->req) / sizeof(b->req[0]))
		batch_flush(b);
	b->req[b->n].ptr = (uint64_t)(uintptr_t)pte;
	b->req[b->n].val = val;
	b->n++;
}

void batch_flush(struct pte_batch *b)
{
	if (b->n)
		pv->set_ptes(b->req, b->n);
	b->n = 0;
}

static uint64_t *new_table(uint64_t *entry, uint64_t flags)
{
	uint64_t *t = kalloc();

	if (!t)
		panic("vm: out of memory for the kernel's page tables");
	pv->set_pte(entry, (uint64_t)(uintptr_t)t | flags);
	return t;
}

/* One 2 MiB stretch of the identity map: a large page if RAM covers all of
 * it, else 4 KiB pages (page 0 stays absent, to catch null pointers). */
static void map_identity_2m(uint64_t *pd, uint64_t pa, uint64_t ram_size,
			    struct pte_batch *b)
{
	uint64_t *pt, a;

	if (pa && pa + (2ull << 20) <= ram_size) {
		batch_set(b, &pd[(pa >> 21) & 511],
			  pa | PTE_P | PTE_W | PTE_PS | PTE_AD);
		return;
	}
	pt = new_table(&pd[(pa >> 21) & 511], PTE_P | PTE_W);
	for (a = pa ? pa : PAGE_SIZE; a < pa + (2ull << 20) && a < ram_size;
	     a += PAGE_SIZE)
		batch_set(b, &pt[(a >> 12) & 511], a | PTE_P | PTE_W | PTE_AD);
}

void vm_init(uint64_t ram_size)
{
	struct pte_batch b = { .n = 0 };
	uint64_t *pml4, *pdpt, *pd = NULL, pa;

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	pml4 = kalloc();
	if (!pml4)
		panic("vm: no memory");
	pdpt = new_table(&pml4[0], PTE_P | PTE_W);
	for (pa = 0; pa < ram_size; pa += 2ull << 20) {
		if (!(pa & ((1ull << 30) - 1)))
			pd = new_table(&pdpt[pa >> 30], PTE_P | PTE_W);
		map_identity_2m(pd, pa, ram_size, &b);
	}
	batch_flush(&b);
	kernel_pml4 = (uint64_t)(uintptr_t)pml4;
	vm_switch(kernel_pml4);
}

void vm_switch(uint64_t pml4)
{
	if (pml4 == loaded_cr3)
		return;
	pv->write_cr3(pml4);
	loaded_cr3 = pml4;
}

/* A new address space: the kernel's slots and nothing else. */
uint64_t vm_new(void)
{
	struct pte_batch b = { .n = 0 };
	uint64_t *pml4 = kalloc(), *kpml4 = table_of(kernel_pml4);
	unsigned i;

	if (!pml4)
		return 0;
	for (i = 0; i < 512; i++)
		if (kpml4[i])
			batch_set(&b, &pml4[i], kpml4[i]);
	batch_flush(&b);
	return (uint64_t)(uintptr_t)pml4;
}

static int is_user(uint64_t va)
{
	return va >= USER_BASE && va < USER_STACK_TOP;
}

/* The last-level entry for a user address, making the tables on the way
 * if alloc; NULL if there is none (or no memory for one). */
static uint64_t *walk(uint64_t pml4, uint64_t va, int alloc)
{
	uint64_t *t = table_of(pml4);
	int level;

	for (level = 3; level > 0; level--) {
		uint64_t *e = &t[(va >> (12 + 9 * level)) & 511];

		if (*e & PTE_PS)
			return NULL;
		if (!(*e & PTE_P)) {
			uint64_t *n = alloc ? kalloc() : NULL;

			if (!n)
				return NULL;
			pv->set_pte(e, (uint64_t)(uintptr_t)n | PTE_P | PTE_W |
				    PTE_U);
		}
		t = table_of(*e);
	}
	return &t[(va >> 12) & 511];
}

int vm_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags,
	   struct pte_batch *b)
{
	uint64_t *pte;

	if (!is_user(va) || (va & (PAGE_SIZE - 1)))
		return -1;
	pte = walk(pml4, va, 1);
	if (!pte || (*pte & PTE_P))
		return -1;
	batch_set(b, pte, pa | flags | PTE_P);
	return 0;
}

static int is_demand_zero(uint64_t va)
{
	return (va >= USER_HEAP && va < USER_HEAP_END) ||
	       (va >= USER_STACK_TOP - USER_STACK_SIZE && va < USER_STACK_TOP);
}

/* Pages mapped per demand-zero fault: the one touched and the absent ones
 * after it in the same region and page table (fault-around), up to the
 * whole 2 MiB the table covers, as a kernel with transparent huge pages
 * would give.  A program that walks its heap takes one fault per table
 * instead of one per page: under Trapeze each fault is two privilege
 * switches and a dozen traps, while the pages cost the same either way.
 * They are taken FAULT_CHUNK at a time, and their entries written in
 * batches, one page-table hypercall each. */
#define FAULT_AROUND 512
#define FAULT_CHUNK 128

static uint64_t region_end(uint64_t va)
{
	uint64_t end = va < USER_HEAP_END ? USER_HEAP_END : USER_STACK_TOP;
	uint64_t table_end = ALIGN_DOWN(va, 512 * PAGE_SIZE) + 512 * PAGE_SIZE;
	uint64_t around = va + FAULT_AROUND * PAGE_SIZE;

	end = end < table_end ? end : table_end;
	return end < around ? end : around;
}

/* A user touched an absent page: give it a zeroed one if the address is
 * heap or stack (and its neighbours, see FAULT_AROUND: they share its
 * last-level table, so the entries are written in place, in batches).
 * 0, -1 for an address that is neither, -2 for no memory (short of the
 * neighbours, the page touched is all that must be had).  No TLB flush:
 * an absent entry is never cached. */
int vm_demand_zero(uint64_t pml4, uint64_t va)
{
	struct pte_batch b = { .n = 0 };
	void *pages[FAULT_CHUNK];
	uint64_t *pte;
	unsigned n, got, i, done;

	va = ALIGN_DOWN(va, PAGE_SIZE);
	if (!is_demand_zero(va))
		return -1;
	/* The entry is absent (the caller saw so): no entry, the tables
	 * could not grow. */
	pte = walk(pml4, va, 1);
	if (!pte || (*pte & PTE_P))
		return -2;
	n = (unsigned)((region_end(va) - va) / PAGE_SIZE);
	for (i = 1; i < n && !(pte[i] & PTE_P); i++)
		;
	n = i;
	for (done = 0; done < n; done += got) {
		unsigned want = n - done < FAULT_CHUNK ? n - done : FAULT_CHUNK;

		got = kalloc_many(pages, want);
		for (i = 0; i < got; i++)
			batch_set(&b, &pte[done + i],
				  (uint64_t)(uintptr_t)pages[i] | PTE_W | PTE_U |
				  PTE_NX | PTE_P | PTE_AD);
		if (got < want) {
			done += got;
			break;
		}
	}
	batch_flush(&b);
	return done ? 0 : -2;
}

/* Where the kernel reaches user address va, as the user could reach it
 * (writing if write), faulting a demand-zero page in; NULL if it cannot. */
void *vm_user_addr(uint64_t pml4, uint64_t va, int write)
{
	uint64_t *pte;

	if (!is_user(va))
		return NULL;
	pte = walk(pml4, va, 0);
	if ((!pte || !(*pte & PTE_P)) && vm_demand_zero(pml4, va) == 0)
		pte = walk(pml4, va, 0);
	if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) ||
	    (write && !(*pte & PTE_W)))
		return NULL;
	return (void *)(uintptr_t)((*pte & PTE_ADDR) | (va & (PAGE_SIZE - 1)));
}

/* The kernel never dereferences a user pointer: it walks the tables and
 * copies through the identity map, a page at a time. */
int copy_from_user(uint64_t pml4, void *dst, uint64_t src, size_t n)
{
	while (n) {
		size_t k = PAGE_SIZE - (src & (PAGE_SIZE - 1));
		void *p = vm_user_addr(pml4, src, 0);

		if (!p)
			return -1;
		k = k < n ? k : n;
		memcpy(dst, p, k);
		dst = (char *)dst + k;
		src += k;
		n -= k;
	}
	return 0;
}

int copy_to_user(uint64_t pml4, uint64_t dst, const void *src, size_t n)
{
	while (n) {
		size_t k = PAGE_SIZE - (dst & (PAGE_SIZE - 1));
		void *p = vm_user_addr(pml4, dst, 1);

		if (!p)
			return -1;
		k = k < n ? k : n;
		memcpy(p, src, k);
		src = (const char *)src + k;
		dst += k;
		n -= k;
	}
	return 0;
}

/* Free a user table and everything below it: level 3 is a PDPT, 0 a
 * data page. */
static void free_tree(uint64_t *t, int level)
{
	unsigned i;

	if (level > 0)
		for (i = 0; i < 512; i++)
			if (t[i] & PTE_P)
				free_tree(table_of(t[i]), level - 1);
	kfree(t);
}

/* Only for an address space that is not loaded (see vm_switch). */
void vm_free(uint64_t pml4)
{
	uint64_t *t = table_of(pml4), *kt = table_of(kernel_pml4);
	unsigned i;

	if (pml4 == loaded_cr3)
		panic("vm_free: address space 0x%llx is live",
		      (unsigned long long)pml4);
	for (i = 0; i < 512; i++)
		if ((t[i] & PTE_P) && !kt[i])
			free_tree(table_of(t[i]), 3);
	kfree(t);
}
