/* Fuzz the pickup writer's rendering (pickup_render: the bytes
 * pickup_write puts on disk): envelope header injection, dot-stuffing and
 * line ends. Input: byte 0 picks 1-4 recipients, then sender, recipients
 * and message separated by NUL bytes (so addresses may hold CR and LF). */
#include "fuzz.h"

#include "pickup.h"

enum { MAX_RCPTS = 4 };

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

/* The header is exactly one x-sender line and one x-receiver per recipient. */
static size_t check_header(const uint8_t *out, size_t len, const char *sender,
                           const char *const *rcpts, size_t n)
{
    char line[PICKUP_ADDRESS_MAX + 32];
    size_t pos = 0, l;
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
    return pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *rcpts[MAX_RCPTS], *sender;
    size_t n, pos = 1, head;
    unsigned char *out = NULL;
    size_t out_len = 0;
    char err[256];
    pickup_job job;
    if (size < 1)
        return 0;
    n = (size_t)(data[0] % MAX_RCPTS) + 1;
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
    if (pickup_render(&job, &out, &out_len, err, sizeof err) != 0) {
        FUZZ_CHECK(out == NULL && err[0] != '\0');
        return 0;
    }
    /* Accepted addresses never carry a line break into the header. */
    FUZZ_CHECK(!strpbrk(sender, "\r\n"));
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(!strpbrk(rcpts[i], "\r\n") && rcpts[i][0] != '\0');
    head = check_header(out, out_len, sender, rcpts, n);
    check_body(out + head, out_len - head, job.message, job.message_len);
    free(out);
    return 0;
}
