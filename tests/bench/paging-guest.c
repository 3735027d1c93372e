/*
 * The shadow-paging benchmark guest.  On its own 4-level tables it times,
 * with the untrapped TSC, one of:
 *   ptewrite N   a store to an entry of a page table in use (emulated)
 *   demand N     the first touch of a mapped page (a shadow fault)
 *   cr3 N        a switch between two address spaces of 64 touched
 *                pages each, including the touches
 *   trip N PAGES a round trip user -> kernel -> user (int $0x40 from CPL 3,
 *                iretq back), after the kernel touched PAGES user pages,
 *                at their user address and, as a kernel zeroing them
 *                would, through its own map of RAM (so each is a live
 *                shadow mapping, and its frame a live host PTE inside the
 *                kernel's 2 MiB supervisor mappings)
 * and prints "OP N iterations: C cycles each, tsc K kHz".
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

#define P 1ull
#define W 2ull
#define U 4ull
#define A 0x20ull
#define D 0x40ull
#define PS 0x80ull
#define VA 0x40000000ull
#define PAGES 64
#define DEMAND_PAGES 4096

typedef uint64_t table[512] __attribute__((aligned(4096)));

static table pml4[2], pdpt[2], pd0, pd1[2], pt1[2][DEMAND_PAGES / 512];
static table pt0;
/* trip: up to TRIP_PAGES user pages at VA, then a user code page and a
 * user stack page at UVA; each page its own frame from RAM at 16 MiB
 * (the run needs --mem=128M). */
#define TRIP_PAGES 16384
#define UVA (VA + 40 * (2ull << 20))
static table trip_pt[TRIP_PAGES / 512], upt;
static uint8_t ucode[4096] __attribute__((aligned(4096)));
static uint8_t ustack[4096] __attribute__((aligned(4096)));
static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t frames[2][PAGES][4096] __attribute__((aligned(4096)));

static uint64_t pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Space s: the boot identity map's first 64 MiB, and at VA its own pages
 * (PAGES frames of its own for cr3, DEMAND_PAGES frames of RAM for the
 * demand test), all with A and D already set. */
static void build(int s, unsigned npages)
{
	unsigned i;

	pml4[s][0] = pa(pdpt[s]) | P | W;
	pdpt[s][0] = pa(pd0) | P | W;
	pdpt[s][1] = pa(pd1[s]) | P | W;
	for (i = 0; i < npages / 512 + 1 && i < DEMAND_PAGES / 512; i++)
		pd1[s][i] = pa(pt1[s][i]) | P | W;
	for (i = 0; i < npages; i++) {
		uint64_t frame = npages == PAGES ? pa(frames[s][i])
						 : 0x1000000ull + i * 4096ull;

		pt1[s][i / 512][i % 512] = frame | P | W | A | D;
	}
}

static void identity(void)
{
	unsigned i;

	pd0[0] = pa(pt0) | P | W;
	for (i = 1; i < 512; i++)
		pt0[i] = ((uint64_t)i << 12) | P | W | A | D;
	for (i = 1; i < 32; i++)
		pd0[i] = ((uint64_t)i << 21) | P | W | PS | A | D;
}

static void touch(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		*(volatile uint8_t *)(VA + i * 4096ull) += 1;
}

/* The k-th number (from 0) after the command word; 0 if absent. */
static unsigned long parse(const char *s, int k)
{
	unsigned long n;

	while (*s && *s != ' ')
		s++;
	do {
		while (*s && (*s < '0' || *s > '9'))
			s++;
		for (n = 0; *s >= '0' && *s <= '9'; s++)
			n = n * 10 + (unsigned long)(*s - '0');
	} while (k-- > 0);
	return n;
}

/* The user side of the round trip, copied to the user code page: the
 * iteration count is at the top of its stack. */
void user_trip(void);
void user_trip_end(void);
__asm__(".globl user_trip\n"
	"user_trip: movq (%rsp), %rcx\n"
	"1:\tint $0x40\n"
	"\tdecq %rcx\n"
	"\tjnz 1b\n"
	"\tint $0x41\n"
	".globl user_trip_end\n"
	"user_trip_end:\n");

static void on_trip(struct trap_frame *f)
{
	(void)f;
}

static void on_trip_done(struct trap_frame *f)
{
	leave_user(f);
}

/* The boot map stays supervisor-only (the kernel's own pages change
 * rights at every switch, as a real kernel's do); PAGES user pages at VA
 * are touched by the kernel, at VA and in the boot map (below 64 MiB);
 * the code and stack pages at UVA are user pages too. */
static void trip(unsigned long n, unsigned long pages)
{
	unsigned i;

	pml4[0][0] = pa(pdpt[0]) | P | W | U;
	pdpt[0][0] = pa(pd0) | P | W;
	pdpt[0][1] = pa(pd1[0]) | P | W | U;
	for (i = 0; i < TRIP_PAGES; i++) {
		if (i % 512 == 0)
			pd1[0][i / 512] = pa(trip_pt[i / 512]) | P | W | U;
		trip_pt[i / 512][i % 512] = (0x1000000ull + i * 4096ull) |
					    P | W | U | A | D;
	}
	pd1[0][(UVA - VA) >> 21] = pa(upt) | P | W | U;
	upt[0] = pa(ucode) | P | U | A;
	upt[1] = pa(ustack) | P | W | U | A | D;
	memcpy(ucode, (const void *)user_trip,
	       (size_t)((uintptr_t)user_trip_end - (uintptr_t)user_trip));
	*(uint64_t *)(ustack + 4088) = n;
	gdt_init();
	idt_init();
	idt_set_handler(0x40, on_trip);
	idt_set_handler(0x41, on_trip_done);
	idt_set_dpl(0x40, 3);
	idt_set_dpl(0x41, 3);
	tss_set_rsp0(pa(kstack) + sizeof(kstack));
	write_cr3(pa(pml4[0]));
	for (i = 0; i < pages && i < TRIP_PAGES; i++) {
		uint64_t frame = 0x1000000ull + i * 4096ull;

		(void)*(volatile uint8_t *)(VA + i * 4096ull);
		if (frame < (64ull << 20))
			(void)*(volatile uint8_t *)(uintptr_t)frame;
	}
}

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	unsigned long n = parse(cmd, 0), i;
	uint64_t t0 = 0, t1 = 0;

	identity();
	if (!memcmp(cmd, "ptewrite", 8)) {
		build(0, PAGES);
		write_cr3(pa(pml4[0]));
		touch(1);                 /* pt1[0][0] is now a table in use */
		t0 = rdtsc();
		volatile uint64_t *pte = &pt1[0][0][100];

		for (i = 0; i < n; i++)
			*pte = (i & 1) ? 0 : (pa(frames[0][1]) | P);
		t1 = rdtsc();
	} else if (!memcmp(cmd, "demand", 6)) {
		if (n > DEMAND_PAGES)
			n = DEMAND_PAGES;
		build(0, DEMAND_PAGES);
		write_cr3(pa(pml4[0]));
		t0 = rdtsc();
		touch(n);
		t1 = rdtsc();
	} else if (!memcmp(cmd, "cr3", 3)) {
		build(0, PAGES);
		build(1, PAGES);
		t0 = rdtsc();
		for (i = 0; i < n; i++) {
			write_cr3(pa(pml4[i & 1]));
			touch(PAGES);
		}
		t1 = rdtsc();
	} else if (!memcmp(cmd, "trip", 4)) {
		trip(n, parse(cmd, 1));
		t0 = rdtsc();
		enter_user(UVA, UVA + 4096 + 4088);
		t1 = rdtsc();
	} else {
		printf("usage: ptewrite|demand|cr3 N | trip N PAGES\n");
		return 1;
	}
	for (i = 0; cmd[i] && cmd[i] != ' '; i++)
		;
	printf("%.*s %lu iterations: %llu cycles each, tsc %llu kHz\n",
	       (int)i, cmd, n, (unsigned long long)((t1 - t0) / (n ? n : 1)),
	       (unsigned long long)bi->tsc_khz);
	return 0;
}
