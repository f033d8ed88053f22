/* Fuzz the pickup writer's rendering (pickup_render: the bytes
 * pickup_write puts on disk): envelope header injection, the envelope
 * block ending exactly where ours does (IIS's reading of the file gives
 * our sender and recipients, nobody else), our trace line right after it
 * and found again by pickup_has_trace, dot-stuffing and line ends. Input:
 * byte 0 picks 1-4 recipients and the source virtual server, then sender,
 * recipients and message separated by NUL bytes (so addresses may hold CR
 * and LF). */
#include "fuzz.h"

#include "pickup.h"

enum { MAX_RCPTS = 4 };

#define FUZZ_TRACE_HOST "relay.fuzz.example"
#define FUZZ_TRACE_TIME_MS INT64_C(1136239445000)

/* Next NUL-terminated field of the input; NULL when there is none. */
static const char *next_field(const uint8_t *data, size_t size, size_t *pos)
{
    const uint8_t *nul;
    const char *field;
    if (*pos >= size)
        return NULL;
    nul = memchr(data + *pos, 0, size - *pos);
    if (!nul)
        return NULL;
    field = (const char *)data + *pos;
    *pos = (size_t)(nul - data) + 1;
    return field;
}

/* The message as the file must carry it: bare LF made CRLF, and a final
 * CRLF when the message does not end a line. */
static size_t normalise(const uint8_t *m, size_t len, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
            out[o++] = '\r';
        out[o++] = m[i];
    }
    if (len > 0 && m[len - 1] != '\n') {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    return o;
}

static void check_body(const uint8_t *body, size_t len, const uint8_t *msg, size_t msg_len)
{
    uint8_t *want = malloc(2 * msg_len + 3), *got = malloc(len + 1);
    size_t nw, ng = 0;
    int line_start = 1;
    FUZZ_CHECK(want && got);
    for (size_t i = 0; i < len; i++) {
        if (body[i] == '\n')
            FUZZ_CHECK(i > 0 && body[i - 1] == '\r');
        /* A line that starts with '.' was stuffed: drop one dot. */
        if (line_start && body[i] == '.') {
            FUZZ_CHECK(i + 1 < len && body[i + 1] == '.');
            i++;
        }
        got[ng++] = body[i];
        line_start = body[i] == '\n';
    }
    nw = normalise(msg, msg_len, want);
    FUZZ_CHECK(ng == nw && memcmp(got, want, nw) == 0);
    free(want);
    free(got);
}

static int starts_nocase(const uint8_t *p, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = p[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != prefix[i])
            return 0;
    }
    return 1;
}

/* Where IIS's envelope ends: it takes the leading lines that start with
 * "x-sender:" or "x-receiver:", in any case, as the envelope. Returns the
 * number of such lines and their length in *end. */
static size_t iis_envelope(const uint8_t *out, size_t len, size_t *end)
{
    size_t pos = 0, lines = 0;
    while (starts_nocase(out + pos, len - pos, "x-sender:") ||
           starts_nocase(out + pos, len - pos, "x-receiver:")) {
        const uint8_t *nl = memchr(out + pos, '\n', len - pos);
        FUZZ_CHECK(nl != NULL);
        pos = (size_t)(nl - out) + 1;
        lines++;
    }
    *end = pos;
    return lines;
}

/* The envelope is exactly one x-sender line and one x-receiver per
 * recipient, IIS reads exactly those, and our trace line comes right
 * after them. Returns where the message starts. */
static size_t check_header(const uint8_t *out, size_t len, const char *sender,
                           const char *const *rcpts, size_t n, int instance)
{
    char line[PICKUP_ADDRESS_MAX + 32], trace[PICKUP_TRACE_LINE_MAX];
    size_t pos = 0, l, envelope_end;
    snprintf(line, sizeof line, "x-sender: %s\r\n", *sender ? sender : "<>");
    l = strlen(line);
    FUZZ_CHECK(len >= l && memcmp(out, line, l) == 0);
    pos = l;
    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof line, "x-receiver: %s\r\n", rcpts[i]);
        l = strlen(line);
        FUZZ_CHECK(len - pos >= l && memcmp(out + pos, line, l) == 0);
        pos += l;
    }
    FUZZ_CHECK(iis_envelope(out, len, &envelope_end) == 1 + n);
    FUZZ_CHECK(envelope_end == pos);
    l = pickup_trace_line(FUZZ_TRACE_HOST, instance, FUZZ_TRACE_TIME_MS, trace, sizeof trace);
    FUZZ_CHECK(l > 0 && len - pos >= l && memcmp(out + pos, trace, l) == 0);
    /* The message part, as the Plain server sends it on, carries our trace. */
    FUZZ_CHECK(pickup_has_trace(out + pos, len - pos, FUZZ_TRACE_HOST, instance) == 1);
    return pos + l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *rcpts[MAX_RCPTS], *sender;
    size_t n, pos = 1, head;
    unsigned char *out = NULL;
    size_t out_len = 0;
    char err[256];
    pickup_job job;
    int instance;
    if (size < 1)
        return 0;
    n = (size_t)(data[0] % MAX_RCPTS) + 1;
    instance = data[0] / MAX_RCPTS + 1;
    if (!(sender = next_field(data, size, &pos)))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(rcpts[i] = next_field(data, size, &pos)))
            return 0;
    memset(&job, 0, sizeof job);
    job.pickup_dir = "unused";
    job.sender = sender;
    job.recipients = rcpts;
    job.n_recipients = n;
    job.message = data + pos;
    job.message_len = size - pos;
    job.trace_host = FUZZ_TRACE_HOST;
    job.source_instance = instance;
    job.trace_time_ms = FUZZ_TRACE_TIME_MS;
    if (pickup_render(&job, &out, &out_len, err, sizeof err) != 0) {
        FUZZ_CHECK(out == NULL && err[0] != '\0');
        return 0;
    }
    /* Accepted addresses never carry a line break into the header. */
    FUZZ_CHECK(!strpbrk(sender, "\r\n"));
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(!strpbrk(rcpts[i], "\r\n") && rcpts[i][0] != '\0');
    head = check_header(out, out_len, sender, rcpts, n, instance);
    check_body(out + head, out_len - head, job.message, job.message_len);
    free(out);
    return 0;
}
