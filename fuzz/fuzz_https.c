/* Fuzz the HTTP response head parser and the chunked decoder of the MTA-STS
 * policy fetch: both read bytes from any server on the Internet. */
#include "fuzz.h"

#include "https.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[4096];
    const char *in = (const char *)data, *why = NULL;
    https_head head;
    https_chunked c;
    size_t used = 0, out_len = 0, pos = 0, step;
    long n = https_parse_head(in, size, &head, &why);
    int rc = HTTPS_CHUNK_MORE;
    FUZZ_CHECK(n <= (long)size);
    if (n > 0) {
        FUZZ_CHECK(head.code >= 100 && head.code <= 999);
        FUZZ_CHECK(head.content_length >= -1);
    } else if (n < 0) {
        FUZZ_CHECK(why != NULL);
    }
    /* The whole input as a chunked body, in steps set by the first byte so
     * state boundaries fall everywhere. */
    https_chunked_init(&c);
    step = size ? (size_t)(data[0] % 13) + 1 : 1;
    while (pos < size && rc == HTTPS_CHUNK_MORE) {
        size_t take = size - pos < step ? size - pos : step;
        rc = https_chunked_feed(&c, in + pos, take, &used, out, sizeof out, &out_len, &why);
        FUZZ_CHECK(used <= take);
        FUZZ_CHECK(out_len <= sizeof out);
        pos += used;
        if (rc == HTTPS_CHUNK_MORE)
            FUZZ_CHECK(used == take);
    }
    return 0;
}
