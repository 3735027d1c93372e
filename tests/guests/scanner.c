/*
 * scanner: ways control can reach code the scanner has not seen, each
 * ending in a sensitive instruction (pushf, after cli) whose answer shows
 * whether it was caught.  Under QEMU (real CPL 0) every line says IF=0;
 * under Trapeze with the scanner it must too.  Also self-modifying code:
 * a routine rewritten between two calls must run its new bytes, scanned.
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

/* Functions reachable only through pointers, packed into one page that
 * direct control flow also enters (at reached_directly), so that the page
 * is already executable when the pointers are followed. */
uint64_t reached_directly(void);
uint64_t by_pointer_1(void);
uint64_t by_pointer_2(void);
uint64_t by_forged_return(void);
void by_interrupt(void);
uint64_t forged_return(void);
__asm__(".section .text.scanpage, \"ax\"\n"
	".balign 4096\n"
	".globl reached_directly\n"
	"reached_directly: xorl %eax, %eax\n\tret\n"
	".balign 64\n"
	".globl by_pointer_1\n"
	"by_pointer_1: pushfq\n\tpopq %rax\n\tret\n"
	".balign 64\n"
	".globl by_pointer_2\n"
	/* entered 3 bytes in: the nops are never executed */
	"by_pointer_2: nop\n\tnop\n\tnop\n\tpushfq\n\tpopq %rax\n\tret\n"
	".balign 64\n"
	".globl by_forged_return\n"
	"by_forged_return: pushfq\n\tpopq %rax\n\tret\n"
	".balign 64\n"
	/* an IDT gate points here directly */
	".globl by_interrupt\n"
	"by_interrupt: pushq %rax\n\tpushfq\n\tpopq %rax\n\t"
	"movq %rax, int_flags(%rip)\n\tpopq %rax\n\tiretq\n"
	".balign 64\n"
	".globl forged_return\n"
	/* push a return address nobody called from, and ret to it; that
	 * code's own ret then comes back to our caller */
	"forged_return: leaq by_forged_return(%rip), %rax\n\t"
	"pushq %rax\n\tret\n"
	".text\n");

volatile uint64_t int_flags;

static unsigned iflag(uint64_t rflags)
{
	return (unsigned)((rflags >> 9) & 1);
}

/* A routine rewritten in place: byte 0 is the instruction we change. */
static uint8_t smc_page[4096] __attribute__((aligned(4096)));

static uint64_t call_smc(void)
{
	return ((uint64_t(*)(void))smc_page)();
}

static void self_modifying(void)
{
	/* mov $1, %eax; ret */
	static const uint8_t one[] = { 0xb8, 1, 0, 0, 0, 0xc3 };
	/* pushfq; pop %rax; ret */
	static const uint8_t flags[] = { 0x9c, 0x58, 0xc3 };
	uint64_t a, b, c;

	memcpy(smc_page, one, sizeof(one));
	a = call_smc();
	memcpy(smc_page, flags, sizeof(flags));
	b = call_smc();
	memcpy(smc_page, one, sizeof(one));
	smc_page[1] = 7;
	c = call_smc();
	printf("self-modifying code: returns %llu, then IF=%u from a new "
	       "pushf, then %llu\n", (unsigned long long)a, iflag(b),
	       (unsigned long long)c);
}

int guest_main(const struct trapeze_boot_info *bi)
{
	uint64_t (*volatile p1)(void) = by_pointer_1;
	uint64_t (*volatile p2)(void) = (uint64_t(*)(void))
		((uintptr_t)by_pointer_2 + 3);

	const char *cmd = (const char *)(uintptr_t)bi->cmdline;

	gdt_init();
	idt_init();
	idt_set_raw(0x41, by_interrupt);
	cli();
	if (!strcmp(cmd, "read-own-code")) {
		/* What a guest reading code the scanner patched sees. */
		p1();
		printf("first byte of a function that starts with pushf: "
		       "0x%02x\n", *(volatile uint8_t *)by_pointer_1);
		return 0;
	}
	printf("direct call: returns %llu\n",
	       (unsigned long long)reached_directly());
	printf("call through a pointer: pushf says IF=%u\n", iflag(p1()));
	printf("pointer into the middle of code: IF=%u\n", iflag(p2()));
	printf("ret to an address nobody called from: IF=%u\n",
	       iflag(forged_return()));
	__asm__ volatile("int $0x41" ::: "memory");
	printf("interrupt gate into an executable page: IF=%u\n",
	       iflag(int_flags));
	self_modifying();
	return 0;
}
