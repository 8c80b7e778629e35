// FUZZ_CHECK(cond): the fuzz targets' invariant check. On failure it prints
// the file, line and condition and aborts, so libFuzzer saves the input.
#ifndef DWFS_TESTS_FUZZ_FUZZ_CHECK_H_
#define DWFS_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#endif  // DWFS_TESTS_FUZZ_FUZZ_CHECK_H_
