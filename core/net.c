/* net: the portable part: deadlines, retry loops and error text over the
 * socket primitives of net_sys.h (net_posix.c, net_win32.c). */
#include "net.h"

#include <limits.h>
#include <stdio.h>

#include "net_sys.h"
#include "plat.h"

static plat_once start_once = PLAT_ONCE_INIT;
static int start_result = -1;

static void start(void) { start_result = netsys_startup(); }

int net_init(void)
{
    plat_once_run(&start_once, start);
    return start_result;
}

int net_remaining_ms(uint64_t deadline_ms)
{
    uint64_t now = plat_now_ms();
    if (now >= deadline_ms)
        return 0;
    if (deadline_ms - now > (uint64_t)INT_MAX)
        return INT_MAX;
    return (int)(deadline_ms - now);
}

static void set_err(char *err, size_t errlen, const char *what, int code)
{
    char text[200];
    if (!err || !errlen)
        return;
    netsys_describe(code, text, sizeof text);
    snprintf(err, errlen, "%s: %s", what, text);
}

static void set_msg(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* net_init, then the address: what every call that opens a socket does
 * first. */
static int start_with_addr(const char *ip, unsigned port, net_peer *addr, char *err,
                           size_t errlen)
{
    if (net_init() != 0) {
        set_msg(err, errlen, "WSAStartup failed"); /* only Winsock can fail here */
        return NET_ERROR;
    }
    if (port > 65535 || netsys_make_addr(ip, port, addr) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a numeric address: %s", ip);
        return NET_ERROR;
    }
    return NET_OK;
}

/* A socket for addr; failures are reported as label, or as the failed call
 * when label is NULL. */
static int open_socket(const net_peer *addr, int kind, const char *label, net_fd *out,
                       char *err, size_t errlen)
{
    const char *what = "socket";
    int code = 0;
    if (netsys_socket(addr, kind, out, &what, &code) == NET_OK)
        return NET_OK;
    set_err(err, errlen, label ? label : what, code);
    return NET_ERROR;
}

/* Bind (and listen), then give the port that was bound. */
static int bind_local(net_fd fd, const net_peer *addr, int listening, unsigned *port_out,
                      const char *label, char *err, size_t errlen)
{
    unsigned port = 0;
    int code = 0;
    if (netsys_bind(fd, addr, listening, &port, &code) != NET_OK) {
        set_err(err, errlen, label, code);
        return NET_ERROR;
    }
    if (port_out)
        *port_out = port;
    return NET_OK;
}

int net_wait(net_fd fd, int want_write, uint64_t deadline_ms)
{
    net_pollfd p = { fd, !want_write, want_write != 0, 0, 0 };
    for (;;) {
        int r = netsys_poll(&p, 1, net_remaining_ms(deadline_ms));
        if (r > 0)
            return NET_OK; /* errors and hang-ups show in the next call */
        if (r == 0)
            return NET_TIMEOUT;
        if (r != NETSYS_AGAIN)
            return NET_ERROR;
    }
}

/* After a call on fd that moved nothing (n is NET_ERROR or NETSYS_AGAIN):
 * NET_OK to try again (fd ready, or the wait failed and the call will say
 * why), else NET_ERROR or NET_TIMEOUT with err naming what. */
static int wait_to_retry(net_fd fd, int n, int code, int want_write,
                         uint64_t deadline_ms, const char *what, char *err,
                         size_t errlen)
{
    if (n == NET_ERROR) {
        set_err(err, errlen, what, code);
        return NET_ERROR;
    }
    if (net_wait(fd, want_write, deadline_ms) == NET_TIMEOUT) {
        if (err && errlen)
            snprintf(err, errlen, "%s: timed out", what);
        return NET_TIMEOUT;
    }
    return NET_OK;
}

int net_poll(net_pollfd *fds, size_t n, int timeout_ms)
{
    int r;
    if (n > NETSYS_POLL_MAX)
        return NET_ERROR;
    do {
        r = netsys_poll(fds, n, timeout_ms);
    } while (r == NETSYS_AGAIN);
    return r < 0 ? NET_ERROR : r;
}

int net_connect(const char *ip, unsigned port, uint64_t deadline_ms, net_fd *out,
                char *err, size_t errlen)
{
    net_peer addr;
    net_fd fd;
    int r, code = 0;

    if (start_with_addr(ip, port, &addr, err, errlen) != NET_OK
        || open_socket(&addr, NETSYS_STREAM, NULL, &fd, err, errlen) != NET_OK)
        return NET_ERROR;
    if (netsys_connect(fd, &addr, &code) == NET_ERROR) {
        set_err(err, errlen, "connect", code);
        netsys_close(fd);
        return NET_ERROR;
    }
    r = netsys_wait_connected(fd, deadline_ms, &code);
    if (r != NET_OK) {
        if (r == NET_TIMEOUT)
            set_msg(err, errlen, "connect: timed out");
        else if (code == 0)
            set_msg(err, errlen, "connect: poll failed");
        else
            set_err(err, errlen, "connect", code);
        netsys_close(fd);
        return r;
    }
    /* SMTP is a dialogue of small writes: without this, Nagle holds a
     * command back until the peer's delayed ACK (40 ms on Linux) releases
     * it. */
    netsys_no_delay(fd);
    *out = fd;
    return NET_OK;
}

int net_send_all(net_fd fd, const void *buf, size_t len, uint64_t deadline_ms,
                 char *err, size_t errlen)
{
    const char *p = buf;
    while (len > 0) {
        int code = 0, r;
        int n = netsys_send(fd, p, len, &code);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        r = wait_to_retry(fd, n, code, 1, deadline_ms, "send", err, errlen);
        if (r != NET_OK)
            return r;
    }
    return NET_OK;
}

int net_recv(net_fd fd, void *buf, size_t cap, uint64_t deadline_ms, char *err,
             size_t errlen)
{
    for (;;) {
        int code = 0, r;
        int n = netsys_recv(fd, buf, cap, &code);
        if (n >= 0)
            return n;
        r = wait_to_retry(fd, n, code, 0, deadline_ms, "recv", err, errlen);
        if (r != NET_OK)
            return r;
    }
}

int net_listen(const char *ip, unsigned port, net_fd *out, unsigned *port_out,
               char *err, size_t errlen)
{
    net_peer addr;
    net_fd fd;

    if (start_with_addr(ip, port, &addr, err, errlen) != NET_OK
        || open_socket(&addr, NETSYS_STREAM, NULL, &fd, err, errlen) != NET_OK)
        return NET_ERROR;
    if (bind_local(fd, &addr, 1, port_out, "listen", err, errlen) != NET_OK) {
        netsys_close(fd);
        return NET_ERROR;
    }
    *out = fd;
    return NET_OK;
}

int net_accept(net_fd listener, uint64_t deadline_ms, net_fd *out)
{
    for (;;) {
        int code = 0;
        int r = netsys_accept(listener, out, &code);
        if (r == NET_OK) {
            netsys_no_delay(*out); /* see net_connect */
            return NET_OK;
        }
        r = wait_to_retry(listener, r, code, 0, deadline_ms, "accept", NULL, 0);
        if (r != NET_OK)
            return r;
    }
}

void net_shutdown(net_fd fd)
{
    if (fd != NET_BAD_FD)
        netsys_shutdown(fd);
}

void net_close(net_fd fd)
{
    if (fd != NET_BAD_FD)
        netsys_close(fd);
}

int net_udp_open(const char *ip, unsigned port, net_fd *out, unsigned *port_out,
                 char *err, size_t errlen)
{
    net_peer addr;
    net_fd fd;

    if (start_with_addr(ip, port, &addr, err, errlen) != NET_OK
        || open_socket(&addr, NETSYS_DGRAM, "udp", &fd, err, errlen) != NET_OK)
        return NET_ERROR;
    if (bind_local(fd, &addr, 0, port_out, "udp", err, errlen) != NET_OK) {
        netsys_close(fd);
        return NET_ERROR;
    }
    *out = fd;
    return NET_OK;
}

int net_udp_recv(net_fd fd, void *buf, size_t cap, uint64_t deadline_ms, net_peer *from)
{
    for (;;) {
        int n = netsys_recvfrom(fd, buf, cap, from);
        if (n >= 0)
            return n;
        if (n == NET_ERROR)
            return NET_ERROR;
        if (n == NETSYS_AGAIN && net_wait(fd, 0, deadline_ms) == NET_TIMEOUT)
            return NET_TIMEOUT;
        /* A stale error retries at once: the deadline still bounds it. */
        if (net_remaining_ms(deadline_ms) == 0)
            return NET_TIMEOUT;
    }
}

int net_udp_send(net_fd fd, const void *buf, size_t len, const net_peer *to)
{
    int n = netsys_sendto(fd, buf, len, to);
    return n >= 0 && (size_t)n == len ? NET_OK : NET_ERROR;
}
