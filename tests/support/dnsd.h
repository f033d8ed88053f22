/* dnsd: the tests' own DNS server. UDP on 127.0.0.1 (a free port), in a
 * thread, answering from a table: MX, A, AAAA, TXT, TLSA; NXDOMAIN for
 * unknown names; per-name SERVFAIL, silence (for timeouts) and AD bit. */
#ifndef TR_DNSD_H
#define TR_DNSD_H

#include <stddef.h>

typedef struct dnsd dnsd;

/* NULL when the socket or thread could not be made. */
dnsd *dnsd_start(void);
void dnsd_stop(dnsd *d);
unsigned dnsd_port(const dnsd *d);
/* "127.0.0.1:PORT", for the probe's and the CLI's --dns. */
const char *dnsd_server(const dnsd *d);
unsigned dnsd_query_count(dnsd *d);
/* Queries for one name, any type, answered or not (the first 256 names
 * asked are counted). */
unsigned dnsd_name_queries(dnsd *d, const char *name);

/* host "" is the root: a null MX is dnsd_add_mx(d, name, 0, ""). */
void dnsd_add_mx(dnsd *d, const char *name, unsigned pref, const char *host);
void dnsd_add_a(dnsd *d, const char *name, unsigned char a, unsigned char b,
                unsigned char c, unsigned char e);
void dnsd_add_aaaa(dnsd *d, const char *name, const unsigned char addr[16]);
/* A mail domain on this machine: one MX record, preference 10, naming
 * mx.<domain>, whose A record is 127.0.0.1 (where the tests' SMTP peers
 * listen). */
void dnsd_add_domain(dnsd *d, const char *domain);
void dnsd_add_txt(dnsd *d, const char *name, const char *text);
void dnsd_add_tlsa(dnsd *d, const char *name, unsigned usage, unsigned selector,
                   unsigned mtype, const unsigned char *data, size_t len);
/* Answer every query for name with this response code (2 SERVFAIL...). */
void dnsd_set_rcode(dnsd *d, const char *name, unsigned rcode);
/* Never answer queries for name. */
void dnsd_set_silent(dnsd *d, const char *name);
/* Set the AD bit in answers for name. */
void dnsd_set_ad(dnsd *d, const char *name);

#endif
