/* net on POSIX: non-blocking sockets and poll(2). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plat.h"

static plat_once ignore_sigpipe_once = PLAT_ONCE_INIT;

/* A peer that closes while we write must give EPIPE, not kill the process
 * (the CLI and the tests run outside any service manager). */
static void ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int net_init(void)
{
    plat_once_run(&ignore_sigpipe_once, ignore_sigpipe);
    return 0;
}

static void set_err(char *err, size_t errlen, const char *what, int code)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, strerror(code));
}

/* Fill a sockaddr from a numeric address; 0 on success. */
static int make_addr(const char *ip, unsigned port, struct sockaddr_storage *ss,
                     socklen_t *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (port > 65535)
        return -1;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return 0;
    }
    return -1;
}

/* SMTP is a dialogue of small writes: without this, Nagle holds a command
 * back until the peer's delayed ACK (40 ms on Linux) releases it. */
static void no_delay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int new_socket(int family, net_fd *out, char *err, size_t errlen)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        set_err(err, errlen, "socket", errno);
        return NET_ERROR;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0
        || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        set_err(err, errlen, "fcntl", errno);
        close(fd);
        return NET_ERROR;
    }
    *out = fd;
    return NET_OK;
}

int net_wait(net_fd fd, int want_write, uint64_t deadline_ms)
{
    struct pollfd p = { (int)fd, (short)(want_write ? POLLOUT : POLLIN), 0 };
    for (;;) {
        int r = poll(&p, 1, net_remaining_ms(deadline_ms));
        if (r > 0)
            return NET_OK; /* errors and hang-ups show in the next call */
        if (r == 0)
            return NET_TIMEOUT;
        if (errno != EINTR)
            return NET_ERROR;
    }
}

int net_connect(const char *ip, unsigned port, uint64_t deadline_ms, net_fd *out,
                char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    net_fd fd;
    int soerr = 0, r;
    socklen_t soerr_len = sizeof soerr;

    net_init();
    if (make_addr(ip, port, &ss, &len) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a numeric address: %s", ip);
        return NET_ERROR;
    }
    if (new_socket(ss.ss_family, &fd, err, errlen) != NET_OK)
        return NET_ERROR;
    if (connect((int)fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
        set_err(err, errlen, "connect", errno);
        close((int)fd);
        return NET_ERROR;
    }
    r = net_wait(fd, 1, deadline_ms);
    if (r != NET_OK) {
        if (err && errlen)
            snprintf(err, errlen, r == NET_TIMEOUT ? "connect: timed out"
                                                   : "connect: poll failed");
        close((int)fd);
        return r;
    }
    if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) != 0)
        soerr = errno;
    if (soerr != 0) {
        set_err(err, errlen, "connect", soerr);
        close((int)fd);
        return NET_ERROR;
    }
    no_delay((int)fd);
    *out = fd;
    return NET_OK;
}

int net_send_all(net_fd fd, const void *buf, size_t len, uint64_t deadline_ms,
                 char *err, size_t errlen)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send((int)fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            set_err(err, errlen, "send", errno);
            return NET_ERROR;
        }
        if (net_wait(fd, 1, deadline_ms) == NET_TIMEOUT) {
            if (err && errlen)
                snprintf(err, errlen, "send: timed out");
            return NET_TIMEOUT;
        }
    }
    return NET_OK;
}

int net_recv(net_fd fd, void *buf, size_t cap, uint64_t deadline_ms, char *err,
             size_t errlen)
{
    if (cap > (size_t)INT32_MAX)
        cap = INT32_MAX;
    for (;;) {
        ssize_t n = recv((int)fd, buf, cap, 0);
        if (n >= 0)
            return (int)n;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            set_err(err, errlen, "recv", errno);
            return NET_ERROR;
        }
        if (net_wait(fd, 0, deadline_ms) == NET_TIMEOUT) {
            if (err && errlen)
                snprintf(err, errlen, "recv: timed out");
            return NET_TIMEOUT;
        }
    }
}

int net_poll(net_pollfd *fds, size_t n, int timeout_ms)
{
    struct pollfd p[64];
    size_t i;
    int r;
    if (n > sizeof p / sizeof p[0])
        return NET_ERROR;
    for (i = 0; i < n; i++) {
        p[i].fd = (int)fds[i].fd;
        p[i].events = (short)((fds[i].want_read ? POLLIN : 0)
                              | (fds[i].want_write ? POLLOUT : 0));
        p[i].revents = 0;
    }
    do {
        r = poll(p, (nfds_t)n, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return NET_ERROR;
    for (i = 0; i < n; i++) {
        /* Errors and hang-ups count as readable: the read reports them. */
        fds[i].readable = (p[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        fds[i].writable = (p[i].revents & (POLLOUT | POLLERR)) != 0;
    }
    return r;
}

int net_listen(const char *ip, unsigned port, net_fd *out, unsigned *port_out,
               char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    net_fd fd;
    int one = 1;

    net_init();
    if (make_addr(ip, port, &ss, &len) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a numeric address: %s", ip);
        return NET_ERROR;
    }
    if (new_socket(ss.ss_family, &fd, err, errlen) != NET_OK)
        return NET_ERROR;
    setsockopt((int)fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind((int)fd, (struct sockaddr *)&ss, len) != 0
        || listen((int)fd, 64) != 0
        || getsockname((int)fd, (struct sockaddr *)&ss, &len) != 0) {
        set_err(err, errlen, "listen", errno);
        close((int)fd);
        return NET_ERROR;
    }
    if (port_out)
        *port_out = ntohs(ss.ss_family == AF_INET
                              ? ((struct sockaddr_in *)&ss)->sin_port
                              : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *out = fd;
    return NET_OK;
}

int net_accept(net_fd listener, uint64_t deadline_ms, net_fd *out)
{
    for (;;) {
        int fd = accept((int)listener, NULL, NULL);
        if (fd >= 0) {
            if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
                close(fd);
                return NET_ERROR;
            }
            fcntl(fd, F_SETFD, FD_CLOEXEC);
            no_delay(fd);
            *out = fd;
            return NET_OK;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            && errno != ECONNABORTED)
            return NET_ERROR;
        if (net_wait(listener, 0, deadline_ms) == NET_TIMEOUT)
            return NET_TIMEOUT;
    }
}

void net_shutdown(net_fd fd)
{
    if (fd != NET_BAD_FD)
        shutdown((int)fd, SHUT_RDWR);
}

void net_close(net_fd fd)
{
    if (fd != NET_BAD_FD)
        close((int)fd);
}

int net_udp_open(const char *ip, unsigned port, net_fd *out, unsigned *port_out,
                 char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    net_init();
    if (make_addr(ip, port, &ss, &len) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a numeric address: %s", ip);
        return NET_ERROR;
    }
    fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0
        || bind(fd, (struct sockaddr *)&ss, len) != 0
        || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        set_err(err, errlen, "udp", errno);
        if (fd >= 0)
            close(fd);
        return NET_ERROR;
    }
    if (port_out)
        *port_out = ntohs(ss.ss_family == AF_INET
                              ? ((struct sockaddr_in *)&ss)->sin_port
                              : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *out = fd;
    return NET_OK;
}

int net_udp_recv(net_fd fd, void *buf, size_t cap, uint64_t deadline_ms, net_peer *from)
{
    for (;;) {
        socklen_t len = sizeof from->raw;
        ssize_t n = recvfrom((int)fd, buf, cap, 0, (struct sockaddr *)from->raw, &len);
        if (n >= 0) {
            from->len = (int)len;
            return (int)n;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return NET_ERROR;
        if (net_wait(fd, 0, deadline_ms) == NET_TIMEOUT)
            return NET_TIMEOUT;
    }
}

int net_udp_send(net_fd fd, const void *buf, size_t len, const net_peer *to)
{
    ssize_t n = sendto((int)fd, buf, len, 0, (const struct sockaddr *)to->raw,
                       (socklen_t)to->len);
    return n == (ssize_t)len ? NET_OK : NET_ERROR;
}
