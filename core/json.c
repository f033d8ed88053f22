/* json: streaming writer with escaping. */
#include "json.h"

#include <inttypes.h>
#include <string.h>

void json_init(json_writer *w, FILE *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

/* Separate a value from the previous one, unless it follows its key. */
static void before_value(json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        fputc(',', w->out);
    w->need_comma[w->depth] = true;
}

static void open_container(json_writer *w, char c)
{
    before_value(w);
    fputc(c, w->out);
    if (w->depth < JSON_MAX_DEPTH)
        w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_container(json_writer *w, char c)
{
    fputc(c, w->out);
    if (w->depth > 0)
        w->depth--;
    if (w->depth == 0)
        fputc('\n', w->out);
}

void json_object_begin(json_writer *w) { open_container(w, '{'); }
void json_object_end(json_writer *w) { close_container(w, '}'); }
void json_array_begin(json_writer *w) { open_container(w, '['); }
void json_array_end(json_writer *w) { close_container(w, ']'); }

void json_key(json_writer *w, const char *key)
{
    before_value(w);
    json_write_escaped(w->out, key);
    fputc(':', w->out);
    w->after_key = true;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one.
 * Overlong forms and surrogates are refused as RFC 3629 says. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n;
    uint32_t cp;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = p[0] & 0x1fu;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = p[0] & 0x0fu;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void json_write_escaped(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", out);
            p++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, out);
        } else if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p, out);
        } else if (*p == '\n') {
            fputs("\\n", out);
        } else if (*p == '\r') {
            fputs("\\r", out);
        } else if (*p == '\t') {
            fputs("\\t", out);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
        p += n;
    }
    fputc('"', out);
}

void json_string(json_writer *w, const char *s)
{
    if (!s) {
        json_null(w);
        return;
    }
    before_value(w);
    json_write_escaped(w->out, s);
}

void json_int(json_writer *w, int64_t v)
{
    before_value(w);
    fprintf(w->out, "%" PRId64, v);
}

void json_fixed(json_writer *w, int64_t v, unsigned decimals)
{
    uint64_t scale = 1, mag;
    if (decimals > 9)
        decimals = 9;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    before_value(w);
    mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (decimals == 0)
        fprintf(w->out, "%s%" PRIu64, v < 0 ? "-" : "", mag);
    else
        fprintf(w->out, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / scale, (int)decimals,
                mag % scale);
}

void json_bool(json_writer *w, bool v)
{
    before_value(w);
    fputs(v ? "true" : "false", w->out);
}

void json_null(json_writer *w)
{
    before_value(w);
    fputs("null", w->out);
}
