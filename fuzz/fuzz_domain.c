/* Fuzz the domain pattern parser: names, patterns and pattern lists. */
#include "fuzz.h"

#include "domain.h"

static void check_name(const char *s, int pattern)
{
    char out[DOMAIN_BUF], again[DOMAIN_BUF];
    const char *why = NULL;
    int rc = pattern ? domain_pattern_normalize(s, out, &why) : domain_normalize(s, out, &why);
    if (rc != 0) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        return;
    }
    FUZZ_CHECK(strlen(out) <= DOMAIN_MAX + 2);
    /* Normal form is a fixed point and matches what it names. */
    FUZZ_CHECK((pattern ? domain_pattern_normalize(out, again, &why)
                        : domain_normalize(out, again, &why)) == 0);
    FUZZ_CHECK(strcmp(out, again) == 0);
    if (!pattern)
        FUZZ_CHECK(domain_pattern_matches(out, out));
    else if (out[0] == '*')
        FUZZ_CHECK(!domain_pattern_matches(out, out + 2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), **list = NULL;
    domain_list_error err;
    long n;
    if (!s)
        return 0;
    check_name(s, 0);
    check_name(s, 1);
    n = domain_list_parse(s, &list, &err);
    if (n < 0)
        FUZZ_CHECK(err.reason != NULL);
    for (long i = 0; i < n; i++)
        check_name(list[i], 1);
    domain_list_free(list, n < 0 ? 0 : n);
    free(s);
    return 0;
}
