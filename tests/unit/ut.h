/* SPDX-License-Identifier: BSD-3-Clause */
/* One CUnit suite per test binary: register, run verbosely, exit status. */
#ifndef TESTS_UNIT_UT_H
#define TESTS_UNIT_UT_H

#include <CUnit/Basic.h>
#include <stddef.h>

struct ut_test {
	const char *name;
	CU_TestFunc fn;
};

#define UT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* 0 when every test passed; a failed suite init or cleanup counts too. */
static inline int ut_run(const char *suite, CU_InitializeFunc init,
			 CU_CleanupFunc fini, const struct ut_test *tests, size_t n)
{
	unsigned int failed = 1;
	CU_pSuite s;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite(suite, init, fini);
	for (i = 0; s && i < n; i++)
		CU_add_test(s, tests[i].name, tests[i].fn);
	if (s) {
		CU_basic_set_mode(CU_BRM_VERBOSE);
		CU_basic_run_tests();
		failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
			 CU_get_number_of_suites_failed();
	}
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

#endif
