/* host_util: process and file helpers for the Windows tests. */
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static HANDLE open_inheritable(const wchar_t *path)
{
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    return CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_ALWAYS,
                       FILE_ATTRIBUTE_NORMAL, NULL);
}

int host_run_capture(const wchar_t *command_line, const wchar_t *out_path, const wchar_t *err_path,
                     DWORD timeout_ms)
{
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    DWORD code = (DWORD)-1;
    HANDLE out = INVALID_HANDLE_VALUE, err = INVALID_HANDLE_VALUE;
    wchar_t *cmd = _wcsdup(command_line); /* CreateProcessW may write to it */
    BOOL started;
    if (!cmd)
        return -1;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (out_path && err_path) {
        out = open_inheritable(out_path);
        err = open_inheritable(err_path);
        if (out == INVALID_HANDLE_VALUE || err == INVALID_HANDLE_VALUE)
            goto done;
        si.dwFlags = STARTF_USESTDHANDLES;
        si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
        si.hStdOutput = out;
        si.hStdError = err;
    }
    started = CreateProcessW(NULL, cmd, NULL, NULL, out_path != NULL, 0, NULL, NULL, &si, &pi);
    if (!started)
        goto done;
    if (WaitForSingleObject(pi.hProcess, timeout_ms) != WAIT_OBJECT_0) {
        TerminateProcess(pi.hProcess, 1);
        code = (DWORD)-1;
    } else if (!GetExitCodeProcess(pi.hProcess, &code)) {
        code = (DWORD)-1;
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
done:
    free(cmd);
    if (out != INVALID_HANDLE_VALUE)
        CloseHandle(out);
    if (err != INVALID_HANDLE_VALUE)
        CloseHandle(err);
    return (int)code;
}

int host_run(const wchar_t *command_line, DWORD timeout_ms)
{
    return host_run_capture(command_line, NULL, NULL, timeout_ms);
}

int host_regsvr32(const wchar_t *dll, int unregister)
{
    wchar_t cmd[MAX_PATH + 64];
    swprintf(cmd, sizeof cmd / sizeof *cmd, L"regsvr32.exe /s %ls\"%ls\"", unregister ? L"/u " : L"",
             dll);
    return host_run(cmd, 60000);
}

static wchar_t *widen(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w)
        MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
    return w;
}

static char *narrow(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;
    if (s)
        WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    return s;
}

int host_list_files(const char *dir, char ***paths)
{
    char pattern[MAX_PATH * 2];
    wchar_t *wpattern;
    WIN32_FIND_DATAW fd;
    HANDLE h;
    int n = 0, cap = 0;
    *paths = NULL;
    snprintf(pattern, sizeof pattern, "%s\\*", dir);
    wpattern = widen(pattern);
    if (!wpattern)
        return -1;
    h = FindFirstFileW(wpattern, &fd);
    free(wpattern);
    if (h == INVALID_HANDLE_VALUE)
        return GetLastError() == ERROR_FILE_NOT_FOUND ? 0 : -1;
    do {
        char *name, full[MAX_PATH * 2];
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
            continue;
        if (n == cap) {
            char **grown = realloc(*paths, (size_t)(cap = cap ? cap * 2 : 8) * sizeof *grown);
            if (!grown)
                break;
            *paths = grown;
        }
        name = narrow(fd.cFileName);
        if (!name)
            break;
        snprintf(full, sizeof full, "%s\\%s", dir, name);
        free(name);
        (*paths)[n] = _strdup(full);
        if ((*paths)[n])
            n++;
    } while (FindNextFileW(h, &fd));
    FindClose(h);
    return n;
}

void host_free_list(char **paths, int n)
{
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

char *host_read_file(const char *path, size_t *len)
{
    wchar_t *wpath = widen(path);
    FILE *f = wpath ? _wfopen(wpath, L"rb") : NULL;
    char *buf = NULL;
    long size;
    free(wpath);
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL) {
        if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        } else {
            buf[size] = '\0';
            if (len)
                *len = (size_t)size;
        }
    }
    fclose(f);
    return buf;
}

void host_empty_dir(const char *dir)
{
    char **paths;
    int n = host_list_files(dir, &paths);
    for (int i = 0; i < n; i++) {
        wchar_t *w = widen(paths[i]);
        if (w)
            DeleteFileW(w);
        free(w);
    }
    if (n >= 0)
        host_free_list(paths, n);
}
