/* trtest on Windows: CreateProcessW with output in temporary files, the
 * read-only attribute, recursive removal. Paths and arguments are UTF-8. */
#ifdef _WIN32
#include "trtest.h"

#include <windows.h>
#include <malloc.h>
#include <psapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static wchar_t *widen(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w && MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

static int set_readonly_attr(const char *path, int on)
{
    wchar_t *w = widen(path);
    DWORD a = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
    int ok = a != INVALID_FILE_ATTRIBUTES
             && SetFileAttributesW(w, on ? (a | FILE_ATTRIBUTE_READONLY)
                                         : (a & ~(DWORD)FILE_ATTRIBUTE_READONLY));
    free(w);
    return ok ? 0 : -1;
}

/* Under Wine a process running as root may write a file whatever its
 * read-only attribute says (Wine maps the attribute to Unix permission bits,
 * which root ignores). There, as in the native tests, the Linux immutable
 * flag is what binds root; Wine's start /unix runs chattr. start does not
 * wait for a Unix program, so the caller polls for the effect (wait_until).
 * -1 on Windows. */
static int wine_chattr(const wchar_t *path, const char *flag)
{
    typedef char *(CDECL * unix_name_fn)(const wchar_t *);
    HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
    unix_name_fn to_unix =
        (unix_name_fn)(void (*)(void))GetProcAddress(k32, "wine_get_unix_file_name");
    char *unix_path = to_unix ? to_unix(path) : NULL;
    trtest_result res;
    if (!unix_path)
        return -1;
    const char *args[] = { "/wait", "/unix", "/usr/bin/chattr", flag, unix_path, NULL };
    int rc = trtest_run("start.exe", args, NULL, &res);
    trtest_result_free(&res);
    HeapFree(GetProcessHeap(), 0, unix_path);
    return rc;
}

static int writable_now(const wchar_t *path)
{
    HANDLE h = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return 0;
    CloseHandle(h);
    return 1;
}

/* Poll until the file's writability is as wanted, for at most 5 s. */
static int wait_until_writable(const wchar_t *path, int want)
{
    for (int i = 0; i < 500; i++) {
        if (writable_now(path) == want)
            return 0;
        Sleep(10);
    }
    return -1;
}

int trtest_make_readonly(const char *path)
{
    wchar_t *w = widen(path);
    int rc = -1;
    if (w && set_readonly_attr(path, 1) == 0) {
        if (writable_now(w) && wine_chattr(w, "+i") == 0)
            (void)wait_until_writable(w, 0);
        rc = writable_now(w) ? -1 : 0;
    }
    free(w);
    return rc;
}

int trtest_make_writable(const char *path)
{
    wchar_t *w = widen(path);
    /* The immutable flag first: while it is set, not even the attribute changes. */
    if (w && !writable_now(w) && wine_chattr(w, "-i") == 0)
        (void)wait_until_writable(w, 1);
    int rc = set_readonly_attr(path, 0);
    if (!w || !writable_now(w))
        rc = -1;
    free(w);
    return rc;
}

/* Windows has no root that ignores the read-only attribute (Wine as root
 * is handled by trtest_make_readonly): the checks run as this user. */
int trtest_give_to_unprivileged(const char *tree)
{
    (void)tree;
    return 0;
}

int trtest_unprivileged(int (*fn)(void *arg), void *arg) { return fn(arg); }

int trtest_run_cli_unprivileged(const char *const *args, trtest_result *res)
{
    return trtest_run_cli(args, res);
}

/* PagefileUsage is the process's commit charge, its private memory
 * (Windows reports the same in PrivateUsage; Wine fills only the former). */
long trtest_private_kb(void)
{
    PROCESS_MEMORY_COUNTERS pmc;
    pmc.cb = sizeof pmc;
    if (!K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
        return -1;
    return (long)(pmc.PagefileUsage / 1024);
}

long trtest_heap_in_use_kb(void)
{
    _HEAPINFO hi;
    unsigned long long used = 0;
    int rc;
    hi._pentry = NULL;
    while ((rc = _heapwalk(&hi)) == _HEAPOK)
        if (hi._useflag == _USEDENTRY)
            used += hi._size;
    return rc == _HEAPEND ? (long)(used / 1024) : -1;
}

int trtest_set_mtime(const char *path, long long wall_ms)
{
    wchar_t *w = widen(path);
    HANDLE h = w ? CreateFileW(w, FILE_WRITE_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE,
                               NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL)
                 : INVALID_HANDLE_VALUE;
    /* 100 ns ticks since 1601. */
    ULARGE_INTEGER t;
    t.QuadPart = (unsigned long long)wall_ms * 10000ULL + 116444736000000000ULL;
    FILETIME ft = { t.LowPart, t.HighPart };
    int ok = h != INVALID_HANDLE_VALUE && SetFileTime(h, NULL, &ft, &ft);
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    free(w);
    return ok ? 0 : -1;
}

static int remove_tree_w(const wchar_t *dir)
{
    size_t len = wcslen(dir);
    wchar_t *pattern = malloc((len + 3) * sizeof *pattern);
    WIN32_FIND_DATAW fd;
    int rc = 0;
    if (!pattern)
        return -1;
    swprintf(pattern, len + 3, L"%ls\\*", dir);
    HANDLE h = FindFirstFileW(pattern, &fd);
    free(pattern);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
                continue;
            size_t n = len + wcslen(fd.cFileName) + 2;
            wchar_t *child = malloc(n * sizeof *child);
            if (!child) {
                rc = -1;
                continue;
            }
            swprintf(child, n, L"%ls\\%ls", dir, fd.cFileName);
            SetFileAttributesW(child, FILE_ATTRIBUTE_NORMAL |
                                          (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY));
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
                rc |= remove_tree_w(child);
            else if (!DeleteFileW(child)
                     && (wine_chattr(child, "-i") != 0 || wait_until_writable(child, 1) != 0
                         || !DeleteFileW(child)))
                rc = -1;
            free(child);
        } while (FindNextFileW(h, &fd));
        FindClose(h);
    }
    if (!RemoveDirectoryW(dir))
        rc = -1;
    return rc;
}

int trtest_remove_tree(const char *path)
{
    wchar_t *w = widen(path);
    int rc = w ? remove_tree_w(w) : -1;
    free(w);
    return rc;
}

void trtest_setenv(const char *name, const char *value)
{
    wchar_t *n = widen(name);
    wchar_t *v = value ? widen(value) : NULL;
    if (n)
        SetEnvironmentVariableW(n, v);
    /* The C runtime keeps its own copy of the environment for getenv. */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s=%s", name, value ? value : "");
    _putenv(buf);
    free(n);
    free(v);
}

/* Append arg to the command line quoted the way the C runtime parses it:
 * backslashes are literal except before a quote. */
static void append_quoted(wchar_t *cmd, size_t *at, const wchar_t *arg)
{
    int plain = *arg && !wcspbrk(arg, L" \t\"");
    if (plain) {
        for (const wchar_t *p = arg; *p; p++)
            cmd[(*at)++] = *p;
        return;
    }
    cmd[(*at)++] = L'"';
    for (const wchar_t *p = arg;; p++) {
        size_t slashes = 0;
        while (*p == L'\\') {
            slashes++;
            p++;
        }
        size_t copies = (*p == L'"' || *p == L'\0') ? slashes * 2 : slashes;
        for (size_t i = 0; i < copies; i++)
            cmd[(*at)++] = L'\\';
        if (*p == L'\0')
            break;
        if (*p == L'"')
            cmd[(*at)++] = L'\\';
        cmd[(*at)++] = *p;
    }
    cmd[(*at)++] = L'"';
}

static wchar_t *build_command_line(const char *program, const char *const *args)
{
    size_t need = strlen(program) * 2 + 3, n = 0;
    for (size_t i = 0; args && args[i]; i++)
        need += strlen(args[i]) * 2 + 3;
    wchar_t *cmd = malloc((need + 1) * sizeof *cmd);
    if (!cmd)
        return NULL;
    for (size_t i = 0; i == 0 || (args && args[i - 1]); i++) {
        wchar_t *w = widen(i == 0 ? program : args[i - 1]);
        if (!w) {
            free(cmd);
            return NULL;
        }
        if (i > 0)
            cmd[n++] = L' ';
        append_quoted(cmd, &n, w);
        free(w);
    }
    cmd[n] = L'\0';
    return cmd;
}

int trtest_temp_dir(const char *tag, char *buf, size_t len)
{
    wchar_t wtmp[MAX_PATH];
    char tmp[MAX_PATH * 3];
    if (!GetTempPathW(MAX_PATH, wtmp)
        || WideCharToMultiByte(CP_UTF8, 0, wtmp, -1, tmp, (int)sizeof tmp, NULL, NULL) <= 0)
        return -1;
    /* The process id and the clock make the name; a name already taken
     * (another test at the same tick) moves on to the next attempt. */
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        int n = snprintf(buf, len, "%stlsrouter-%s-%lu-%lu-%u", tmp, tag,
                         (unsigned long)GetCurrentProcessId(), (unsigned long)GetTickCount(),
                         attempt);
        if (n <= 0 || (size_t)n >= len)
            return -1;
        wchar_t *w = widen(buf);
        int made = w && CreateDirectoryW(w, NULL);
        free(w);
        if (made)
            return 0;
    }
    return -1;
}

/* A temporary file deleted when its last handle closes, inheritable. */
static HANDLE temp_file(void)
{
    wchar_t dir[MAX_PATH], path[MAX_PATH];
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    if (!GetTempPathW(MAX_PATH, dir) || !GetTempFileNameW(dir, L"trt", 0, path))
        return INVALID_HANDLE_VALUE;
    return CreateFileW(path, GENERIC_READ | GENERIC_WRITE,
                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa,
                       CREATE_ALWAYS, FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE,
                       NULL);
}

static char *read_handle(HANDLE h)
{
    LARGE_INTEGER zero = { 0 }, size;
    DWORD got = 0;
    if (!SetFilePointerEx(h, zero, NULL, FILE_BEGIN) || !GetFileSizeEx(h, &size)
        || size.QuadPart > 64 * 1024 * 1024)
        return NULL;
    char *buf = malloc((size_t)size.QuadPart + 1);
    if (buf && size.QuadPart > 0 && !ReadFile(h, buf, (DWORD)size.QuadPart, &got, NULL)) {
        free(buf);
        return NULL;
    }
    if (buf)
        buf[got] = '\0';
    return buf;
}

/* Handles made inheritable for one child must not leak into a child that
 * another thread starts at the same moment: one start at a time. */
static SRWLOCK spawn_lock = SRWLOCK_INIT;

int trtest_run(const char *program, const char *const *args, const char *stdin_text,
               trtest_result *res)
{
    PROCESS_INFORMATION pi;
    STARTUPINFOW si;
    DWORD code = (DWORD)-1, wrote = 0;
    int started = 0;
    res->exit_code = -1;
    res->out = res->err = NULL;
    wchar_t *cmd = build_command_line(program, args);
    if (!cmd)
        return -1;
    AcquireSRWLockExclusive(&spawn_lock);
    HANDLE in = temp_file(), out = temp_file(), err = temp_file();
    if (in != INVALID_HANDLE_VALUE && out != INVALID_HANDLE_VALUE && err != INVALID_HANDLE_VALUE) {
        DWORD len = stdin_text ? (DWORD)strlen(stdin_text) : 0;
        LARGE_INTEGER zero = { 0 };
        if ((len == 0 || WriteFile(in, stdin_text, len, &wrote, NULL))
            && SetFilePointerEx(in, zero, NULL, FILE_BEGIN)) {
            memset(&si, 0, sizeof si);
            si.cb = sizeof si;
            si.dwFlags = STARTF_USESTDHANDLES;
            si.hStdInput = in;
            si.hStdOutput = out;
            si.hStdError = err;
            started = CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
        }
    }
    /* Nothing inheritable stays open in this process once the child has its copies. */
    if (in != INVALID_HANDLE_VALUE)
        SetHandleInformation(in, HANDLE_FLAG_INHERIT, 0);
    if (out != INVALID_HANDLE_VALUE)
        SetHandleInformation(out, HANDLE_FLAG_INHERIT, 0);
    if (err != INVALID_HANDLE_VALUE)
        SetHandleInformation(err, HANDLE_FLAG_INHERIT, 0);
    ReleaseSRWLockExclusive(&spawn_lock);
    free(cmd);
    if (started) {
        WaitForSingleObject(pi.hProcess, INFINITE);
        GetExitCodeProcess(pi.hProcess, &code);
        CloseHandle(pi.hProcess);
        CloseHandle(pi.hThread);
        res->exit_code = (int)code;
        res->out = read_handle(out);
        res->err = read_handle(err);
    }
    if (in != INVALID_HANDLE_VALUE)
        CloseHandle(in);
    if (out != INVALID_HANDLE_VALUE)
        CloseHandle(out);
    if (err != INVALID_HANDLE_VALUE)
        CloseHandle(err);
    return started && res->out && res->err ? 0 : -1;
}
#endif
