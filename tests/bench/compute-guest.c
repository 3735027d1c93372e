/*
 * The compute workload as a guest, at CPL 0: "low ROUNDS" runs it where
 * the guest is linked, "upper ROUNDS" from the upper half, as a 64-bit
 * kernel runs: the guest maps its first 512 GiB again at
 * 0xffffff8000000000 (PML4 entry 511) and calls the code, on the buffer,
 * through that alias (its stack stays where it is).  "fib N" and
 * "fibupper N": a recursive fib(N), where linked, or with both its code
 * and its stack in the upper half.
 */
#include "trapeze/guest.h"
#include "../bench/compute.h"

#define UPPER 0xffffff8000000000ull

static uint8_t buf[COMPUTE_BYTES];

typedef uint64_t compute_fn(uint8_t *buf, size_t size, unsigned rounds);

/* Calls, returns, pushes and pops: what a kernel's stack sees. */
static uint64_t __attribute__((noinline)) fib(unsigned n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* fib(n) from the upper half on a stack there too (upper: the alias's
 * offset), as a 64-bit kernel's code and stacks are. */
static uint64_t fib_upper(unsigned n, uint64_t upper)
{
	uint64_t (*f)(unsigned) = (uint64_t (*)(unsigned))((uintptr_t)fib +
							    upper);
	uint64_t r, saved;

	__asm__ volatile("movq %%rsp, %[saved]\n\t"
			 "addq %[up], %%rsp\n\t"
			 "movl %[n], %%edi\n\t"
			 "call *%[f]\n\t"
			 "movq %[saved], %%rsp"
			 : [saved] "=&r"(saved), "=a"(r)
			 : [up] "r"(upper), [n] "r"(n), [f] "r"(f)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
			   "r11", "memory", "cc");
	return r;
}

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	compute_fn *fn = compute;
	uint8_t *b = buf;
	uint64_t cr3, *pml4;
	const char *where = "low";
	unsigned rounds;

	if (!memcmp(cmd, "fib ", 4) || !memcmp(cmd, "fibupper ", 9)) {
		int up = cmd[3] == 'u';
		unsigned n = (unsigned)strtoul(cmd + (up ? 9 : 4), NULL, 10);

		if (up) {
			__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
			pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffull);
			pml4[511] = pml4[0];
			__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
		}
		printf("%s: fib(%u) = %llu\n", up ? "fibupper" : "fib", n,
		       (unsigned long long)(up ? fib_upper(n, UPPER) : fib(n)));
		return 0;
	}
	if (!memcmp(cmd, "upper ", 6)) {
		__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
		pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffull);
		pml4[511] = pml4[0];
		__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
		fn = (compute_fn *)((uintptr_t)compute + UPPER);
		b = buf + UPPER;
		where = "upper";
	} else if (memcmp(cmd, "low ", 4)) {
		printf("usage: low|upper ROUNDS, or fib|fibupper N\n");
		return 1;
	}
	rounds = (unsigned)strtoul(cmd + (*where == 'u' ? 6 : 4), NULL, 10);
	printf("%s: checksum 0x%llx\n", where,
	       (unsigned long long)fn(b, sizeof(buf), rounds));
	return 0;
}
