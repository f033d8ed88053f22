/* net on Windows: Winsock 2, non-blocking sockets, WSAPoll and select. */
#include "net.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <string.h>

#include "plat.h"

static plat_once wsa_once = PLAT_ONCE_INIT;
static int wsa_result = -1;

static void wsa_start(void)
{
    WSADATA data;
    wsa_result = WSAStartup(MAKEWORD(2, 2), &data) == 0 ? 0 : -1;
}

int net_init(void)
{
    plat_once_run(&wsa_once, wsa_start);
    return wsa_result;
}

static void set_err(char *err, size_t errlen, const char *what, int code)
{
    char text[160] = "";
    size_t n;
    if (!err || !errlen)
        return;
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                   (DWORD)code, 0, text, sizeof text, NULL);
    n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == '.'))
        text[--n] = '\0';
    snprintf(err, errlen, "%s: %s (%d)", what, n ? text : "socket error", code);
}

static int make_addr(const char *ip, unsigned port, struct sockaddr_storage *ss,
                     int *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (port > 65535)
        return -1;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((u_short)port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((u_short)port);
        *len = sizeof *v6;
        return 0;
    }
    return -1;
}

/* SMTP is a dialogue of small writes: without this, Nagle holds a command
 * back until the peer's delayed ACK releases it. */
static void no_delay(SOCKET s)
{
    BOOL one = TRUE;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
}

static int new_socket(int family, net_fd *out, char *err, size_t errlen)
{
    u_long nonblocking = 1;
    SOCKET s = WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
                          WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        set_err(err, errlen, "socket", WSAGetLastError());
        return NET_ERROR;
    }
    if (ioctlsocket(s, FIONBIO, &nonblocking) != 0) {
        set_err(err, errlen, "ioctlsocket", WSAGetLastError());
        closesocket(s);
        return NET_ERROR;
    }
    *out = (net_fd)s;
    return NET_OK;
}

int net_wait(net_fd fd, int want_write, uint64_t deadline_ms)
{
    WSAPOLLFD p;
    int r;
    p.fd = (SOCKET)fd;
    p.events = (SHORT)(want_write ? POLLWRNORM : POLLRDNORM);
    p.revents = 0;
    r = WSAPoll(&p, 1, net_remaining_ms(deadline_ms));
    if (r > 0)
        return NET_OK;
    return r == 0 ? NET_TIMEOUT : NET_ERROR;
}

/* Connection completion is awaited with select: WSAPoll on many Windows
 * versions never reports a refused connect, it just waits out the timeout. */
static int wait_connected(SOCKET s, uint64_t deadline_ms, int *soerr)
{
    fd_set wr, ex;
    struct timeval tv;
    int ms = net_remaining_ms(deadline_ms), r, len = sizeof *soerr;
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    FD_SET(s, &wr);
    FD_SET(s, &ex);
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    r = select(0, NULL, &wr, &ex, &tv);
    if (r == 0)
        return NET_TIMEOUT;
    if (r < 0) {
        *soerr = WSAGetLastError();
        return NET_ERROR;
    }
    *soerr = 0;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)soerr, &len) != 0)
        *soerr = WSAGetLastError();
    return *soerr == 0 ? NET_OK : NET_ERROR;
}

int net_connect(const char *ip, unsigned port, uint64_t deadline_ms, net_fd *out,
                char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int len, r, soerr = 0;
    net_fd fd;

    if (net_init() != 0) {
        if (err && errlen)
            snprintf(err, errlen, "WSAStartup failed");
        return NET_ERROR;
    }
    if (make_addr(ip, port, &ss, &len) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a numeric address: %s", ip);
        return NET_ERROR;
    }
    if (new_socket(ss.ss_family, &fd, err, errlen) != NET_OK)
        return NET_ERROR;
    if (connect((SOCKET)fd, (struct sockaddr *)&ss, len) != 0
        && WSAGetLastError() != WSAEWOULDBLOCK) {
        set_err(err, errlen, "connect", WSAGetLastError());
        closesocket((SOCKET)fd);
        return NET_ERROR;
    }
    r = wait_connected((SOCKET)fd, deadline_ms, &soerr);
    if (r != NET_OK) {
        if (r == NET_TIMEOUT) {
            if (err && errlen)
                snprintf(err, errlen, "connect: timed out");
        } else {
            set_err(err, errlen, "connect", soerr);
        }
        closesocket((SOCKET)fd);
        return r;
    }
    no_delay((SOCKET)fd);
    *out = fd;
    return NET_OK;
}

int net_send_all(net_fd fd, const void *buf, size_t len, uint64_t deadline_ms,
                 char *err, size_t errlen)
{
    const char *p = buf;
    while (len > 0) {
        int chunk = len > 65536 ? 65536 : (int)len;
        int n = send((SOCKET)fd, p, chunk, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && WSAGetLastError() != WSAEWOULDBLOCK) {
            set_err(err, errlen, "send", WSAGetLastError());
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
    int chunk = cap > 65536 ? 65536 : (int)cap;
    for (;;) {
        int n = recv((SOCKET)fd, buf, chunk, 0);
        if (n >= 0)
            return n;
        if (WSAGetLastError() != WSAEWOULDBLOCK) {
            set_err(err, errlen, "recv", WSAGetLastError());
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
    WSAPOLLFD p[64];
    size_t i;
    int r;
    if (n > sizeof p / sizeof p[0])
        return NET_ERROR;
    for (i = 0; i < n; i++) {
        p[i].fd = (SOCKET)fds[i].fd;
        p[i].events = (SHORT)((fds[i].want_read ? POLLRDNORM : 0)
                              | (fds[i].want_write ? POLLWRNORM : 0));
        p[i].revents = 0;
    }
    if (n == 0) {
        /* WSAPoll refuses an empty set; nothing to wait for but time. */
        plat_sleep_ms(timeout_ms < 0 ? 0u : (unsigned)timeout_ms);
        return 0;
    }
    r = WSAPoll(p, (ULONG)n, timeout_ms);
    if (r < 0)
        return NET_ERROR;
    for (i = 0; i < n; i++) {
        fds[i].readable = (p[i].revents & (POLLRDNORM | POLLERR | POLLHUP)) != 0;
        fds[i].writable = (p[i].revents & (POLLWRNORM | POLLERR)) != 0;
    }
    return r;
}

int net_listen(const char *ip, unsigned port, net_fd *out, unsigned *port_out,
               char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int len;
    net_fd fd;

    if (net_init() != 0)
        return NET_ERROR;
    if (make_addr(ip, port, &ss, &len) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a numeric address: %s", ip);
        return NET_ERROR;
    }
    if (new_socket(ss.ss_family, &fd, err, errlen) != NET_OK)
        return NET_ERROR;
    if (bind((SOCKET)fd, (struct sockaddr *)&ss, len) != 0
        || listen((SOCKET)fd, 64) != 0
        || getsockname((SOCKET)fd, (struct sockaddr *)&ss, &len) != 0) {
        set_err(err, errlen, "listen", WSAGetLastError());
        closesocket((SOCKET)fd);
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
        SOCKET s = accept((SOCKET)listener, NULL, NULL);
        if (s != INVALID_SOCKET) {
            u_long nonblocking = 1;
            if (ioctlsocket(s, FIONBIO, &nonblocking) != 0) {
                closesocket(s);
                return NET_ERROR;
            }
            no_delay(s);
            *out = (net_fd)s;
            return NET_OK;
        }
        if (WSAGetLastError() != WSAEWOULDBLOCK && WSAGetLastError() != WSAECONNRESET)
            return NET_ERROR;
        if (net_wait(listener, 0, deadline_ms) == NET_TIMEOUT)
            return NET_TIMEOUT;
    }
}

void net_shutdown(net_fd fd)
{
    if (fd != NET_BAD_FD)
        shutdown((SOCKET)fd, SD_BOTH);
}

void net_close(net_fd fd)
{
    if (fd != NET_BAD_FD)
        closesocket((SOCKET)fd);
}

int net_udp_open(const char *ip, unsigned port, net_fd *out, unsigned *port_out,
                 char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int len;
    u_long nonblocking = 1;
    SOCKET s;

    if (net_init() != 0)
        return NET_ERROR;
    if (make_addr(ip, port, &ss, &len) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a numeric address: %s", ip);
        return NET_ERROR;
    }
    s = socket(ss.ss_family, SOCK_DGRAM, IPPROTO_UDP);
    if (s == INVALID_SOCKET || ioctlsocket(s, FIONBIO, &nonblocking) != 0
        || bind(s, (struct sockaddr *)&ss, len) != 0
        || getsockname(s, (struct sockaddr *)&ss, &len) != 0) {
        set_err(err, errlen, "udp", WSAGetLastError());
        if (s != INVALID_SOCKET)
            closesocket(s);
        return NET_ERROR;
    }
    if (port_out)
        *port_out = ntohs(ss.ss_family == AF_INET
                              ? ((struct sockaddr_in *)&ss)->sin_port
                              : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *out = (net_fd)s;
    return NET_OK;
}

int net_udp_recv(net_fd fd, void *buf, size_t cap, uint64_t deadline_ms, net_peer *from)
{
    for (;;) {
        int len = (int)sizeof from->raw;
        int n = recvfrom((SOCKET)fd, buf, (int)cap, 0, (struct sockaddr *)from->raw, &len);
        if (n >= 0) {
            from->len = len;
            return n;
        }
        /* A previous reply's ICMP "port unreachable" shows up here on
         * Windows as WSAECONNRESET; it says nothing about this socket. */
        if (WSAGetLastError() != WSAEWOULDBLOCK && WSAGetLastError() != WSAECONNRESET)
            return NET_ERROR;
        if (WSAGetLastError() == WSAEWOULDBLOCK && net_wait(fd, 0, deadline_ms) == NET_TIMEOUT)
            return NET_TIMEOUT;
        if (net_remaining_ms(deadline_ms) == 0)
            return NET_TIMEOUT;
    }
}

int net_udp_send(net_fd fd, const void *buf, size_t len, const net_peer *to)
{
    int n = sendto((SOCKET)fd, buf, (int)len, 0, (const struct sockaddr *)to->raw, to->len);
    return n == (int)len ? NET_OK : NET_ERROR;
}
