/* plat on Windows: SRW locks, Win32 threads, wide-character file APIs.
 * Core paths are UTF-8; they are widened here and nowhere else. */
#include "plat.h"

#include <windows.h>
#include <shlobj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

uint64_t plat_now_ms(void) { return GetTickCount64(); }

/* The performance counter: GetTickCount64 moves in 10-16 ms steps. Its
 * frequency is fixed at boot, read once. */
static LARGE_INTEGER perf_freq;
static plat_once perf_once = PLAT_ONCE_INIT;

static void read_perf_freq(void) { QueryPerformanceFrequency(&perf_freq); }

uint64_t plat_now_us(void)
{
    LARGE_INTEGER now;
    plat_once_run(&perf_once, read_perf_freq);
    QueryPerformanceCounter(&now);
    uint64_t f = (uint64_t)perf_freq.QuadPart, t = (uint64_t)now.QuadPart;
    return t / f * 1000000u + t % f * 1000000u / f;
}

int64_t plat_wall_ms(void)
{
    FILETIME ft;
    ULARGE_INTEGER t;
    GetSystemTimeAsFileTime(&ft);
    t.LowPart = ft.dwLowDateTime;
    t.HighPart = ft.dwHighDateTime;
    /* 100 ns ticks since 1601 to ms since 1970. */
    return (int64_t)((t.QuadPart - 116444736000000000ULL) / 10000ULL);
}

void plat_sleep_ms(unsigned ms) { Sleep(ms); }

int plat_gmtime(int64_t unix_s, struct tm *out)
{
    time_t t = (time_t)unix_s;
    return gmtime_s(out, &t) == 0 ? 0 : -1;
}

struct plat_mutex { SRWLOCK lock; };

plat_mutex *plat_mutex_new(void)
{
    plat_mutex *m = malloc(sizeof *m);
    if (m)
        InitializeSRWLock(&m->lock);
    return m;
}

void plat_mutex_free(plat_mutex *m) { free(m); }
void plat_mutex_lock(plat_mutex *m) { AcquireSRWLockExclusive(&m->lock); }
void plat_mutex_unlock(plat_mutex *m) { ReleaseSRWLockExclusive(&m->lock); }

struct plat_cond { CONDITION_VARIABLE cv; };

plat_cond *plat_cond_new(void)
{
    plat_cond *c = malloc(sizeof *c);
    if (c)
        InitializeConditionVariable(&c->cv);
    return c;
}

void plat_cond_free(plat_cond *c) { free(c); }

void plat_cond_wait_ms(plat_cond *c, plat_mutex *m, unsigned ms)
{
    SleepConditionVariableSRW(&c->cv, &m->lock, ms, 0);
}

void plat_cond_signal(plat_cond *c) { WakeConditionVariable(&c->cv); }
void plat_cond_broadcast(plat_cond *c) { WakeAllConditionVariable(&c->cv); }

/* A manual-reset event: SetEvent releases every waiter at once. */
struct plat_event { HANDLE handle; };

plat_event *plat_event_new(void)
{
    plat_event *e = malloc(sizeof *e);
    if (e && !(e->handle = CreateEventW(NULL, TRUE, FALSE, NULL))) {
        free(e);
        e = NULL;
    }
    return e;
}

void plat_event_free(plat_event *e)
{
    if (!e)
        return;
    CloseHandle(e->handle);
    free(e);
}

void plat_event_set(plat_event *e) { SetEvent(e->handle); }

int plat_event_wait_ms(plat_event *e, unsigned ms)
{
    return WaitForSingleObject(e->handle, ms) == WAIT_OBJECT_0;
}

struct plat_thread {
    HANDLE handle;
    plat_thread_fn fn;
    void *arg;
};

static DWORD WINAPI thread_trampoline(LPVOID p)
{
    plat_thread *t = p;
    t->fn(t->arg);
    /* OpenSSL keeps per-thread state (error queue, random generators) that
     * only this call frees when the library is linked statically, as in
     * the Windows build (no DllMain sees the thread end); the sink starts
     * threads for every probe all day. Harmless where a thread never used
     * OpenSSL or the library also cleans up itself (pthread keys). */
    OPENSSL_thread_stop();
    return 0;
}

plat_thread *plat_thread_start(plat_thread_fn fn, void *arg)
{
    plat_thread *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    t->handle = CreateThread(NULL, 0, thread_trampoline, t, 0, NULL);
    if (!t->handle) {
        free(t);
        return NULL;
    }
    return t;
}

void plat_thread_join(plat_thread *t)
{
    if (!t)
        return;
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
    free(t);
}

/* A TLS slot of its own (not the compiler's thread-local variables, which
 * the static build emulates with memory per thread it may not free for
 * IIS's threads). Without a slot every take says set: the state is then
 * freed every time, as before the flag. */
static DWORD flag_slot = TLS_OUT_OF_INDEXES;
static plat_once flag_once = PLAT_ONCE_INIT;

static void alloc_flag_slot(void) { flag_slot = TlsAlloc(); }

void plat_thread_flag_set(void)
{
    plat_once_run(&flag_once, alloc_flag_slot);
    if (flag_slot != TLS_OUT_OF_INDEXES)
        TlsSetValue(flag_slot, (LPVOID)1);
}

int plat_thread_flag_take(void)
{
    plat_once_run(&flag_once, alloc_flag_slot);
    if (flag_slot == TLS_OUT_OF_INDEXES)
        return 1;
    int was = TlsGetValue(flag_slot) != NULL;
    if (was)
        TlsSetValue(flag_slot, NULL);
    return was;
}

static INIT_ONCE once_guard = INIT_ONCE_STATIC_INIT;
static SRWLOCK once_lock;

static BOOL CALLBACK init_once_lock(PINIT_ONCE o, PVOID p, PVOID *ctx)
{
    InitializeSRWLock(&once_lock);
    return TRUE;
}

void plat_once_run(plat_once *once, void (*fn)(void))
{
    if (InterlockedCompareExchange(&once->state, 2, 2) == 2)
        return;
    InitOnceExecuteOnce(&once_guard, init_once_lock, NULL, NULL);
    AcquireSRWLockExclusive(&once_lock);
    if (once->state != 2) {
        fn();
        InterlockedExchange(&once->state, 2);
    }
    ReleaseSRWLockExclusive(&once_lock);
}

/* UTF-8 to a malloc'd wide string; NULL on failure. */
static wchar_t *widen(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;
    if (n <= 0)
        return NULL;
    w = malloc((size_t)n * sizeof *w);
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

static int narrow(const wchar_t *w, char *buf, size_t len)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)len, NULL, NULL);
    return n > 0 ? 0 : -1;
}

static void set_err(char *err, size_t errlen, const char *what, const char *path)
{
    DWORD code = GetLastError();
    char msg[256] = "";
    if (!err || !errlen)
        return;
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                   code, 0, msg, sizeof msg, NULL);
    msg[strcspn(msg, "\r\n")] = '\0';
    snprintf(err, errlen, "%s %s: %s (error %lu)", what, path, msg, (unsigned long)code);
}

int plat_default_db_path(char *buf, size_t len)
{
    wchar_t wbuf[MAX_PATH];
    const char *env = getenv("TLSROUTER_DB");
    char base[PLAT_PATH_MAX];
    int n;
    if (env && *env) {
        n = snprintf(buf, len, "%s", env);
        return (n > 0 && (size_t)n < len) ? 0 : -1;
    }
    if (SHGetFolderPathW(NULL, CSIDL_COMMON_APPDATA, NULL, 0, wbuf) != S_OK
        || narrow(wbuf, base, sizeof base) != 0)
        return -1;
    n = snprintf(buf, len, "%s\\TLS Router\\tlsrouter.db", base);
    return (n > 0 && (size_t)n < len) ? 0 : -1;
}

int plat_hostname(char *buf, size_t len)
{
    wchar_t w[256];
    DWORD n = 256;
    if (!GetComputerNameExW(ComputerNameDnsFullyQualified, w, &n))
        return -1;
    return narrow(w, buf, len);
}

int plat_mkdir(const char *path)
{
    wchar_t *w = widen(path);
    int ok;
    if (!w)
        return -1;
    ok = CreateDirectoryW(w, NULL) || GetLastError() == ERROR_ALREADY_EXISTS;
    free(w);
    return ok ? 0 : -1;
}

int plat_is_dir(const char *path)
{
    wchar_t *w = widen(path);
    DWORD a;
    if (!w)
        return 0;
    a = GetFileAttributesW(w);
    free(w);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

int plat_write_new_file(const char *path, const void *buf, size_t len,
                        char *err, size_t errlen)
{
    wchar_t *w = widen(path);
    HANDLE h;
    const unsigned char *p = buf;
    int ok = 1;
    if (!w) {
        SetLastError(ERROR_INVALID_NAME);
        set_err(err, errlen, "cannot create", path);
        return -1;
    }
    h = CreateFileW(w, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        set_err(err, errlen, "cannot create", path);
        free(w);
        return -1;
    }
    while (ok && len > 0) {
        DWORD chunk = len > 0x40000000u ? 0x40000000u : (DWORD)len, wrote = 0;
        ok = WriteFile(h, p, chunk, &wrote, NULL) && wrote == chunk;
        p += chunk;
        len -= chunk;
    }
    ok = ok && FlushFileBuffers(h);
    if (!ok)
        set_err(err, errlen, "cannot write", path);
    CloseHandle(h);
    if (!ok)
        DeleteFileW(w);
    free(w);
    return ok ? 0 : -1;
}

int plat_rename_noreplace(const char *from, const char *to, char *err, size_t errlen)
{
    wchar_t *wf = widen(from), *wt = widen(to);
    /* Without MOVEFILE_REPLACE_EXISTING the move fails rather than overwrite;
     * WRITE_THROUGH returns only once the rename is on disk. */
    int ok = wf && wt && MoveFileExW(wf, wt, MOVEFILE_WRITE_THROUGH);
    if (!ok)
        set_err(err, errlen, "cannot move into", to);
    free(wf);
    free(wt);
    return ok ? 0 : -1;
}

int plat_remove(const char *path)
{
    wchar_t *w = widen(path);
    int ok = w && DeleteFileW(w);
    free(w);
    return ok ? 0 : -1;
}

/* FILETIME (100 ns ticks since 1601) to Unix milliseconds. */
static int64_t filetime_ms(FILETIME ft)
{
    ULARGE_INTEGER t;
    t.LowPart = ft.dwLowDateTime;
    t.HighPart = ft.dwHighDateTime;
    return (int64_t)(t.QuadPart / 10000ULL) - 11644473600000LL;
}

int plat_list_files(const char *dir, plat_file_fn fn, void *arg)
{
    char pattern[PLAT_PATH_MAX + 4], name[PLAT_PATH_MAX];
    WIN32_FIND_DATAW fd;
    int n = snprintf(pattern, sizeof pattern, "%s\\*", dir);
    wchar_t *w = n > 0 && (size_t)n < sizeof pattern ? widen(pattern) : NULL;
    HANDLE h = w ? FindFirstFileW(w, &fd) : INVALID_HANDLE_VALUE;
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    do {
        /* Folders and reparse points (links) are not the folder's own files. */
        if (fd.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT))
            continue;
        if (narrow(fd.cFileName, name, sizeof name) != 0)
            continue;
        if (fn(name, filetime_ms(fd.ftLastWriteTime), arg) != 0)
            break;
    } while (FindNextFileW(h, &fd));
    FindClose(h);
    return 0;
}

const char *plat_dir_sep(void) { return "\\"; }

unsigned long plat_pid(void) { return (unsigned long)GetCurrentProcessId(); }
