/*
 * The main() every unit suite shares: run the suite, exit non-zero if any
 * test failed.  A suite file ends with CHECK_MAIN(its_suite).
 */
#ifndef TRAPEZE_CHECK_MAIN_H
#define TRAPEZE_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define CHECK_MAIN(suite_fn)						\
	int main(void)							\
	{								\
		SRunner *r = srunner_create(suite_fn());		\
		int failed;						\
									\
		srunner_run_all(r, CK_NORMAL);				\
		failed = srunner_ntests_failed(r);			\
		srunner_free(r);					\
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;		\
	}

#endif
