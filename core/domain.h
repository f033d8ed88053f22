/* domain: mail domain names and the patterns of the per-rule lists.
 *
 * A pattern is either a domain ("example.com": that domain only) or a
 * wildcard ("*.example.com": any subdomain, not example.com itself).
 * Normalised form: lower case, no trailing dot, ASCII letters, digits and
 * hyphens (internationalised names in punycode, xn--), labels of 1-63
 * characters, at most 253 characters in all. Everything else is refused
 * with a reason meant for the administrator. */
#ifndef TR_DOMAIN_H
#define TR_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#define DOMAIN_MAX 253
/* Room for a normalised domain or pattern and its NUL. */
#define DOMAIN_BUF (DOMAIN_MAX + 3)

/* Normalise the domain in into out (DOMAIN_BUF bytes). 0 on success; -1 with
 * *reason set to a static sentence when the name is not acceptable. */
int domain_normalize(const char *in, char out[DOMAIN_BUF], const char **reason);

/* The same for a list pattern: a domain, or "*." and a domain. */
int domain_pattern_normalize(const char *in, char out[DOMAIN_BUF], const char **reason);

/* Why the normalised pattern may not go on a force-plain list, or NULL:
 * one that covers a whole top-level domain ("com", "*.com": any name
 * without a dot) would send the mail of every domain under it plain. The
 * never-redirect list takes such patterns (they keep mail on TLS). */
const char *domain_force_plain_problem(const char *pattern);

/* Does the normalised pattern match the normalised domain? No allocation,
 * no case folding: both sides are already normalised. */
bool domain_pattern_matches(const char *pattern, const char *domain);

/* Where a multi-line pattern list went wrong: 1-based line number and the
 * reason; line 0 when the list was fine. */
typedef struct {
    size_t line;
    const char *reason;
} domain_list_error;

/* Parse a list with one pattern per line; blank lines are skipped, spaces,
 * tabs and CR around a pattern are ignored. Returns the number of patterns,
 * or -1 with *err naming the first bad line (or -1 with err->line 0 when
 * memory ran out). With patterns non-NULL, *patterns receives a malloc'd
 * array of normalised patterns (free with domain_list_free). */
long domain_list_parse(const char *text, char ***patterns, domain_list_error *err);
/* The same for a force-plain list: a line domain_force_plain_problem
 * refuses is a bad line too. */
long domain_force_plain_list_parse(const char *text, char ***patterns, domain_list_error *err);
void domain_list_free(char **patterns, long count);

#endif
