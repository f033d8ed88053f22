/* fuzz: what every fuzz target shares.
 *
 * Each fuzz/fuzz_<name>.c defines the libFuzzer entry point. The same file
 * is compiled into tests/unit/test_fuzz_regress.c without libFuzzer (there
 * the entry is renamed with a #define before the include, which is why the
 * prototype below sits outside the include guard) to replay the kept inputs
 * of fuzz/corpus/<name>/ in the normal builds. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef TR_FUZZ_H
#define TR_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An invariant of the code under test: a violation is a finding. */
#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__,      \
                    __LINE__);                                                        \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* The input as a NUL-terminated string cut at its first NUL (what the
 * string APIs would see); NULL when memory runs out. Free it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
