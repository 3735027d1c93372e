/*
 * sleeper: sleeps SLEEPS times for SLEEP_MS and checks that the clock
 * moved on by at least that much each time.  Its exit status is the
 * number of sleeps that came back early (0 is right).
 */
#include "ulib.h"

#define SLEEPS   5
#define SLEEP_MS 100

int sleeper_main(void)
{
	int i, early = 0;

	for (i = 0; i < SLEEPS; i++) {
		unsigned long before = uptime();

		sleep(SLEEP_MS);
		if (uptime() - before < SLEEP_MS)
			early++;
	}
	return early;
}
