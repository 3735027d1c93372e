/*
 * memory: touches MEMORY_PAGES heap pages, each absent until then, so
 * each first touch is a demand-zero page fault.  Every page must come
 * zeroed; then a pattern that differs on every page and word is written
 * everywhere and read back.  The exit status is the number of pages that
 * passed both checks, the report a checksum of what was read.
 */
#include "ulib.h"

#define MEMORY_PAGES 1024
#define MEMORY_BASE (USER_HEAP + 0x1000000)
#define WORDS (4096 / 8)

static uint64_t pattern(uint64_t page, uint64_t word)
{
	return (page << 32 | word) * 0x9e3779b97f4a7c15ull;
}

int memory_main(void)
{
	uint64_t *mem = (uint64_t *)MEMORY_BASE, sum = 0, i, w;
	int good = 0;
	static uint8_t bad[MEMORY_PAGES];

	for (i = 0; i < MEMORY_PAGES; i++) {
		uint64_t *page = mem + i * WORDS;

		for (w = 0; w < WORDS; w++)
			if (page[w])
				bad[i] = 1;
		for (w = 0; w < WORDS; w++)
			page[w] = pattern(i, w);
	}
	for (i = 0; i < MEMORY_PAGES; i++) {
		uint64_t *page = mem + i * WORDS;

		for (w = 0; w < WORDS; w++) {
			if (page[w] != pattern(i, w))
				bad[i] = 1;
			sum += page[w];
		}
		good += !bad[i];
	}
	report(sum);
	return good;
}
