/* Fuzz the probe's SMTP reply parser: multi-line replies, codes, the line
 * and size bounds, the EHLO keyword scan for STARTTLS, and the trace's
 * escaping of each reply's first line.
 *
 * The parser is internal to probe.c (static functions fed by the session's
 * socket), so this target compiles probe.c into itself and reaches it
 * unchanged: the input is placed in the session's receive buffer and the
 * socket is a closed one, so the parser sees exactly these bytes and then
 * the end of the connection. Linking then takes none of probe.c from trcore
 * (every symbol of it is already defined here). */
#include "fuzz.h"

#include "probe.c"

/* Whatever the peer sent, a trace text is printable ASCII within bounds. */
static void smtp_reply_check_trace(void *ctx, const probe_trace_event *ev)
{
    size_t i, len = strlen(ev->text);
    FUZZ_CHECK(len < PROBE_TRACE_TEXT_MAX);
    for (i = 0; i < len; i++)
        FUZZ_CHECK(ev->text[i] >= 0x20 && ev->text[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static session s; /* large: off the stack */
    probe_options opts;
    char first[160];
    memset(&s, 0, sizeof s);
    probe_options_default(&opts);
    opts.trace = smtp_reply_check_trace;
    s.opts = &opts;
    s.domain = "fuzz.test";
    s.fd = NET_BAD_FD;
    s.inlen = size < sizeof s.in ? size : sizeof s.in;
    memcpy(s.in, data, s.inlen);
    for (int i = 0; i < 64; i++) {
        if (read_reply(&s, 0) != READ_OK)
            break;
        FUZZ_CHECK(s.rep.code >= 0 && s.rep.code <= 999);
        FUZZ_CHECK(s.rep.lines >= 1 && s.rep.lines <= REPLY_MAX_LINES);
        FUZZ_CHECK(s.rep.len < sizeof s.rep.text);
        FUZZ_CHECK(strlen(s.rep.text) <= s.rep.len);
        FUZZ_CHECK(strlen(first_line(&s, first, sizeof first)) < sizeof first);
        (void)ehlo_offers_starttls(&s.rep);
    }
    return 0;
}
