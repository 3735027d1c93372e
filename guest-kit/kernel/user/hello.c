/* hello: the smallest program; it runs alone, so it may print. */
#include "ulib.h"

int hello_main(void)
{
	printf("hello: hello, world, from pid %d at CPL 3\n", getpid());
	return 0;
}
