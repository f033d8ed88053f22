/* net_sys on Windows: Winsock 2, non-blocking sockets, WSAPoll and select. */
#include "net_sys.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <stdio.h>
#include <string.h>

#include "net_sockaddr.h"
#include "plat.h"

/* What one send or recv is given at once (Winsock lengths are int). */
#define IO_CHUNK 65536

int netsys_startup(void)
{
    WSADATA data;
    return WSAStartup(MAKEWORD(2, 2), &data) == 0 ? 0 : -1;
}

void netsys_describe(int code, char *text, size_t cap)
{
    char sys[160] = "";
    size_t n;
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                   (DWORD)code, 0, sys, sizeof sys, NULL);
    n = strlen(sys);
    while (n > 0 && (sys[n - 1] == '\n' || sys[n - 1] == '\r' || sys[n - 1] == '.'))
        sys[--n] = '\0';
    snprintf(text, cap, "%s (%d)", n ? sys : "socket error", code);
}

/* Nothing moved: would it block (wait and retry) or is it a real error? */
static int again_or_error(int *code)
{
    int e = WSAGetLastError();
    if (e == WSAEWOULDBLOCK)
        return NETSYS_AGAIN;
    if (code)
        *code = e;
    return NET_ERROR;
}

static int set_nonblocking(SOCKET s)
{
    u_long nonblocking = 1;
    return ioctlsocket(s, FIONBIO, &nonblocking);
}

int netsys_socket(const net_peer *addr, int kind, net_fd *out, const char **what,
                  int *code)
{
    int dgram = kind == NETSYS_DGRAM;
    SOCKET s = WSASocketW(family_of(addr), dgram ? SOCK_DGRAM : SOCK_STREAM,
                          dgram ? IPPROTO_UDP : IPPROTO_TCP, NULL, 0,
                          WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        *what = "socket";
        *code = WSAGetLastError();
        return NET_ERROR;
    }
    if (set_nonblocking(s) != 0) {
        *what = "ioctlsocket";
        *code = WSAGetLastError();
        closesocket(s);
        return NET_ERROR;
    }
    *out = (net_fd)s;
    return NET_OK;
}

void netsys_no_delay(net_fd fd)
{
    BOOL one = TRUE;
    setsockopt((SOCKET)fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
}

/* No SO_REUSEADDR here: on Windows it would let another socket bind the
 * port this one listens on, not just allow a quick re-bind as on POSIX. */
int netsys_bind(net_fd fd, const net_peer *addr, int listening, unsigned *port,
                int *code)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (bind((SOCKET)fd, (const struct sockaddr *)addr->raw, addr->len) != 0
        || (listening && listen((SOCKET)fd, 64) != 0)
        || getsockname((SOCKET)fd, (struct sockaddr *)&ss, &len) != 0) {
        *code = WSAGetLastError();
        return NET_ERROR;
    }
    *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return NET_OK;
}

int netsys_connect(net_fd fd, const net_peer *addr, int *code)
{
    if (connect((SOCKET)fd, (const struct sockaddr *)addr->raw, addr->len) == 0)
        return NET_OK;
    return again_or_error(code);
}

/* Connection completion is awaited with select: WSAPoll on many Windows
 * versions never reports a refused connect, it just waits out the timeout. */
int netsys_wait_connected(net_fd fd, uint64_t deadline_ms, int *code)
{
    SOCKET s = (SOCKET)fd;
    fd_set wr, ex;
    struct timeval tv;
    int ms = net_remaining_ms(deadline_ms), r, len = sizeof *code;
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
        *code = WSAGetLastError();
        return NET_ERROR;
    }
    *code = 0;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)code, &len) != 0)
        *code = WSAGetLastError();
    return *code == 0 ? NET_OK : NET_ERROR;
}

int netsys_accept(net_fd listener, net_fd *out, int *code)
{
    SOCKET s = accept((SOCKET)listener, NULL, NULL);
    if (s != INVALID_SOCKET) {
        if (set_nonblocking(s) != 0) {
            *code = WSAGetLastError();
            closesocket(s);
            return NET_ERROR;
        }
        *out = (net_fd)s;
        return NET_OK;
    }
    if (WSAGetLastError() == WSAECONNRESET) /* the peer gave up while queued */
        return NETSYS_AGAIN;
    return again_or_error(code);
}

int netsys_send(net_fd fd, const void *buf, size_t len, int *code)
{
    int n = send((SOCKET)fd, buf, len > IO_CHUNK ? IO_CHUNK : (int)len, 0);
    return n >= 0 ? n : again_or_error(code);
}

int netsys_recv(net_fd fd, void *buf, size_t cap, int *code)
{
    int n = recv((SOCKET)fd, buf, cap > IO_CHUNK ? IO_CHUNK : (int)cap, 0);
    return n >= 0 ? n : again_or_error(code);
}

int netsys_recvfrom(net_fd fd, void *buf, size_t cap, net_peer *from)
{
    int len = (int)sizeof from->raw;
    int n = recvfrom((SOCKET)fd, buf, (int)cap, 0, (struct sockaddr *)from->raw, &len);
    if (n >= 0) {
        from->len = len;
        return n;
    }
    /* A previous reply's ICMP "port unreachable" shows up here on
     * Windows as WSAECONNRESET; it says nothing about this socket. */
    if (WSAGetLastError() == WSAECONNRESET)
        return NETSYS_STALE;
    return again_or_error(NULL);
}

int netsys_sendto(net_fd fd, const void *buf, size_t len, const net_peer *to)
{
    int n = sendto((SOCKET)fd, buf, (int)len, 0, (const struct sockaddr *)to->raw, to->len);
    return n >= 0 ? n : NET_ERROR;
}

int netsys_poll(net_pollfd *fds, size_t n, int timeout_ms)
{
    WSAPOLLFD p[NETSYS_POLL_MAX];
    size_t i;
    int r;
    if (n == 0) {
        /* WSAPoll refuses an empty set; nothing to wait for but time. */
        plat_sleep_ms(timeout_ms < 0 ? 0u : (unsigned)timeout_ms);
        return 0;
    }
    for (i = 0; i < n; i++) {
        p[i].fd = (SOCKET)fds[i].fd;
        p[i].events = (SHORT)((fds[i].want_read ? POLLRDNORM : 0)
                              | (fds[i].want_write ? POLLWRNORM : 0));
        p[i].revents = 0;
    }
    r = WSAPoll(p, (ULONG)n, timeout_ms);
    if (r < 0)
        return NET_ERROR;
    for (i = 0; i < n; i++) {
        /* Errors and hang-ups count as readable: the read reports them. */
        fds[i].readable = (p[i].revents & (POLLRDNORM | POLLERR | POLLHUP)) != 0;
        fds[i].writable = (p[i].revents & (POLLWRNORM | POLLERR)) != 0;
    }
    return r;
}

void netsys_shutdown(net_fd fd)
{
    shutdown((SOCKET)fd, SD_BOTH);
}

void netsys_close(net_fd fd)
{
    closesocket((SOCKET)fd);
}
