/* probe, Windows side: read the Schannel client protocol switches (the
 * registry keys the product's documentation tells admins to edit) so that
 * "auto" accepts exactly what IIS SMTP itself could negotiate; and load the
 * Windows root store for chain checks. */
#include "probe.h"

#include <windows.h>
#include <wincrypt.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define SCHANNEL_PROTOCOLS \
    L"SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\"

/* 1 / 0 when the value exists, -1 when it does not. */
static int read_dword(HKEY key, const wchar_t *name)
{
    DWORD value = 0, size = sizeof value, type = 0;
    if (RegQueryValueExW(key, name, NULL, &type, (BYTE *)&value, &size) != ERROR_SUCCESS
        || type != REG_DWORD)
        return -1;
    return value != 0;
}

/* Is the protocol enabled for clients? Without keys, Windows' own default:
 * TLS 1.2 and 1.3 on, 1.0 and 1.1 off (current Windows and patched servers). */
static int client_enabled(const wchar_t *protocol, int default_on)
{
    wchar_t path[160];
    HKEY key;
    int enabled, disabled_by_default;
    lstrcpyW(path, SCHANNEL_PROTOCOLS);
    lstrcatW(path, protocol);
    lstrcatW(path, L"\\Client");
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, path, 0, KEY_QUERY_VALUE, &key) != ERROR_SUCCESS)
        return default_on;
    enabled = read_dword(key, L"Enabled");
    disabled_by_default = read_dword(key, L"DisabledByDefault");
    RegCloseKey(key);
    if (enabled == 0 || disabled_by_default == 1)
        return 0;
    if (enabled == 1)
        return 1;
    return default_on;
}

probe_floor probe_system_floor(void)
{
    static const struct {
        const wchar_t *name;
        probe_floor floor;
        int default_on;
    } protocols[] = {
        { L"TLS 1.0", PROBE_FLOOR_TLS10, 0 },
        { L"TLS 1.1", PROBE_FLOOR_TLS11, 0 },
        { L"TLS 1.2", PROBE_FLOOR_TLS12, 1 },
        { L"TLS 1.3", PROBE_FLOOR_TLS13, 1 },
    };
    size_t i;
    for (i = 0; i < sizeof protocols / sizeof protocols[0]; i++)
        if (client_enabled(protocols[i].name, protocols[i].default_on))
            return protocols[i].floor;
    return PROBE_FLOOR_TLS12; /* everything switched off: keep a sane floor */
}

int probe_load_system_roots(struct ssl_ctx_st *ctx)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    HCERTSTORE sys = CertOpenSystemStoreW(0, L"ROOT");
    PCCERT_CONTEXT c = NULL;
    int added = 0;
    if (!sys)
        return -1;
    while ((c = CertEnumCertificatesInStore(sys, c)) != NULL) {
        const unsigned char *der = c->pbCertEncoded;
        X509 *x = d2i_X509(NULL, &der, (long)c->cbCertEncoded);
        if (x) {
            added += X509_STORE_add_cert(store, x) == 1;
            X509_free(x);
        }
    }
    CertCloseStore(sys, 0);
    return added > 0 ? 0 : -1;
}
