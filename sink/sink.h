/* sink: the TLS Router OnArrival event sink, an in-process COM server that
 * IIS SMTP (inetinfo.exe) loads. Internal interfaces between the files of
 * the DLL; nothing here is exported except through tlsrouter_sink.def.
 *
 * Files: sink_module.c (DLL entry points, object and lock counts),
 * sink_factory.c (class factory), sink_object.c (the COM object),
 * sink_arrival.c (one message: CDO fields in, route, CDO fields out),
 * sink_route.c (adapter over the core engine, its process-wide lifetime),
 * sink_register.c (registry entries of DllRegisterServer), sink_log.c
 * (Windows Event Log), sink_event.c (which Event Log message a plain
 * recipient gets, by reason), sink_guids.c (IIDs and our CLSID). */
#ifndef TR_SINK_H
#define TR_SINK_H

#ifndef COBJMACROS
#define COBJMACROS
#endif
/* Our vtables are static const tables. */
#ifndef CONST_VTABLE
#define CONST_VTABLE
#endif
/* mingw's adoint.h names the C structs Fields, Field and _Stream but its
 * typedefs ADOFields, ADOField and _ADOStream: make the names meet so the
 * COBJMACROS calls compile in C. */
#define ADOFields Fields
#define ADOField Field
#define _ADOStream _Stream
/* cdosys.h defines its error codes as file-scope consts, which in C clash
 * at link time in every file that includes it; we do not use them. */
#define __CdoErrors_MODULE_DEFINED__

#include <windows.h>
#include <ole2.h>
#include <cdosys.h>

#include <stddef.h>

/* {06A27498-A1AB-4DCB-9627-375712DCA6C6}: the TLS Router sink class. */
extern const CLSID CLSID_TlsRouterSink;
/* IEventIsCacheable {22E0F830-1E81-11D1-AA29-00AA006BC80B} from SEO: not in
 * mingw's headers, so declared here with its one method. */
extern const IID IID_IEventIsCacheable;
typedef struct IEventIsCacheable IEventIsCacheable;
typedef struct IEventIsCacheableVtbl {
    HRESULT(WINAPI *QueryInterface)(IEventIsCacheable *This, REFIID riid, void **ppv);
    ULONG(WINAPI *AddRef)(IEventIsCacheable *This);
    ULONG(WINAPI *Release)(IEventIsCacheable *This);
    HRESULT(WINAPI *IsCacheable)(IEventIsCacheable *This);
} IEventIsCacheableVtbl;
struct IEventIsCacheable {
    const IEventIsCacheableVtbl *lpVtbl;
};

#define SINK_PROGID L"TLSRouter.Sink"
#define SINK_PROGID_VERSIONED L"TLSRouter.Sink.1"
#define SINK_CLASS_NAME L"TLS Router Sink"
/* The Event Log source and the registry key that declares it. */
#define SINK_EVENT_SOURCE L"TLS Router"
#define SINK_EVENTLOG_KEY \
    L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" SINK_EVENT_SOURCE

/* Module counts: live COM objects (sink objects and class factories) and
 * IClassFactory::LockServer locks. DllCanUnloadNow says S_OK only when both
 * are zero. */
void sink_module_object_created(void);
void sink_module_object_destroyed(void);
void sink_module_lock(BOOL lock);
HMODULE sink_module_handle(void);

HRESULT sink_factory_create(REFIID riid, void **ppv);
HRESULT sink_object_create(IUnknown *outer, REFIID riid, void **ppv);

/* Handle one message. Never fails outward: on any problem the message is
 * left as it was and the problem is logged. source_instance is the SMTP
 * virtual server the binding belongs to. */
void sink_arrival_process(IMessage *msg, int source_instance);

/* Registry entries for the class, its ProgIDs and the Event Log source. */
HRESULT sink_register_server(void);
HRESULT sink_unregister_server(void);

/* Event Log. Levels follow the core's settings: 0 error .. 4 full-debug. */
enum { SINK_LOG_ERROR = 0, SINK_LOG_WARNING, SINK_LOG_INFO, SINK_LOG_DEBUG, SINK_LOG_FULL };
void sink_log_set_level(int level);
/* Report msg_id (from resources/tlsrouter_msg.mc) with count UTF-8
 * insertion strings (const char *, NULL reads as ""), if level is within the
 * configured level. Never fails outward. */
void sink_log_event(int level, DWORD msg_id, int count, ...);
void sink_log_shutdown(void);

#endif
