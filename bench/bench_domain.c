/* bench_domain: how fast a recipient domain is checked against a rule's
 * pattern lists (the sink does this for every recipient). Prints matches
 * per second for a list of 1000 patterns scanned linearly. */
#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "plat.h"

enum { PATTERNS = 1000, ROUNDS = 2000000 };

int main(void)
{
    static char patterns[PATTERNS][DOMAIN_BUF];
    char raw[64];
    const char *why;
    for (int i = 0; i < PATTERNS; i++) {
        snprintf(raw, sizeof raw, i % 2 ? "*.host%d.example" : "host%d.example.org", i);
        if (domain_pattern_normalize(raw, patterns[i], &why) != 0) {
            fprintf(stderr, "bench_domain: %s: %s\n", raw, why);
            return 1;
        }
    }
    const char *domains[] = { "mail.host999.example", "host500.example.org", "nowhere.test" };
    unsigned long hits = 0;
    uint64_t start = plat_now_ms();
    for (int r = 0; r < ROUNDS; r++)
        hits += domain_pattern_matches(patterns[r % PATTERNS], domains[r % 3]);
    uint64_t ms = plat_now_ms() - start;
    printf("domain_pattern_matches: %d calls in %llu ms (%.1f million/s), %lu hits\n", ROUNDS,
           (unsigned long long)ms, ms ? ROUNDS / (double)ms / 1000.0 : 0.0, hits);

    char out[DOMAIN_BUF];
    start = plat_now_ms();
    for (int r = 0; r < ROUNDS / 10; r++)
        hits += domain_normalize("Mail.Host999.EXAMPLE.", out, &why) == 0;
    ms = plat_now_ms() - start;
    printf("domain_normalize: %d calls in %llu ms\n", ROUNDS / 10, (unsigned long long)ms);
    return 0;
}
