/*
 * codegen: a kernel that makes, changes and maps its own code, and traps
 * in the middle of it: what a binary translator must get right, since it
 * runs copies of the guest's code rather than the code itself.
 *
 *   - code written, run, rewritten and run again, through the address it
 *     runs at and through a second mapping of the same frame;
 *   - a store beside code on its page, which changes no code;
 *   - one virtual address mapped to two code frames in two address
 *     spaces, with cr3 switches between calls;
 *   - a timer interrupt arriving while a tight loop runs (from a chained
 *     block, it must still be taken);
 *   - #PF, #GP and #DE in the middle of straight-line code, each seen by
 *     the handler at its instruction with the registers set before it.
 *
 * Its transcript is QEMU's (same-as-qemu.sh) and codegen.stdout's.
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

#define P  0x1ull
#define W  0x2ull
#define PS 0x80ull

#define X      0x40000000ull      /* code at one address, two frames */
#define ALIAS  0x40001000ull      /* a second mapping of frame[0] */

typedef uint64_t table[512] __attribute__((aligned(4096)));

static table pml4a, pdpta, pda, pta, pml4b, pdptb, pdb, ptb;
static uint8_t frame[2][4096] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));

static uint64_t pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* mov $v,%eax; ret at p */
static void put_ret(volatile uint8_t *p, uint32_t v)
{
	p[0] = 0xb8;
	p[1] = (uint8_t)v;
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)(v >> 16);
	p[4] = (uint8_t)(v >> 24);
	p[5] = 0xc3;
}

static int call(uint64_t at)
{
	return ((int (*)(void))at)();
}

/* ---- code that changes ----------------------------------------------- */

static void rewritten(void)
{
	int i, sum = 0;

	put_ret(page, 41);
	printf("written: returns %d\n", call(pa(page)));
	put_ret(page, 42);
	printf("rewritten: returns %d\n", call(pa(page)));
	/* Changed while a loop calls it. */
	for (i = 0; i < 10; i++) {
		if (i == 5)
			put_ret(page, 100);
		sum += call(pa(page));
	}
	printf("changed in a loop: the calls sum to %d\n", sum);
	/* A store beside the code, on its page: the code stays. */
	page[2048] = 0x5a;
	printf("a store beside it: returns %d, the byte is 0x%x\n",
	       call(pa(page)), page[2048]);
	/* Its first byte, read back: the guest's own. */
	printf("its first byte reads 0x%x\n", ((volatile uint8_t *)page)[0]);
}

/* ---- two spaces, one address, two frames ---------------------------- */

static void build(table pml4, table pdpt, table pd, table pt, void *code)
{
	const uint64_t *boot = (const uint64_t *)(uintptr_t)(read_cr3() &
							    ~0xfffull);
	const uint64_t *bpdpt = (const uint64_t *)(uintptr_t)(boot[0] &
							     0xffffffffff000ull);
	unsigned i;

	for (i = 0; i < 512; i++) {
		pml4[i] = boot[i];
		pdpt[i] = bpdpt[i];
	}
	pml4[0] = pa(pdpt) | P | W;
	pdpt[1] = pa(pd) | P | W;
	pd[0] = pa(pt) | P | W;
	pt[0] = pa(code) | P | W;
	pt[1] = pa(frame[0]) | P | W;             /* ALIAS, in both */
}

static void two_spaces(void)
{
	uint64_t boot = read_cr3();
	int a1, b, a2, via;

	put_ret(frame[0], 1);
	put_ret(frame[1], 2);
	build(pml4a, pdpta, pda, pta, frame[0]);
	build(pml4b, pdptb, pdb, ptb, frame[1]);
	write_cr3(pa(pml4a));
	a1 = call(X);
	write_cr3(pa(pml4b));
	b = call(X);
	write_cr3(pa(pml4a));
	a2 = call(X);
	printf("one address, two spaces: %d, %d, %d\n", a1, b, a2);
	/* Frame 0 written through its second mapping, run at X. */
	put_ret((volatile uint8_t *)ALIAS, 7);
	via = call(X);
	printf("written through another mapping: returns %d\n", via);
	write_cr3(boot);
}

/* ---- an interrupt during a tight loop --------------------------------- */

static volatile unsigned ticks;

static void on_timer(struct trap_frame *f)
{
	(void)f;
	ticks++;
	outb(0x20, 0x20);
}

static void timer_in_a_loop(void)
{
	volatile unsigned long spins = 0;

	idt_set_handler(0x20, on_timer);
	outb(0x20, 0x11); outb(0xa0, 0x11);       /* the 8259s */
	outb(0x21, 0x20); outb(0xa1, 0x28);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, 0xfe); outb(0xa1, 0xff);       /* IRQ 0 only */
	outb(0x43, 0x34);                         /* the 8254: 1 kHz */
	outb(0x40, (1193182 / 1000) & 0xff);
	outb(0x40, (1193182 / 1000) >> 8);
	sti();
	while (ticks < 5)
		spins++;
	cli();
	outb(0x21, 0xff);
	printf("a tight loop saw %u ticks%s\n", ticks,
	       spins ? ", spinning" : "");
}

/* ---- faults in straight-line code ------------------------------------- */

static volatile struct {
	uint64_t vector, err, rip, rbx, rcx;
} seen;

static void on_fault(struct trap_frame *f)
{
	seen.vector = f->vector;
	seen.err = f->error;
	seen.rip = f->rip;
	seen.rbx = f->rbx;
	seen.rcx = f->rcx;
	f->rip += 3;                  /* every faulting one below: 3 bytes */
}

extern char pf_start[], pf_at[], gp_start[], gp_at[], de_start[], de_at[];
void pf_code(void);
void gp_code(void);
void de_code(void);
__asm__(".globl pf_code, gp_code, de_code, pf_start, pf_at, gp_start, gp_at\n"
	".globl de_start, de_at\n"
	"pf_code: pushq %rbx\npf_start: movl $0x1234, %ebx\n"
	"\tleaq 5(%rbx), %rcx\n\tmovabsq $0x3f0000000000, %rax\n"
	"pf_at: movq (%rax), %rdx\n\taddq $1, %rbx\n\tpopq %rbx\n\tret\n"
	"gp_code: pushq %rbx\ngp_start: movl $0x5678, %ebx\n"
	"\tleaq 7(%rbx), %rcx\n\tmovabsq $0x0000800000000000, %rax\n"
	"gp_at: movq (%rax), %rdx\n\taddq $1, %rbx\n\tpopq %rbx\n\tret\n"
	"de_code: pushq %rbx\nde_start: movl $0x9abc, %ebx\n"
	"\tleaq 9(%rbx), %rcx\n\txorl %edx, %edx\n\tmovl $10, %eax\n"
	"\txorl %esi, %esi\n"
	"de_at: divq %rsi\n\taddq $1, %rbx\n\tpopq %rbx\n\tret\n");

static void report(const char *what, const char *at)
{
	printf("%s: vector %llu, error 0x%llx, at the instruction: %s, "
	       "rbx 0x%llx, rcx 0x%llx\n", what,
	       (unsigned long long)seen.vector, (unsigned long long)seen.err,
	       seen.rip == (uint64_t)(uintptr_t)at ? "yes" : "no",
	       (unsigned long long)seen.rbx, (unsigned long long)seen.rcx);
}

static void faults(void)
{
	idt_set_handler(14, on_fault);
	idt_set_handler(13, on_fault);
	idt_set_handler(0, on_fault);
	pf_code();
	report("#PF in a block", pf_at);
	gp_code();
	report("#GP in a block", gp_at);
	de_code();
	report("#DE in a block", de_at);
}

int guest_main(const struct trapeze_boot_info *bi)
{
	(void)bi;
	gdt_init();
	idt_init();
	rewritten();
	two_spaces();
	timer_in_a_loop();
	faults();
	printf("codegen: done\n");
	return 0;
}
