// GP_CHECK: aborts on a broken invariant (a bug in gpupool, never bad user input).
#pragma once

#include <cstdio>
#include <cstdlib>

#define GP_CHECK(cond)                                                              \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (false)
