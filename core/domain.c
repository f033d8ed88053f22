/* domain: validation, normalisation and matching of domains and patterns. */
#include "domain.h"

#include <stdlib.h>
#include <string.h>

enum { LABEL_MAX = 63 };

static bool is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Check one label of an already lower-cased name. */
static const char *label_problem(const char *label, size_t len)
{
    if (len == 0)
        return "empty label";
    if (len > LABEL_MAX)
        return "label longer than 63 characters";
    if (len == 4 && memcmp(label, "xn--", 4) == 0)
        return "empty punycode label 'xn--'";
    if (label[0] == '-' || label[len - 1] == '-')
        return "label starts or ends with a hyphen";
    return NULL;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Copy in lower-cased to out without one trailing dot; reject characters
 * that can never appear in a name. */
static const char *copy_lower(const char *in, char out[DOMAIN_BUF], size_t *outlen)
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x80)
            return "non-ASCII character (use punycode xn--...)";
        if (c == '*')
            return "wildcard only allowed as the whole first label '*.'";
        if (c != '.' && !is_ldh(lower((char)c)))
            return "invalid character (only letters, digits, hyphens and dots)";
        if (n > DOMAIN_MAX)
            return "name longer than 253 characters";
        out[n++] = lower((char)c);
    }
    if (n > 0 && out[n - 1] == '.')
        n--;
    if (n == 0)
        return "empty name";
    if (n > DOMAIN_MAX)
        return "name longer than 253 characters";
    out[n] = '\0';
    *outlen = n;
    return NULL;
}

static const char *check_labels(const char *name, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            const char *why = label_problem(name + start, i - start);
            if (why)
                return why;
            if (i == len && all_digits(name + start, i - start))
                return "last label is numeric (an IP address is not a domain)";
            start = i + 1;
        }
    }
    return NULL;
}

int domain_normalize(const char *in, char out[DOMAIN_BUF], const char **reason)
{
    size_t len = 0;
    const char *why = in ? copy_lower(in, out, &len) : "empty name";
    if (!why)
        why = check_labels(out, len);
    if (why) {
        out[0] = '\0';
        if (reason)
            *reason = why;
        return -1;
    }
    return 0;
}

int domain_pattern_normalize(const char *in, char out[DOMAIN_BUF], const char **reason)
{
    if (!in || in[0] != '*')
        return domain_normalize(in, out, reason);
    const char *why = NULL;
    if (in[1] == '\0' || (in[1] == '.' && (in[2] == '\0' || strcmp(in + 2, ".") == 0)))
        why = "wildcard needs a domain after '*.'";
    else if (in[1] != '.')
        why = "wildcard only allowed as the whole first label '*.'";
    if (why) {
        out[0] = '\0';
        if (reason)
            *reason = why;
        return -1;
    }
    /* The part after "*." is a domain; with the wildcard label it must
     * still fit in 253 characters. */
    char rest[DOMAIN_BUF];
    if (domain_normalize(in + 2, rest, reason) != 0) {
        out[0] = '\0';
        return -1;
    }
    size_t len = strlen(rest);
    if (len > DOMAIN_MAX - 2) {
        out[0] = '\0';
        if (reason)
            *reason = "name longer than 253 characters";
        return -1;
    }
    out[0] = '*';
    out[1] = '.';
    memcpy(out + 2, rest, len + 1);
    return 0;
}

/* Second-level labels that country registries sell names under ("co.uk",
 * "com.au", "gov.br"). Not the whole Public Suffix List: the common
 * registry suffixes, which a careless force-plain entry would cover. */
static const char *const registry_labels[] = {
    "ac", "biz", "co", "com", "edu", "gen", "go", "gob", "gouv", "gov", "info", "int",
    "ltd", "mil", "ne", "net", "nhs", "nic", "nom", "or", "org", "plc", "sch",
};

/* "co.uk": a registry label, a dot, a two-letter country code, no more. */
static bool is_country_registry_suffix(const char *name)
{
    const char *dot = strchr(name, '.');
    if (!dot || strchr(dot + 1, '.') || strlen(dot + 1) != 2)
        return false;
    size_t label = (size_t)(dot - name);
    for (size_t i = 0; i < sizeof registry_labels / sizeof registry_labels[0]; i++)
        if (strlen(registry_labels[i]) == label && memcmp(registry_labels[i], name, label) == 0)
            return true;
    return false;
}

const char *domain_force_plain_problem(const char *pattern)
{
    const char *name = pattern[0] == '*' ? pattern + 2 : pattern;
    if (!strchr(name, '.'))
        return "a force-plain pattern may not cover a whole top-level domain: the mail of "
               "every domain under it would lose TLS";
    if (is_country_registry_suffix(name))
        return "a force-plain pattern may not cover a whole registry suffix such as co.uk: "
               "the mail of every domain under it would lose TLS";
    return NULL;
}

bool domain_pattern_matches(const char *pattern, const char *domain)
{
    if (pattern[0] != '*')
        return strcmp(pattern, domain) == 0;
    /* "*.example.com": the domain must end in ".example.com" and have at
     * least one character before that dot. */
    size_t suffix = strlen(pattern + 1);
    size_t dlen = strlen(domain);
    return dlen > suffix && memcmp(domain + dlen - suffix, pattern + 1, suffix) == 0;
}

void domain_list_free(char **patterns, long count)
{
    if (!patterns)
        return;
    for (long i = 0; i < count; i++)
        free(patterns[i]);
    free(patterns);
}

static int push_pattern(char ***list, long *count, long *cap, const char *p)
{
    if (*count == *cap) {
        long ncap = *cap ? *cap * 2 : 16;
        char **grown = realloc(*list, (size_t)ncap * sizeof **list);
        if (!grown)
            return -1;
        *list = grown;
        *cap = ncap;
    }
    size_t len = strlen(p) + 1;
    char *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, p, len);
    (*list)[(*count)++] = copy;
    return 0;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static long parse_list(const char *text, char ***patterns, domain_list_error *err,
                       bool force_plain)
{
    char **list = NULL;
    long count = 0, cap = 0;
    size_t line = 0;
    err->line = 0;
    err->reason = NULL;
    if (patterns)
        *patterns = NULL;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);
        const char *next = eol ? eol + 1 : end;
        line++;
        while (p < end && is_blank(*p))
            p++;
        while (end > p && is_blank(end[-1]))
            end--;
        if (p < end) {
            char raw[DOMAIN_BUF + 1], norm[DOMAIN_BUF];
            size_t len = (size_t)(end - p);
            const char *why = NULL;
            if (len > DOMAIN_BUF) {
                why = "name longer than 253 characters";
            } else {
                memcpy(raw, p, len);
                raw[len] = '\0';
                if (domain_pattern_normalize(raw, norm, &why) == 0 && force_plain)
                    why = domain_force_plain_problem(norm);
            }
            if (why) {
                err->line = line;
                err->reason = why;
                domain_list_free(list, count);
                return -1;
            }
            if (patterns && push_pattern(&list, &count, &cap, norm) != 0) {
                domain_list_free(list, count);
                err->reason = "out of memory";
                return -1;
            }
            if (!patterns)
                count++;
        }
        p = next;
    }
    if (patterns)
        *patterns = list;
    return count;
}

long domain_list_parse(const char *text, char ***patterns, domain_list_error *err)
{
    return parse_list(text, patterns, err, false);
}

long domain_force_plain_list_parse(const char *text, char ***patterns, domain_list_error *err)
{
    return parse_list(text, patterns, err, true);
}
