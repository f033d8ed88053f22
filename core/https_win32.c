/* https on Windows: the static OpenSSL has no trust store of its own, so the
 * machine's "ROOT" certificate store (what Windows itself trusts) is copied
 * into the context. */
#include "https.h"

#include <windows.h>
#include <wincrypt.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

int https_trust_system(void *ssl_ctx)
{
    X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)ssl_ctx);
    HCERTSTORE sys = CertOpenSystemStoreW(0, L"ROOT");
    PCCERT_CONTEXT c = NULL;
    int added = 0;
    if (!sys)
        return -1;
    while ((c = CertEnumCertificatesInStore(sys, c)) != NULL) {
        const unsigned char *der = c->pbCertEncoded;
        X509 *x = d2i_X509(NULL, &der, (long)c->cbCertEncoded);
        if (!x)
            continue;
        if (X509_STORE_add_cert(store, x) == 1)
            added++;
        X509_free(x);
    }
    CertCloseStore(sys, 0);
    return added > 0 ? 0 : -1;
}
