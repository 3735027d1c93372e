/*
 * The compute workload as a guest, at CPL 0: "low ROUNDS" runs it where
 * the guest is linked, "upper ROUNDS" from the upper half, as a 64-bit
 * kernel runs: the guest maps its first 512 GiB again at
 * 0xffffff8000000000 (PML4 entry 511) and calls the code, on the buffer,
 * through that alias (its stack stays where it is).
 */
#include "trapeze/guest.h"
#include "../bench/compute.h"

#define UPPER 0xffffff8000000000ull

static uint8_t buf[COMPUTE_BYTES];

typedef uint64_t compute_fn(uint8_t *buf, size_t size, unsigned rounds);

static unsigned long parse_count(const char *s)
{
	unsigned long n = 0;

	while (*s == ' ')
		s++;
	while (*s >= '0' && *s <= '9')
		n = n * 10 + (unsigned long)(*s++ - '0');
	return n;
}

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	compute_fn *fn = compute;
	uint8_t *b = buf;
	uint64_t cr3, *pml4;
	const char *where = "low";

	if (!memcmp(cmd, "upper ", 6)) {
		__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
		pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffull);
		pml4[511] = pml4[0];
		__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
		fn = (compute_fn *)((uintptr_t)compute + UPPER);
		b = buf + UPPER;
		where = "upper";
	} else if (memcmp(cmd, "low ", 4)) {
		printf("usage: low|upper ROUNDS\n");
		return 1;
	}
	printf("%s: checksum 0x%llx\n", where,
	       (unsigned long long)fn(b, sizeof(buf),
				      (unsigned)parse_count(cmd + 4 +
							    (*where == 'u'))));
	return 0;
}
