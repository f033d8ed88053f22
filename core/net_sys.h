/* net_sys: the few socket calls that differ between BSD sockets and Winsock.
 * Private to net.c; net_posix.c and net_win32.c implement it. Everything
 * above these primitives (deadlines, retry loops, error text) is in net.c.
 *
 * Addresses travel as net_peer (a sockaddr kept opaque), sockets as net_fd.
 * Calls that can fail give the OS error code (errno or WSAGetLastError) in
 * *code, for netsys_describe. */
#ifndef TR_NET_SYS_H
#define TR_NET_SYS_H

#include <stddef.h>

#include "net.h"

/* Beyond NET_OK / NET_ERROR: the call would block (or was interrupted);
 * wait for readiness and try again. */
#define NETSYS_AGAIN (-3)
/* The call reported an error left over from an earlier datagram that says
 * nothing about this one; try again at once. */
#define NETSYS_STALE (-4)

/* How many sockets netsys_poll takes at once. */
#define NETSYS_POLL_MAX 64

enum { NETSYS_STREAM, NETSYS_DGRAM };

/* Process-wide start-up, run once by net_init: 0 on success. */
int netsys_startup(void);

/* The OS's text for an error code, for messages "what: text". */
void netsys_describe(int code, char *text, size_t cap);

/* Fill *addr from a numeric IPv4 or IPv6 address and port (<= 65535). */
int netsys_make_addr(const char *ip, unsigned port, net_peer *addr);

/* A non-blocking socket of addr's family that child processes do not
 * inherit. On NET_ERROR *what names the call that failed. */
int netsys_socket(const net_peer *addr, int kind, net_fd *out, const char **what,
                  int *code);
void netsys_no_delay(net_fd fd);
/* Bind to addr, listen too when listening, and give the port bound. */
int netsys_bind(net_fd fd, const net_peer *addr, int listening, unsigned *port,
                int *code);

/* Start a connect: NET_OK, NETSYS_AGAIN (in progress) or NET_ERROR. */
int netsys_connect(net_fd fd, const net_peer *addr, int *code);
/* Wait until a started connect completes: NET_OK, NET_TIMEOUT or NET_ERROR
 * with *code the reason (0 when the wait itself failed). */
int netsys_wait_connected(net_fd fd, uint64_t deadline_ms, int *code);
/* One connection, already non-blocking: NET_OK, NETSYS_AGAIN or NET_ERROR. */
int netsys_accept(net_fd listener, net_fd *out, int *code);

/* One call each: a byte count (>= 0), NETSYS_AGAIN, NETSYS_STALE or
 * NET_ERROR. Lengths are capped to what one call takes. */
int netsys_send(net_fd fd, const void *buf, size_t len, int *code);
int netsys_recv(net_fd fd, void *buf, size_t cap, int *code);
int netsys_recvfrom(net_fd fd, void *buf, size_t cap, net_peer *from);
int netsys_sendto(net_fd fd, const void *buf, size_t len, const net_peer *to);

/* poll(2) over at most NETSYS_POLL_MAX sockets: the number ready, 0 on
 * timeout, NETSYS_AGAIN when interrupted, NET_ERROR on failure. */
int netsys_poll(net_pollfd *fds, size_t n, int timeout_ms);

void netsys_shutdown(net_fd fd);
void netsys_close(net_fd fd);

#endif
