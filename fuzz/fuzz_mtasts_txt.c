/* Fuzz the MTA-STS TXT record parser and the record selection. */
#include "fuzz.h"

#include "mtasts.h"

enum { MAX_RECORDS = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mtasts_txt t;
    const char *why = NULL;
    char *s, *records[MAX_RECORDS];
    size_t n = 0;
    if (mtasts_txt_parse((const char *)data, size, &t, &why) == 0) {
        size_t len = strlen(t.id);
        FUZZ_CHECK(len >= 1 && len <= MTASTS_ID_MAX);
    } else {
        FUZZ_CHECK(why != NULL);
    }
    /* The same bytes as several records, one per line. */
    if (!(s = fuzz_cstr(data, size)))
        return 0;
    for (char *p = s; p && n < MAX_RECORDS;) {
        char *nl = strchr(p, '\n');
        records[n++] = p;
        if (nl)
            *nl++ = '\0';
        p = nl;
    }
    if (mtasts_txt_select(records, n, &t, &why) == 0)
        FUZZ_CHECK(t.id[0] != '\0');
    free(s);
    return 0;
}
