/* hostile: peers that attack the prober, for the tests (issue 8 item 5).
 * Each runs on 127.0.0.1 in its own thread, one connection at a time, and
 * stops promptly when asked whatever the client does. */
#ifndef TR_HOSTILE_H
#define TR_HOSTILE_H

#include <stddef.h>

typedef enum {
    HOSTILE_SMTP_DRIP,        /* the greeting one byte a second */
    HOSTILE_SMTP_FLOOD,       /* answers EHLO with 10 MB of "250-" lines */
    HOSTILE_SMTP_TLS_GARBAGE  /* accepts STARTTLS, then sends bytes that are not TLS */
} hostile_smtp_kind;

typedef struct hostile hostile;

hostile *hostile_smtp_start(hostile_smtp_kind kind);

/* A DNS server (UDP and TCP on one port) that answers every MX question
 * with 1,000 MX records, every A question with 127.0.0.1, and anything
 * else with no data. UDP answers are truncated (TC), so the resolver has
 * to take the whole answer over TCP. */
hostile *hostile_dns_start(void);

void hostile_stop(hostile *h);
unsigned hostile_port(const hostile *h);
/* "127.0.0.1:PORT" for a DNS server. */
const char *hostile_server(const hostile *h);
/* Bytes the peer managed to send (the client's reading bound shows here). */
size_t hostile_bytes_sent(hostile *h);

#define HOSTILE_MX_COUNT 1000
#define HOSTILE_FLOOD_BYTES (10u * 1024u * 1024u)

#endif
