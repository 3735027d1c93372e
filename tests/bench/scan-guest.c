/*
 * The scanner benchmark guest.  Times, with the untrapped TSC:
 *   firstrun N  the first call of each of N code pages (fault, scan,
 *               patch, run) minus a second call of it (run): the cost of
 *               a page's first execution
 *   pushfpopf N a patched pushf/popf pair
 * and prints "OP N iterations: C cycles each, tsc K kHz".
 */
#include "trapeze/guest.h"

#define PAGES 32

extern const uint8_t scan_pages[];

static uint64_t call_page(unsigned i)
{
	uint64_t t0 = rdtsc_ordered();

	((void (*)(void))(scan_pages + 4096 * i))();
	return rdtsc_ordered() - t0;
}

static unsigned long parse(const char *s)
{
	while (*s && *s != ' ')
		s++;
	return strtoul(s, NULL, 10);
}

int guest_main(const struct trapeze_boot_info *bi)
{
	const char *cmd = (const char *)(uintptr_t)bi->cmdline;
	unsigned long n = parse(cmd), i;
	uint64_t cycles = 0, t0;

	if (!memcmp(cmd, "firstrun", 8)) {
		if (n > PAGES)
			n = PAGES;
		for (i = 0; i < n; i++) {
			uint64_t cold = call_page(i), warm = call_page(i);

			cycles += cold > warm ? cold - warm : 0;
		}
	} else if (!memcmp(cmd, "pushfpopf", 9)) {
		t0 = rdtsc_ordered();
		for (i = 0; i < n; i++)
			__asm__ volatile("pushfq; popfq" ::: "cc", "memory");
		cycles = rdtsc_ordered() - t0;
	} else {
		printf("usage: firstrun|pushfpopf N\n");
		return 1;
	}
	for (i = 0; cmd[i] && cmd[i] != ' '; i++)
		;
	printf("%.*s %lu iterations: %llu cycles each, tsc %llu kHz\n",
	       (int)i, cmd, n, (unsigned long long)(cycles / (n ? n : 1)),
	       (unsigned long long)bi->tsc_khz);
	return 0;
}
