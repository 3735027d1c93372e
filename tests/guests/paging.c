/*
 * paging: a guest that builds its own 4-level page tables and exercises
 * them: map, remap, unmap, read-only and NX pages, CR0.WP, user and
 * supervisor pages, accessed and dirty bits, every common way of storing
 * a page-table entry, 2 MiB and 1 GiB pages, two address spaces with
 * cr3 switches, and data and code in the upper canonical half (where
 * Trapeze cannot map anything: it emulates each access, or runs hot
 * loops from its translation cache).  It prints what the MMU did; the
 * transcript must be the
 * same under QEMU (real paging hardware, emulated) and under Trapeze
 * (shadow paging).
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

#define P  0x1ull
#define W  0x2ull
#define U  0x4ull
#define A  0x20ull
#define D  0x40ull
#define PS 0x80ull
#define NX (1ull << 63)

#define VA     0x40000000ull       /* the test page */
#define SUPER  (VA + 0x1000)       /* a supervisor-only page */
#define ABSENT (VA + 0x2000)       /* never present */
#define CODE   (VA + 0x3000)       /* for the NX test */
#define RDONLY (VA + 0x4000)       /* user, read-only */
#define HIGH   0xffffffffffffe000ull /* kvm-unit-tests' first vmalloc page */

typedef uint64_t table[512] __attribute__((aligned(4096)));

static table pml4, pdpt, pd0, pt0, pd1, pt1;        /* space 1 */
static table pml4b, pdptb, pd1b, pt1b;              /* space 2 */
static table pdpth, pdh, pth;                       /* the top 2 MiB */
static uint8_t frame[6][4096] __attribute__((aligned(4096)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));

static volatile struct {
	uint64_t vector, err, cr2;
	unsigned skip;
	int ret_on_fetch;       /* a faulting call: return to the caller */
} seen;

static uint64_t pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;   /* identity-mapped */
}

static void on_fault(struct trap_frame *f)
{
	seen.vector = f->vector;
	seen.err = f->error;
	seen.cr2 = f->vector == 14 ? read_cr2() : 0;
	if ((f->cs & 3) == 3) {
		leave_user(f);
	} else if (seen.ret_on_fetch) {
		f->rip = *(uint64_t *)f->rsp;
		f->rsp += 8;
	} else {
		f->rip += seen.skip;
	}
}

#define FAULTING(insn, ...)						\
	__asm__ volatile("movl $(2f - 1f), %[skip]\n1:\t" insn "\n2:"	\
			 : [skip] "=m"(seen.skip) : __VA_ARGS__)

static uint8_t read_byte(uint64_t va)
{
	return *(volatile uint8_t *)va;
}

/* The MMU changes entries behind the compiler's back (A and D bits). */
static uint64_t pte_of(const uint64_t *pte)
{
	return *(const volatile uint64_t *)pte;
}

static void set_pte(uint64_t *pte, uint64_t val, uint64_t va)
{
	*pte = val;
	invlpg((void *)va);
}

static void report_fault(const char *what)
{
	printf("%s -> vector %llu, cr2 0x%llx, error 0x%llx\n", what,
	       (unsigned long long)seen.vector, (unsigned long long)seen.cr2,
	       (unsigned long long)seen.err);
	seen.vector = 0;
}

/* Identity-map the first 64 MiB (4 KiB pages below 2 MiB, with page 0
 * absent), user-accessible, and hook the test area. */
static void build_space1(void)
{
	unsigned i;

	pml4[0] = pa(pdpt) | P | W | U;
	pdpt[0] = pa(pd0) | P | W | U;
	pdpt[1] = pa(pd1) | P | W | U;
	pdpt[2] = 0 | P | W | PS;                 /* 1 GiB page at 2 GiB */
	pd0[0] = pa(pt0) | P | W | U;
	for (i = 1; i < 512; i++)
		pt0[i] = ((uint64_t)i << 12) | P | W | U;
	for (i = 1; i < 32; i++)
		pd0[i] = ((uint64_t)i << 21) | P | W | U | PS;
	pd1[0] = pa(pt1) | P | W | U;
	pd1[1] = (2ull << 20) | P | W | PS;       /* 2 MiB page */
	pt1[1] = pa(frame[1]) | P | W;            /* SUPER */
	pt1[3] = pa(frame[3]) | P | W;            /* CODE */
	pt1[4] = pa(frame[4]) | P | U;            /* RDONLY */
}

/* Space 2 shares everything but the test page table. */
static void build_space2(void)
{
	unsigned i;

	for (i = 0; i < 512; i++) {
		pml4b[i] = pml4[i];
		pdptb[i] = pdpt[i];
		pt1b[i] = pt1[i];
	}
	pml4b[0] = pa(pdptb) | P | W | U;
	pdptb[1] = pa(pd1b) | P | W | U;
	for (i = 0; i < 512; i++)
		pd1b[i] = pd1[i];
	pd1b[0] = pa(pt1b) | P | W | U;
	pt1b[0] = pa(frame[2]) | P | W;
}

static void map_remap_unmap(void)
{
	set_pte(&pt1[0], pa(frame[0]) | P | W, VA);
	printf("map: 0x%llx reads '%c'\n", VA, read_byte(VA));
	set_pte(&pt1[0], pa(frame[1]) | P | W, VA);
	printf("remap: 0x%llx reads '%c'\n", VA, read_byte(VA));
	set_pte(&pt1[0], 0, VA);
	FAULTING("movb (%[a]), %%al", [a] "r"(VA) : "rax");
	report_fault("unmap: read");
}

static void permissions(void)
{
	set_pte(&pt1[0], pa(frame[0]) | P, VA);
	write_cr0(read_cr0() | (1ull << 16));
	FAULTING("movb $1, (%[a])", [a] "r"(VA) : "memory");
	report_fault("read-only page, CR0.WP=1: write");
	write_cr0(read_cr0() & ~(1ull << 16));
	*(volatile uint8_t *)VA = 'a';
	write_cr0(read_cr0() | (1ull << 16));
	printf("read-only page, CR0.WP=0: supervisor write lands: %s\n",
	       frame[0][0] == 'a' ? "yes" : "no");
	frame[0][0] = 'A';
}

static void no_execute(void)
{
	static const uint8_t ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 };
	int (*fn)(void) = (int (*)(void))CODE;
	int r;

	memcpy(frame[3], ret42, sizeof(ret42));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	set_pte(&pt1[3], pa(frame[3]) | P | NX, CODE);
	seen.ret_on_fetch = 1;
	fn();
	seen.ret_on_fetch = 0;
	report_fault("NX page: call");
	set_pte(&pt1[3], pa(frame[3]) | P, CODE);
	r = fn();
	printf("executable page: call returns %d\n", r);
}

/*
 * Where Trapeze's translator keeps its code, in the monitor's part of the
 * address space above the guest's window: its trampoline at
 * 0x400400152000 (vmm/engine/tc-internal.h; tc-cache.c asserts it), and
 * past a hole, two pages on, the translations of the guest kernel's
 * code.  Guest user
 * code that jumps there must get the #PF that real hardware gives, these
 * tables mapping nothing there, and not run the kernel's code.
 */
void user_read_super(void);
void user_read_absent(void);
void user_write_rdonly(void);
void user_jump_blocks(void);
void user_jump_trampoline(void);
__asm__(".globl user_jump_blocks\n"
	"user_jump_blocks: movabsq $0x400400154000, %rax\n\tjmp *%rax\n"
	".globl user_jump_trampoline\n"
	"user_jump_trampoline: movabsq $0x400400152000, %rax\n"
	"\tjmp *%rax\n");
__asm__(".globl user_read_super\n"
	"user_read_super: movq 0x40001000, %rax\n\tud2\n"
	".globl user_read_absent\n"
	"user_read_absent: movq 0x40002000, %rax\n\tud2\n"
	".globl user_write_rdonly\n"
	"user_write_rdonly: movq %rax, 0x40004000\n\tud2\n");

static void user_supervisor(void)
{
	uint64_t sp = pa(user_stack) + sizeof(user_stack);

	enter_user((uint64_t)user_read_super, sp);
	report_fault("user read of a supervisor page");
	enter_user((uint64_t)user_read_absent, sp);
	report_fault("user read of an absent page");
	enter_user((uint64_t)user_write_rdonly, sp);
	report_fault("user write to a read-only page");
	enter_user((uint64_t)user_jump_blocks, sp);
	report_fault("user jump into the translator's blocks");
	enter_user((uint64_t)user_jump_trampoline, sp);
	report_fault("user jump into the translator's trampoline");
}

static void accessed_dirty(void)
{
	set_pte(&pt1[0], pa(frame[0]) | P | W, VA);
	(void)read_byte(VA);
	printf("accessed/dirty: after a read A=%llu D=%llu",
	       (unsigned long long)!!(pte_of(&pt1[0]) & A),
	       (unsigned long long)!!(pte_of(&pt1[0]) & D));
	*(volatile uint8_t *)VA = 'A';
	printf(", after a write A=%llu D=%llu\n",
	       (unsigned long long)!!(pte_of(&pt1[0]) & A),
	       (unsigned long long)!!(pte_of(&pt1[0]) & D));
}

/* The ways kernels store page-table entries: each must be seen. */
static void pte_stores(void)
{
	uint64_t *pte = &pt1[0], expect;

	__atomic_exchange_n(pte, pa(frame[1]) | P | W, __ATOMIC_SEQ_CST);
	invlpg((void *)VA);
	printf("pte stores: xchg -> '%c'", read_byte(VA));
	expect = pte_of(pte);
	__atomic_compare_exchange_n(pte, &expect, pa(frame[0]) | P | W, 0,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	invlpg((void *)VA);
	printf(", lock cmpxchg -> '%c'", read_byte(VA));
	__atomic_fetch_and(pte, ~P, __ATOMIC_SEQ_CST);
	invlpg((void *)VA);
	FAULTING("movb (%[a]), %%al", [a] "r"(VA) : "rax");
	printf(", lock and ~P -> #PF %s", seen.vector == 14 ? "yes" : "no");
	__atomic_fetch_or(pte, P, __ATOMIC_SEQ_CST);
	invlpg((void *)VA);
	printf(", lock or P -> '%c'", read_byte(VA));
	__asm__ volatile("lock btrq $0, (%0)" : : "r"(pte) : "memory");
	invlpg((void *)VA);
	seen.vector = 0;
	FAULTING("movb (%[a]), %%al", [a] "r"(VA) : "rax");
	printf(", lock btr P -> #PF %s", seen.vector == 14 ? "yes" : "no");
	__asm__ volatile("btsq $0, (%0)" : : "r"(pte) : "memory");
	invlpg((void *)VA);
	printf(", bts P -> '%c'\n", read_byte(VA));
	seen.vector = 0;
}

static void large_pages(void)
{
	printf("2 MiB page: 0x40200000 reads the same as 0x200000: %s\n",
	       read_byte(0x40200000) == read_byte(0x200000) ? "yes" : "no");
	printf("1 GiB page: 0x80100000 holds this guest's code: %s\n",
	       !memcmp((void *)0x80100000ull, (void *)0x100000, 256) ? "yes"
								      : "no");
}

static void two_spaces(void)
{
	char seen1 = 0, seen2 = 0;
	unsigned i;

	build_space2();
	for (i = 0; i < 8; i++) {
		write_cr3(pa(pml4b));
		seen2 = read_byte(VA);
		write_cr3(pa(pml4));
		seen1 = read_byte(VA);
	}
	printf("cr3 switches x8: space 1 reads '%c', space 2 reads '%c'\n",
	       seen1, seen2);
	/* Space 2 changes while inactive: the next switch must see it. */
	pt1b[0] = pa(frame[1]) | P | W;
	write_cr3(pa(pml4b));
	printf("space 2 after an edit made from space 1 reads '%c'\n",
	       read_byte(VA));
	write_cr3(pa(pml4));
}

/* The top of the address space, as kvm-unit-tests' malloc and
 * handle_irq use it: a store and a load, a call into code written there
 * (which jumps back down with a rel32 that wraps around 2^64), an NX
 * fetch and a read of an absent page. */
static void upper_half(void)
{
	/* mov $42, %eax; ret */
	static const uint8_t ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 };
	volatile uint64_t *word = (volatile uint64_t *)(HIGH + 0x800);
	int (*fn)(void) = (int (*)(void))HIGH;
	uint8_t *jmp = frame[5] + 0x10;
	int32_t rel;

	pml4[511] = pa(pdpth) | P | W;
	pdpth[511] = pa(pdh) | P | W;
	pdh[511] = pa(pth) | P | W;
	set_pte(&pth[510], pa(frame[5]) | P | W, HIGH);
	*word = 0x1122334455667788ull;
	printf("upper half: 0x%llx holds 0x%llx, its frame 0x%llx\n",
	       (unsigned long long)HIGH + 0x800,
	       (unsigned long long)*word,
	       (unsigned long long)*(volatile uint64_t *)(frame[5] + 0x800));
	memcpy(frame[5], ret42, sizeof(ret42));
	printf("upper half: call returns %d\n", fn());
	/* jmp rel32 to ret42 at CODE's identity address: the thunk shape. */
	memcpy(frame[3], ret42, sizeof(ret42));
	rel = (int32_t)(pa(frame[3]) - (HIGH + 0x10 + 5));
	jmp[0] = 0xe9;
	memcpy(jmp + 1, &rel, 4);
	printf("upper half: a jmp down from it returns %d\n",
	       ((int (*)(void))(HIGH + 0x10))());
	set_pte(&pth[510], pa(frame[5]) | P | W | NX, HIGH);
	seen.ret_on_fetch = 1;
	fn();
	seen.ret_on_fetch = 0;
	report_fault("upper half: NX page: call");
	FAULTING("movq (%[a]), %%rax", [a] "r"(HIGH + 0x1000) : "rax");
	report_fault("upper half: absent page: read");
	set_pte(&pth[510], 0, HIGH);
}

/* Kept apart from their callers, and leaves (no stack frame), so that
 * a fault inside one can return to its caller (seen.ret_on_fetch). */
static void __attribute__((noinline)) fill(uint8_t *p, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i | 1);      /* not memset: keep the loop */
}

static unsigned __attribute__((noinline)) sieve(uint8_t *p, unsigned n)
{
	unsigned i, j, count = 0;

	for (i = 2; i < n; i++) {
		if (!p[i])
			continue;
		count++;
		for (j = 2 * i; j < n; j += i)
			p[j] = 0;
	}
	return count;
}

static uint8_t upper_stack[4096] __attribute__((aligned(4096)));

/* Calls, returns, pushes and pops, for a stack at the top. */
static uint64_t __attribute__((noinline, used)) fib(unsigned n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* fib on a stack in the upper half (a 64-bit kernel's stacks are there):
 * every push, pop, call and ret reaches it. */
static uint64_t fib_on_upper_stack(unsigned n)
{
	uint64_t top = HIGH - 0x3000 + sizeof(upper_stack), r, saved;

	set_pte(&pth[507], pa(upper_stack) | P | W, HIGH - 0x3000);
	__asm__ volatile("movq %%rsp, %[saved]\n\t"
			 "movq %[top], %%rsp\n\t"
			 "movl %[n], %%edi\n\t"
			 "call fib\n\t"
			 "movq %[saved], %%rsp"
			 : [saved] "=&r"(saved), "=a"(r)
			 : [top] "r"(top), [n] "r"(n)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
			   "r11", "memory", "cc");
	set_pte(&pth[507], 0, HIGH - 0x3000);
	return r;
}

/* Loops over memory at the top, hot enough that Trapeze runs them from
 * its translation cache rather than trapping on every access: the same
 * code on a low page, then a store to an absent page from inside it. */
static void upper_loops(void)
{
	uint8_t *top = (uint8_t *)(HIGH - 0x1000);
	uint8_t *absent = (uint8_t *)(HIGH - 0x2000);
	unsigned round, count = 0, low, sum = 0, i;

	set_pte(&pth[509], pa(frame[4]) | P | W, (uint64_t)top);
	for (round = 0; round < 16; round++) {
		fill(top, 4096);
		count = sieve(top, 4096);
	}
	for (i = 0; i < 4096; i++)
		sum += top[i];
	fill(frame[3], 4096);
	low = sieve(frame[3], 4096);
	printf("upper half, hot loops: %u primes below 4096 in a page at "
	       "0x%llx (sum %u), %u in a low page\n", count,
	       (unsigned long long)(uintptr_t)top, sum, low);
	seen.ret_on_fetch = 1;
	fill(absent, 4096);
	seen.ret_on_fetch = 0;
	report_fault("upper half, hot loops: a store to an absent page");
	set_pte(&pth[509], 0, (uint64_t)top);
	printf("upper half, a stack there: fib(14) = %llu\n",
	       (unsigned long long)fib_on_upper_stack(14));
}

int guest_main(const struct trapeze_boot_info *bi)
{
	unsigned v;

	for (v = 0; v < 6; v++)
		memset(frame[v], 'A' + v, sizeof(frame[v]));
	gdt_init();
	idt_init();
	for (v = 0; v < 32; v++)
		idt_set_handler(v, on_fault);
	tss_set_rsp0(pa(kernel_stack) + sizeof(kernel_stack));
	build_space1();
	write_cr3(pa(pml4));
	printf("paging: running on our own 4-level tables\n");
	map_remap_unmap();
	permissions();
	no_execute();
	user_supervisor();
	accessed_dirty();
	pte_stores();
	large_pages();
	two_spaces();
	upper_half();
	upper_loops();
	printf("paging: done\n");
	return 0;
}
