/* domset: a set of domain patterns (one of a rule's lists) compiled for
 * lookup in time independent of the list's length. Patterns arrive
 * normalised (lower case, no trailing dot): "example.com" matches that
 * domain only, "*.example.com" any subdomain of it but not the domain. */
#ifndef TR_DOMSET_H
#define TR_DOMSET_H

#include <stddef.h>

typedef struct domset domset;

domset *domset_new(void);
void domset_free(domset *s);
/* 0 on success, -1 when out of memory or the pattern is empty. */
int domset_add(domset *s, const char *pattern);
size_t domset_count(const domset *s);
/* 1 when a normalised domain matches any pattern of the set. */
int domset_matches(const domset *s, const char *domain);

#endif
