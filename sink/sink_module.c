/* sink_module: the DLL's entry points and its object and lock counts.
 *
 * Shutdown: the engine (SQLite handle, probe threads) is closed in
 * DllCanUnloadNow when no object and no lock is left, that is when COM is
 * about to unload us, and never in DllMain: with the loader lock held,
 * joining threads or closing files that other threads use can deadlock the
 * SMTP service. If the process simply exits, the system reclaims everything
 * and SQLite's journal keeps the database consistent. */
#include "sink.h"
#include "sink_route.h"

static HMODULE module_handle;
static volatile LONG object_count;
static volatile LONG lock_count;

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);
HRESULT WINAPI DllGetClassObject(REFCLSID rclsid, REFIID riid, LPVOID *ppv);
HRESULT WINAPI DllCanUnloadNow(void);
HRESULT WINAPI DllRegisterServer(void);
HRESULT WINAPI DllUnregisterServer(void);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH) {
        module_handle = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}

HMODULE sink_module_handle(void) { return module_handle; }

void sink_module_object_created(void) { InterlockedIncrement(&object_count); }
void sink_module_object_destroyed(void) { InterlockedDecrement(&object_count); }

void sink_module_lock(BOOL lock)
{
    if (lock)
        InterlockedIncrement(&lock_count);
    else
        InterlockedDecrement(&lock_count);
}

HRESULT WINAPI DllGetClassObject(REFCLSID rclsid, REFIID riid, LPVOID *ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!IsEqualCLSID(rclsid, &CLSID_TlsRouterSink))
        return CLASS_E_CLASSNOTAVAILABLE;
    return sink_factory_create(riid, ppv);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    if (InterlockedCompareExchange(&object_count, 0, 0) != 0 ||
        InterlockedCompareExchange(&lock_count, 0, 0) != 0)
        return S_FALSE;
    /* Nothing of ours is alive: release the engine and the Event Log handle
     * now, while we are still allowed to wait for them. A message arriving
     * after this reopens them on first use. */
    sink_route_shutdown();
    sink_log_shutdown();
    return S_OK;
}

HRESULT WINAPI DllRegisterServer(void) { return sink_register_server(); }
HRESULT WINAPI DllUnregisterServer(void) { return sink_unregister_server(); }
