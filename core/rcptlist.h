/* rcptlist: the envelope recipient list of IIS SMTP, as the sink sees it in
 * the "recipientlist" envelope field: "SMTP:a@x.example;SMTP:b@y.example;".
 * Parsing is strict because a list we misread must never be rewritten: any
 * doubt is an error, and the sink then leaves the message as it is. */
#ifndef TR_RCPTLIST_H
#define TR_RCPTLIST_H

#include <stddef.h>

/* Bounds: RFC 5321 sizes for one address, and a ceiling on the list so a
 * hostile or broken field cannot make the sink allocate without limit. */
#define RCPTLIST_MAX_LOCAL 64
#define RCPTLIST_MAX_DOMAIN 255
#define RCPTLIST_MAX_ADDR (RCPTLIST_MAX_LOCAL + 1 + RCPTLIST_MAX_DOMAIN)
#define RCPTLIST_MAX_RECIPIENTS 10000
#define RCPTLIST_MAX_TEXT (4u * 1024u * 1024u)

typedef struct {
    char **addrs; /* addresses without the "SMTP:" prefix, in list order */
    size_t n;
} rcptlist;

/* Parse text into out. Entries are "SMTP:" (any case) and one address, each
 * ended by ';' (the last ';' may be missing); empty entries and blanks around
 * entries are skipped. Quoted local parts may hold ';' and '@'. Returns 0, or
 * -1 with a one-line reason in err and out left empty. */
int rcptlist_parse(const char *text, rcptlist *out, char *err, size_t errlen);

void rcptlist_free(rcptlist *list);

/* The list text for addrs[0..n-1] in the form IIS writes it ("SMTP:a;SMTP:b;"),
 * malloc'd; "" for n == 0. NULL when out of memory or an address is unusable
 * (empty, too long, or holding a byte that would change the list's meaning). */
char *rcptlist_format(const char *const *addrs, size_t n);

/* The domain part of a parsed address (after the last '@' outside quotes). */
const char *rcptlist_domain(const char *addr);

#endif
