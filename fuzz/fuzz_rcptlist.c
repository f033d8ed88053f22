/* Fuzz the sink's recipientlist parser ("SMTP:a@x;SMTP:b@y;"): what it
 * accepts is bounded, has a domain, and survives a format/parse round trip
 * unchanged (the sink rewrites the list from what it parsed). */
#include "fuzz.h"

#include "rcptlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size), *again;
    char err[256];
    rcptlist list, back;
    if (!text)
        return 0;
    if (rcptlist_parse(text, &list, err, sizeof err) != 0) {
        FUZZ_CHECK(list.n == 0 && list.addrs == NULL && err[0] != '\0');
        free(text);
        return 0;
    }
    FUZZ_CHECK(list.n <= RCPTLIST_MAX_RECIPIENTS);
    for (size_t i = 0; i < list.n; i++) {
        FUZZ_CHECK(list.addrs[i][0] != '\0' && strlen(list.addrs[i]) <= RCPTLIST_MAX_ADDR);
        FUZZ_CHECK(rcptlist_domain(list.addrs[i]) != NULL);
    }
    again = rcptlist_format((const char *const *)list.addrs, list.n);
    if (again) {
        FUZZ_CHECK(rcptlist_parse(again, &back, err, sizeof err) == 0);
        FUZZ_CHECK(back.n == list.n);
        for (size_t i = 0; i < list.n; i++)
            FUZZ_CHECK(strcmp(back.addrs[i], list.addrs[i]) == 0);
        rcptlist_free(&back);
        free(again);
    }
    rcptlist_free(&list);
    free(text);
    return 0;
}
