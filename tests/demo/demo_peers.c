/* demo_peers: the local world of the README's routing demo. A DNS server on
 * 127.0.0.1 and three SMTP servers sharing one port on three loopback
 * addresses, the way MX hosts share port 25:
 *   secure.demo    -> 127.0.0.2  STARTTLS with a valid certificate
 *   plaintext.demo -> 127.0.0.3  no STARTTLS
 *   expired.demo   -> 127.0.0.4  STARTTLS with an expired certificate
 * Prints "DNS PORT" on one line, then serves until its stdin closes or the
 * time limit (argument, seconds; default 300) passes. Loopback only. */
#include <stdio.h>
#include <stdlib.h>

#include "dnsd.h"
#include "net.h"
#include "peer.h"
#include "plat.h"

typedef struct {
    const char *domain, *mx, *ip;
    unsigned char last_octet;
    peer_kind kind;
} demo_host;

static const demo_host demo_hosts[] = {
    { "secure.demo", "mx.secure.demo", "127.0.0.2", 2, PEER_STARTTLS },
    { "plaintext.demo", "mx.plaintext.demo", "127.0.0.3", 3, PEER_NO_STARTTLS },
    { "expired.demo", "mx.expired.demo", "127.0.0.4", 4, PEER_EXPIRED },
};
#define DEMO_HOSTS (sizeof demo_hosts / sizeof demo_hosts[0])

/* A port free on the first address; the others are idle loopback too. */
static unsigned pick_port(void)
{
    net_fd fd;
    unsigned port = 0;
    char err[128];
    if (net_listen(demo_hosts[0].ip, 0, &fd, &port, err, sizeof err) != NET_OK)
        return 0;
    net_close(fd);
    return port;
}

static volatile int stdin_closed;

static void watch_stdin(void *arg)
{
    (void)arg;
    while (getchar() != EOF) {
    }
    stdin_closed = 1;
}

int main(int argc, char **argv)
{
    long limit_s = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
    peer *peers[DEMO_HOSTS] = { NULL };
    dnsd *dns = dnsd_start();
    unsigned port = pick_port();
    int ok = dns && port && limit_s > 0 && limit_s <= 3600;
    for (size_t i = 0; ok && i < DEMO_HOSTS; i++) {
        const demo_host *h = &demo_hosts[i];
        peers[i] = peer_start_at(h->ip, port, h->kind, NULL);
        ok = peers[i] != NULL;
        dnsd_add_mx(dns, h->domain, 10, h->mx);
        dnsd_add_a(dns, h->mx, 127, 0, 0, h->last_octet);
    }
    if (!ok) {
        fprintf(stderr, "demo_peers: cannot start the DNS server and SMTP peers on loopback\n");
    } else {
        printf("%s %u\n", dnsd_server(dns), port);
        fflush(stdout);
        plat_thread *watcher = plat_thread_start(watch_stdin, NULL);
        uint64_t deadline = plat_now_ms() + (uint64_t)limit_s * 1000u;
        while (!stdin_closed && plat_now_ms() < deadline)
            plat_sleep_ms(100);
        if (stdin_closed)
            plat_thread_join(watcher);
        /* else it is still blocked in getchar and ends with the process */
    }
    for (size_t i = 0; i < DEMO_HOSTS; i++)
        peer_stop(peers[i]);
    dnsd_stop(dns);
    return ok ? 0 : 1;
}
