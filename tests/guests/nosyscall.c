/*
 * nosyscall: a guest that tries to make host system calls.  Linux's
 * write(1, msg, len) with syscall, then int $0x80: neither may reach the
 * host (the message must never appear); each lands where the guest's own
 * hardware would send it.
 */
#include "trapeze/desc.h"
#include "trapeze/guest.h"

static const char leak[] = "THIS REACHED THE HOST\n";
static volatile uint64_t vec, err;
static volatile unsigned skip;

static void on_fault(struct trap_frame *f)
{
	vec = f->vector;
	err = f->error;
	f->rip += skip;
}

void lstar_entry(void);
__asm__(".globl lstar_entry\n"
	"lstar_entry:\n\t"
	"movq $0x5ca11, %rax\n\t"
	"jmp *%rcx\n");          /* back to after the syscall, at CPL 0 */

static long host_write(void)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(1), "D"(1), "S"(leak), "d"(sizeof(leak) - 1)
			 : "rcx", "r11", "memory");
	return ret;
}

int guest_main(const struct trapeze_boot_info *bi)
{
	long r;

	gdt_init();
	idt_init();
	idt_set_handler(6, on_fault);
	idt_set_handler(13, on_fault);

	skip = 2;
	host_write();
	printf("syscall with EFER.SCE clear: vector %llu\n",
	       (unsigned long long)vec);

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, STAR_VALUE);
	wrmsr(MSR_LSTAR, (uint64_t)lstar_entry);
	r = host_write();
	printf("syscall with SCE set reached the guest's LSTAR: %s\n",
	       r == 0x5ca11 ? "yes" : "no");

	/* sysenter from 64-bit code: #UD on AMD processors (this host's
	 * kind, and the vendor the guest's CPUID reports). */
	vec = 0;
	skip = 2;
	__asm__ volatile("sysenter" : : "a"(1) : "memory");
	printf("sysenter in 64-bit mode: vector %llu\n",
	       (unsigned long long)vec);

	/* int $0x80 is Linux's 32-bit system call gate: here it is the
	 * guest's own vector 0x80. */
	vec = 0;
	skip = 0;
	idt_set_handler(0x80, on_fault);
	__asm__ volatile("int $0x80"
			 : : "a"(1), "D"(1), "S"(leak), "d"(sizeof(leak) - 1)
			 : "memory");
	printf("int $0x80 reached the guest's IDT: vector 0x%llx\n",
	       (unsigned long long)vec);
	return 0;
}
