/* tls_backend: what a TLS stack provides to tls.c (see tls.h). Private to
 * the tls*.c files. Each backend keeps its own client and session objects,
 * passed back to it as void pointers. */
#ifndef TR_TLS_BACKEND_H
#define TR_TLS_BACKEND_H

#include "tls.h"
#include "tls_trust.h"

typedef struct tls_backend {
    tls_stack stack;
    void *(*client_new)(const tls_client_options *o, char *err, size_t errlen);
    void (*client_free)(void *client);
    void *(*session_start)(void *client, net_fd fd, const char *server_name, char *err,
                           size_t errlen);
    int (*handshake)(void *session, uint64_t deadline, tls_info *info);
    int (*read)(void *session, void *buf, size_t cap, uint64_t deadline);
    int (*write)(void *session, const void *buf, size_t len, uint64_t deadline);
    /* The chain the server presented, leaf first, at most max entries,
     * pointing into memory the session keeps until it is closed. */
    size_t (*peer_chain)(void *session, tls_der *chain, size_t max);
    void (*session_close)(void *session);
} tls_backend;

/* tls_openssl.c, on every platform. */
extern const tls_backend tls_openssl_backend;
/* tls_schannel_win32.c, on Windows only. */
extern const tls_backend tls_schannel_backend;

/* The system's stack (tls_posix.c: OpenSSL; tls_win32.c: Schannel). */
const tls_backend *tls_system_backend(void);

#endif
