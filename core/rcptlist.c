/* rcptlist: parse and rebuild the IIS SMTP envelope recipient list. */
#include "rcptlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rcpt_prefix[] = "SMTP:";
#define RCPT_PREFIX_LEN (sizeof rcpt_prefix - 1)

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static int is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

static int ascii_lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

static int has_prefix_nocase(const char *s, const char *prefix, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)prefix[i]))
            return 0;
    return 1;
}

/* Characters an unquoted local part may hold (RFC 5321 atext and '.'). */
static int is_atext(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static int is_domain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
}

/* Index of the '@' that separates local part and domain: the last one
 * outside a quoted string. -1 if none. Assumes quotes are balanced. */
static long split_at(const char *addr, size_t len)
{
    long at = -1;
    int quoted = 0;
    for (size_t i = 0; i < len; i++) {
        char c = addr[i];
        if (quoted && c == '\\' && i + 1 < len)
            i++;
        else if (c == '"')
            quoted = !quoted;
        else if (!quoted && c == '@')
            at = (long)i;
    }
    return at;
}

static int check_local(const char *s, size_t len, char *err, size_t errlen)
{
    if (len == 0)
        return fail(err, errlen, "empty local part");
    if (len > RCPTLIST_MAX_LOCAL)
        return fail(err, errlen, "local part longer than %d characters", RCPTLIST_MAX_LOCAL);
    if (s[0] == '"') {
        /* A quoted string must be the whole local part. */
        size_t i = 1;
        for (; i < len && s[i] != '"'; i++)
            if (s[i] == '\\')
                i++;
        if (i != len - 1)
            return fail(err, errlen, "text after the quoted local part");
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        if (!is_atext(s[i]))
            return fail(err, errlen, "character '%c' not allowed in an unquoted local part", s[i]);
    return 0;
}

static int check_domain(const char *s, size_t len, char *err, size_t errlen)
{
    if (len == 0)
        return fail(err, errlen, "empty domain");
    if (len > RCPTLIST_MAX_DOMAIN)
        return fail(err, errlen, "domain longer than %d characters", RCPTLIST_MAX_DOMAIN);
    if (s[0] == '[') {
        /* Address literal: [192.0.2.1] or [IPv6:...]; the router treats it as
         * an opaque domain, we only make sure it is one bracketed token. */
        if (s[len - 1] != ']' || len < 3)
            return fail(err, errlen, "unterminated address literal");
        for (size_t i = 1; i + 1 < len; i++)
            if (!is_domain_char(s[i]) && s[i] != ':')
                return fail(err, errlen, "character '%c' not allowed in an address literal", s[i]);
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        if (!is_domain_char(s[i]))
            return fail(err, errlen, "character '%c' not allowed in a domain", s[i]);
    return 0;
}

/* One address (no prefix, no separator). Bytes outside printable ASCII are
 * refused anywhere; IIS itself only hands over 7-bit addresses. */
static int check_address(const char *addr, size_t len, char *err, size_t errlen)
{
    int quoted = 0;
    long at;
    if (len == 0)
        return fail(err, errlen, "empty address");
    if (len > RCPTLIST_MAX_ADDR)
        return fail(err, errlen, "address longer than %d characters", RCPTLIST_MAX_ADDR);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (is_ctl(c) || c >= 0x80)
            return fail(err, errlen, "control or non-ASCII byte 0x%02x", c);
        if (quoted && c == '\\' && i + 1 < len)
            i++;
        else if (c == '"')
            quoted = !quoted;
        else if (!quoted && (c == ';' || c == ' '))
            return fail(err, errlen, "'%c' outside quotes", c);
    }
    if (quoted)
        return fail(err, errlen, "unterminated quoted local part");
    at = split_at(addr, len);
    if (at < 0)
        return fail(err, errlen, "no '@'");
    if (check_local(addr, (size_t)at, err, errlen) != 0)
        return -1;
    return check_domain(addr + at + 1, len - (size_t)at - 1, err, errlen);
}

/* Length of the address starting at s: up to the first ';' outside quotes
 * or the end of the text. *unterminated is set for a quote left open. */
static size_t address_span(const char *s, int *unterminated)
{
    int quoted = 0;
    size_t i = 0;
    for (; s[i] != '\0'; i++) {
        if (quoted && s[i] == '\\' && s[i + 1] != '\0')
            i++;
        else if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && s[i] == ';')
            break;
    }
    *unterminated = quoted;
    return i;
}

static int append_address(rcptlist *list, size_t *cap, const char *addr, size_t len)
{
    char *copy;
    if (list->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char **grown;
        if (ncap > RCPTLIST_MAX_RECIPIENTS)
            ncap = RCPTLIST_MAX_RECIPIENTS;
        grown = realloc(list->addrs, ncap * sizeof *grown);
        if (!grown)
            return -1;
        list->addrs = grown;
        *cap = ncap;
    }
    copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, addr, len);
    copy[len] = '\0';
    list->addrs[list->n++] = copy;
    return 0;
}

static int parse_entries(const char *text, rcptlist *out, char *err, size_t errlen)
{
    size_t cap = 0, entry = 0;
    const char *p = text;
    char why[128];

    while (*p) {
        const char *addr;
        size_t len;
        int open_quote;

        while (is_blank(*p))
            p++;
        if (*p == ';') { /* empty entry */
            p++;
            continue;
        }
        if (*p == '\0')
            break;
        entry++;
        if (!has_prefix_nocase(p, rcpt_prefix, RCPT_PREFIX_LEN))
            return fail(err, errlen, "recipient list entry %zu: expected \"SMTP:\" prefix", entry);
        addr = p + RCPT_PREFIX_LEN;
        len = address_span(addr, &open_quote);
        p = addr + len + (addr[len] == ';');
        if (open_quote)
            return fail(err, errlen, "recipient list entry %zu: unterminated quoted local part", entry);
        while (len > 0 && is_blank(addr[len - 1]))
            len--;
        if (check_address(addr, len, why, sizeof why) != 0)
            return fail(err, errlen, "recipient list entry %zu: %s", entry, why);
        if (out->n >= RCPTLIST_MAX_RECIPIENTS)
            return fail(err, errlen, "recipient list has more than %d recipients",
                        RCPTLIST_MAX_RECIPIENTS);
        if (append_address(out, &cap, addr, len) != 0)
            return fail(err, errlen, "out of memory reading the recipient list");
    }
    return 0;
}

int rcptlist_parse(const char *text, rcptlist *out, char *err, size_t errlen)
{
    out->addrs = NULL;
    out->n = 0;
    if (!text)
        return fail(err, errlen, "recipient list is missing");
    if (strlen(text) > RCPTLIST_MAX_TEXT)
        return fail(err, errlen, "recipient list longer than %u bytes", RCPTLIST_MAX_TEXT);
    if (parse_entries(text, out, err, errlen) != 0) {
        rcptlist_free(out);
        return -1;
    }
    return 0;
}

void rcptlist_free(rcptlist *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        free(list->addrs[i]);
    free(list->addrs);
    list->addrs = NULL;
    list->n = 0;
}

char *rcptlist_format(const char *const *addrs, size_t n)
{
    size_t total = 1;
    char *out, *w;
    if (n > RCPTLIST_MAX_RECIPIENTS)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if (!addrs[i])
            return NULL;
        len = strlen(addrs[i]);
        if (check_address(addrs[i], len, NULL, 0) != 0)
            return NULL;
        total += RCPT_PREFIX_LEN + len + 1;
    }
    out = malloc(total);
    if (!out)
        return NULL;
    w = out;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(addrs[i]);
        memcpy(w, rcpt_prefix, RCPT_PREFIX_LEN);
        w += RCPT_PREFIX_LEN;
        memcpy(w, addrs[i], len);
        w += len;
        *w++ = ';';
    }
    *w = '\0';
    return out;
}

const char *rcptlist_domain(const char *addr)
{
    long at = split_at(addr, strlen(addr));
    return at < 0 ? addr + strlen(addr) : addr + at + 1;
}
