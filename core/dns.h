/* dns: the look-ups the probe and the no-downgrade checks need, with c-ares.
 *
 * Every call makes its own c-ares channel, so calls are safe from any thread,
 * and returns by deadline_ms (plat_now_ms() clock) whatever the servers do.
 * servers: "HOST[:PORT],..." (at most 8; IPv6 as [ADDR]:PORT; a name is
 * resolved through the system's resolvers, "localhost" is 127.0.0.1); NULL
 * or "" means the system's resolvers (resolv.conf, or what c-ares finds on
 * Windows). */
#ifndef TR_DNS_H
#define TR_DNS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    DNS_OK = 0,     /* answer with records of the asked type */
    DNS_NODATA,     /* the name exists, no records of that type */
    DNS_NXDOMAIN,   /* the name does not exist */
    DNS_SERVFAIL,   /* the servers failed (SERVFAIL, REFUSED...) */
    DNS_TIMEOUT,    /* no answer before the deadline */
    DNS_ERROR       /* bad input, bad answer, out of memory */
} dns_status;

#define DNS_NAME_MAX 256
#define DNS_MAX_MX 16
#define DNS_MAX_ADDRS 16
#define DNS_ADDR_MAX 46 /* INET6_ADDRSTRLEN */
#define DNS_ERR_MAX 160

/* Mail hosts of a domain, in the order to try them. ad = the answer's AD
 * bit (the resolver validated the MX RRset, or for implicit its absence,
 * with DNSSEC), which DANE needs (RFC 7672 2.2). */
typedef struct {
    dns_status status;
    int ad;
    int null_mx;  /* RFC 7505 "0 .": the domain accepts no mail */
    int implicit; /* no MX records: the domain itself is the host (RFC 5321) */
    size_t count;
    struct {
        char name[DNS_NAME_MAX];
        unsigned pref;
    } hosts[DNS_MAX_MX];
    char error[DNS_ERR_MAX];
} dns_mx_list;

/* MX in preference order, equal preferences in random order. No MX records
 * (NODATA) gives the domain itself with implicit set and status DNS_OK. */
dns_status dns_lookup_mx(const char *servers, const char *domain,
                         uint64_t deadline_ms, dns_mx_list *out);

/* IPv4 and IPv6 addresses of a host, both asked at once; IPv4 first. */
typedef struct {
    dns_status status;
    size_t count;
    char addrs[DNS_MAX_ADDRS][DNS_ADDR_MAX];
    char error[DNS_ERR_MAX];
} dns_addr_list;

dns_status dns_lookup_addrs(const char *servers, const char *host,
                            uint64_t deadline_ms, dns_addr_list *out);

/* TXT records, each record's strings joined; ad = the answer's AD bit (the
 * resolver validated it with DNSSEC). Free with dns_txt_free. */
typedef struct {
    dns_status status;
    int ad;
    size_t count;
    char **records;
    char error[DNS_ERR_MAX];
} dns_txt_list;

dns_status dns_lookup_txt(const char *servers, const char *name,
                          uint64_t deadline_ms, dns_txt_list *out);
void dns_txt_free(dns_txt_list *list);

/* TLSA records (RFC 6698) of e.g. "_25._tcp.mx.example.com". */
typedef struct {
    unsigned usage, selector, mtype;
    size_t len;
    unsigned char *data;
} dns_tlsa;

typedef struct {
    dns_status status;
    int ad;
    size_t count;
    dns_tlsa *records;
    char error[DNS_ERR_MAX];
} dns_tlsa_list;

dns_status dns_lookup_tlsa(const char *servers, const char *name,
                           uint64_t deadline_ms, dns_tlsa_list *out);
void dns_tlsa_free(dns_tlsa_list *list);

/* Check a server list's form (names are not resolved here): 0 when good,
 * else -1 with a message. */
int dns_check_servers(const char *servers, char *err, size_t errlen);

const char *dns_status_name(dns_status s);

#endif
