/* net_sys on POSIX: BSD sockets, fcntl and poll(2). */
#include "net_sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_sockaddr.h"

/* A peer that closes while we write must give EPIPE, not kill the process
 * (the CLI and the tests run outside any service manager). */
int netsys_startup(void)
{
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

void netsys_describe(int code, char *text, size_t cap)
{
    snprintf(text, cap, "%s", strerror(code));
}

/* Nothing moved: would it block (wait and retry) or is it a real error? */
static int again_or_error(int *code)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return NETSYS_AGAIN;
    if (code)
        *code = errno;
    return NET_ERROR;
}

static int set_nonblocking(int fd)
{
    return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int netsys_socket(const net_peer *addr, int kind, net_fd *out, const char **what,
                  int *code)
{
    int fd = socket(family_of(addr), kind == NETSYS_DGRAM ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0) {
        *what = "socket";
        *code = errno;
        return NET_ERROR;
    }
    if (set_nonblocking(fd) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        *what = "fcntl";
        *code = errno;
        close(fd);
        return NET_ERROR;
    }
    *out = fd;
    return NET_OK;
}

void netsys_no_delay(net_fd fd)
{
    int one = 1;
    setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int netsys_bind(net_fd fd, const net_peer *addr, int listening, unsigned *port,
                int *code)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int one = 1;
    /* Bind even while old connections on the port sit in TIME_WAIT. */
    if (listening)
        setsockopt((int)fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind((int)fd, (const struct sockaddr *)addr->raw, (socklen_t)addr->len) != 0
        || (listening && listen((int)fd, 64) != 0)
        || getsockname((int)fd, (struct sockaddr *)&ss, &len) != 0) {
        *code = errno;
        return NET_ERROR;
    }
    *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return NET_OK;
}

int netsys_connect(net_fd fd, const net_peer *addr, int *code)
{
    if (connect((int)fd, (const struct sockaddr *)addr->raw, (socklen_t)addr->len) == 0)
        return NET_OK;
    if (errno == EINPROGRESS)
        return NETSYS_AGAIN;
    *code = errno;
    return NET_ERROR;
}

int netsys_wait_connected(net_fd fd, uint64_t deadline_ms, int *code)
{
    int soerr = 0, r = net_wait(fd, 1, deadline_ms);
    socklen_t soerr_len = sizeof soerr;
    *code = 0;
    if (r != NET_OK)
        return r;
    if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) != 0)
        soerr = errno;
    *code = soerr;
    return soerr == 0 ? NET_OK : NET_ERROR;
}

int netsys_accept(net_fd listener, net_fd *out, int *code)
{
    int fd = accept((int)listener, NULL, NULL);
    if (fd >= 0) {
        if (set_nonblocking(fd) != 0) {
            *code = errno;
            close(fd);
            return NET_ERROR;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        *out = fd;
        return NET_OK;
    }
    if (errno == ECONNABORTED) /* the peer gave up while queued */
        return NETSYS_AGAIN;
    return again_or_error(code);
}

int netsys_send(net_fd fd, const void *buf, size_t len, int *code)
{
    ssize_t n = send((int)fd, buf, len > INT32_MAX ? INT32_MAX : len, MSG_NOSIGNAL);
    return n >= 0 ? (int)n : again_or_error(code);
}

int netsys_recv(net_fd fd, void *buf, size_t cap, int *code)
{
    ssize_t n = recv((int)fd, buf, cap > INT32_MAX ? INT32_MAX : cap, 0);
    return n >= 0 ? (int)n : again_or_error(code);
}

int netsys_recvfrom(net_fd fd, void *buf, size_t cap, net_peer *from)
{
    socklen_t len = sizeof from->raw;
    ssize_t n = recvfrom((int)fd, buf, cap, 0, (struct sockaddr *)from->raw, &len);
    if (n < 0)
        return again_or_error(NULL);
    from->len = (int)len;
    return (int)n;
}

int netsys_sendto(net_fd fd, const void *buf, size_t len, const net_peer *to)
{
    ssize_t n = sendto((int)fd, buf, len, 0, (const struct sockaddr *)to->raw,
                       (socklen_t)to->len);
    return n >= 0 ? (int)n : NET_ERROR;
}

int netsys_poll(net_pollfd *fds, size_t n, int timeout_ms)
{
    struct pollfd p[NETSYS_POLL_MAX];
    size_t i;
    int r;
    for (i = 0; i < n; i++) {
        p[i].fd = (int)fds[i].fd;
        p[i].events = (short)((fds[i].want_read ? POLLIN : 0)
                              | (fds[i].want_write ? POLLOUT : 0));
        p[i].revents = 0;
    }
    r = poll(p, (nfds_t)n, timeout_ms);
    if (r < 0)
        return errno == EINTR ? NETSYS_AGAIN : NET_ERROR;
    for (i = 0; i < n; i++) {
        /* Errors and hang-ups count as readable: the read reports them. */
        fds[i].readable = (p[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        fds[i].writable = (p[i].revents & (POLLOUT | POLLERR)) != 0;
    }
    return r;
}

void netsys_shutdown(net_fd fd)
{
    shutdown((int)fd, SHUT_RDWR);
}

void netsys_close(net_fd fd)
{
    close((int)fd);
}
