/* Fuzz the MTA-STS policy file parser and the mx storage round trip. */
#include "fuzz.h"

#include "mtasts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mtasts_policy p, back; /* large: off the stack */
    static char joined[MTASTS_MX_MAX * DOMAIN_BUF];
    const char *why = NULL;
    size_t line = 0;
    if (mtasts_policy_parse((const char *)data, size, &p, &why, &line) != 0) {
        FUZZ_CHECK(why != NULL);
        return 0;
    }
    FUZZ_CHECK(p.mode <= MTASTS_MODE_ENFORCE);
    FUZZ_CHECK(p.max_age <= MTASTS_MAX_AGE_LIMIT);
    FUZZ_CHECK(p.mx_count <= MTASTS_MX_MAX);
    FUZZ_CHECK(p.mode == MTASTS_MODE_NONE || p.mx_count > 0);
    /* What the cache stores reads back the same. */
    FUZZ_CHECK(mtasts_mx_join(&p, joined, sizeof joined) == 0);
    FUZZ_CHECK(mtasts_mx_split(joined, &back) == 0);
    FUZZ_CHECK(back.mx_count == p.mx_count);
    for (size_t i = 0; i < p.mx_count; i++) {
        FUZZ_CHECK(strcmp(back.mx[i], p.mx[i]) == 0);
        /* A plain pattern allows its own host; "*.x" allows "a.x", never "x". */
        if (p.mx[i][0] != '*') {
            FUZZ_CHECK(mtasts_mx_allowed(&p, p.mx[i]));
        } else if (strlen(p.mx[i]) < DOMAIN_MAX - 1) {
            char host[DOMAIN_BUF];
            snprintf(host, sizeof host, "a%s", p.mx[i] + 1);
            FUZZ_CHECK(mtasts_mx_allowed(&p, host));
        }
    }
    return 0;
}
