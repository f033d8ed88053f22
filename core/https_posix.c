/* https on POSIX: OpenSSL's configured default trust store. */
#include "https.h"

#include <openssl/ssl.h>

int https_trust_system(void *ssl_ctx)
{
    return SSL_CTX_set_default_verify_paths((SSL_CTX *)ssl_ctx) == 1 ? 0 : -1;
}
