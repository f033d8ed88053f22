/* svc: the Windows services TLS Router depends on (IISADMIN, SMTPSVC) and
 * the registration of its event sink. */
#ifndef TR_MGR_SVC_H
#define TR_MGR_SVC_H

#include <windows.h>

typedef enum svc_state {
    SVC_NOT_INSTALLED,
    SVC_STOPPED,
    SVC_RUNNING,
    SVC_PENDING,                   /* starting, stopping, pausing */
    SVC_PAUSED,
    SVC_UNKNOWN                    /* no right to ask the Service Control Manager */
} svc_state;

svc_state svc_query(const wchar_t *name);
/* Asks the Service Control Manager to start the service; waits up to
 * wait_ms for it to run (call from a worker thread). 0 on success, else a
 * sentence in msg. */
int svc_start(const wchar_t *name, DWORD wait_ms, wchar_t *msg, size_t msglen);
const wchar_t *svc_state_text(svc_state s);

/* The sink's COM registration: ProgID -> CLSID -> InprocServer32 path.
 * 1 registered (dll filled, dll_exists set), 0 not registered. */
int svc_sink_registration(const wchar_t *progid, wchar_t *clsid, size_t clsidlen,
                          wchar_t *dll, size_t dlllen, int *dll_exists);

#endif
