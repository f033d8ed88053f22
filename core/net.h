/* net: non-blocking TCP with absolute deadlines, the same on POSIX sockets
 * and Winsock. net.c implements it over the few primitives of net_sys.h
 * that net_posix.c and net_win32.c provide.
 *
 * Every call that waits takes a deadline in plat_now_ms() milliseconds and
 * never waits past it. Sockets are always non-blocking, so the handle can be
 * given to OpenSSL (SSL_set_fd) and driven with net_wait. */
#ifndef TR_NET_H
#define TR_NET_H

#include <stddef.h>
#include <stdint.h>

/* A socket: an int on POSIX, a SOCKET on Windows; both fit. */
typedef intptr_t net_fd;
#define NET_BAD_FD ((net_fd)-1)

/* Results of the calls below (negative) next to byte counts (>= 0). */
enum {
    NET_OK = 0,
    NET_ERROR = -1,   /* refused, reset, unreachable...: err says which */
    NET_TIMEOUT = -2  /* the deadline passed first */
};

/* Winsock needs WSAStartup before anything; done once per process (no-op on
 * POSIX). 0 on success. Every function below calls it itself. */
int net_init(void);

/* Connect to a numeric IPv4 or IPv6 address. On NET_OK *out is a connected
 * non-blocking socket the caller closes with net_close. */
int net_connect(const char *ip, unsigned port, uint64_t deadline_ms, net_fd *out,
                char *err, size_t errlen);

/* Send all of buf: NET_OK, NET_ERROR or NET_TIMEOUT. */
int net_send_all(net_fd fd, const void *buf, size_t len, uint64_t deadline_ms,
                 char *err, size_t errlen);

/* Receive at most cap bytes once some are there: the count (> 0), 0 when the
 * peer closed, NET_ERROR or NET_TIMEOUT. */
int net_recv(net_fd fd, void *buf, size_t cap, uint64_t deadline_ms, char *err,
             size_t errlen);

/* Wait until fd is readable (want_write 0) or writable (want_write 1):
 * NET_OK, NET_ERROR or NET_TIMEOUT. For driving OpenSSL's WANT_READ/WRITE. */
int net_wait(net_fd fd, int want_write, uint64_t deadline_ms);

/* Several sockets at once (c-ares): set want_read/want_write, get
 * readable/writable back. Returns the number of ready entries, 0 on timeout,
 * NET_ERROR on failure. timeout_ms < 0 waits forever (never used with
 * network peers). */
typedef struct {
    net_fd fd;
    int want_read, want_write;
    int readable, writable;
} net_pollfd;
int net_poll(net_pollfd *fds, size_t n, int timeout_ms);

/* Listen on a numeric loopback address (tests and benchmarks); port 0 picks a
 * free one, returned in *port_out. */
int net_listen(const char *ip, unsigned port, net_fd *out, unsigned *port_out,
               char *err, size_t errlen);
/* Accept one connection (made non-blocking) or NET_TIMEOUT. */
int net_accept(net_fd listener, uint64_t deadline_ms, net_fd *out);

/* UDP, for the tests' own DNS responder. A peer address is kept opaque. */
typedef struct {
    unsigned char raw[128];
    int len;
} net_peer;
int net_udp_open(const char *ip, unsigned port, net_fd *out, unsigned *port_out,
                 char *err, size_t errlen);
/* One datagram: its size (>= 0), NET_ERROR or NET_TIMEOUT. */
int net_udp_recv(net_fd fd, void *buf, size_t cap, uint64_t deadline_ms, net_peer *from);
int net_udp_send(net_fd fd, const void *buf, size_t len, const net_peer *to);

/* Stop both directions so a peer blocked in recv sees the end at once. */
void net_shutdown(net_fd fd);
void net_close(net_fd fd);

/* Milliseconds left until deadline_ms, 0 when passed, capped to INT_MAX. */
int net_remaining_ms(uint64_t deadline_ms);

#endif
