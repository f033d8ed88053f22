/* sink_log: reports to the Windows Event Log (Application, source "TLS
 * Router"), filtered by the configured log level. The texts live in the
 * DLL's message table (resources/tlsrouter_msg.mc), which the source's
 * EventMessageFile points at, so Event Viewer shows them in full. The same
 * text, formatted from that table, goes to the database's log table, which
 * the manager shows. */
#include "sink.h"
#include "sink_route.h"

#include <stdarg.h>
#include <stdlib.h>

#define SINK_LOG_MAX_STRINGS 8
/* One insertion string is cut at this many UTF-16 units: the Event Log
 * refuses records over 32K characters. */
#define SINK_LOG_MAX_STRING 4000

static SRWLOCK log_lock = SRWLOCK_INIT;
static HANDLE log_source;
static volatile LONG configured_level = SINK_LOG_INFO;

void sink_log_set_level(int level)
{
    if (level >= SINK_LOG_ERROR && level <= SINK_LOG_FULL)
        InterlockedExchange(&configured_level, level);
}

static WORD event_type_of(DWORD msg_id)
{
    switch (msg_id >> 30) { /* the severity bits windmc put in the id */
    case 3:
        return EVENTLOG_ERROR_TYPE;
    case 2:
        return EVENTLOG_WARNING_TYPE;
    default:
        return EVENTLOG_INFORMATION_TYPE;
    }
}

/* UTF-8 to a malloc'd UTF-16 string of at most SINK_LOG_MAX_STRING units;
 * invalid bytes become U+FFFD rather than losing the whole report. */
static wchar_t *widen_bounded(const char *s)
{
    int n;
    wchar_t *w;
    if (!s)
        s = "";
    n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    w = malloc((size_t)n * sizeof *w);
    if (!w)
        return NULL;
    if (MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) != n) {
        free(w);
        return NULL;
    }
    if (n > SINK_LOG_MAX_STRING)
        w[SINK_LOG_MAX_STRING - 1] = L'\0';
    return w;
}

/* The registered source handle, opened on first use. NULL if the Event Log
 * cannot be reached; we then stay silent rather than fail the message. */
static HANDLE source_handle(void)
{
    HANDLE h;
    AcquireSRWLockShared(&log_lock);
    h = log_source;
    ReleaseSRWLockShared(&log_lock);
    if (h)
        return h;
    AcquireSRWLockExclusive(&log_lock);
    if (!log_source)
        log_source = RegisterEventSourceW(NULL, SINK_EVENT_SOURCE);
    h = log_source;
    ReleaseSRWLockExclusive(&log_lock);
    return h;
}

/* The message as Event Viewer would show it, on one line, in UTF-8. */
static int format_line(DWORD msg_id, wchar_t **strings, char *out, size_t len)
{
    wchar_t text[SINK_LOG_MAX_STRING];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY |
                                 FORMAT_MESSAGE_MAX_WIDTH_MASK,
                             sink_module_handle(), msg_id, 0, text, SINK_LOG_MAX_STRING,
                             (va_list *)strings);
    if (n == 0)
        return -1;
    while (n > 0 && text[n - 1] == L' ')
        text[--n] = L'\0';
    return WideCharToMultiByte(CP_UTF8, 0, text, -1, out, (int)len, NULL, NULL) > 0 ? 0 : -1;
}

void sink_log_event(int level, DWORD msg_id, int count, ...)
{
    wchar_t *strings[SINK_LOG_MAX_STRINGS];
    char line[SINK_LOG_MAX_STRING];
    int n = 0;
    va_list ap;
    HANDLE source;

    if (level > InterlockedCompareExchange(&configured_level, 0, 0))
        return;
    if (count > SINK_LOG_MAX_STRINGS)
        count = SINK_LOG_MAX_STRINGS;
    va_start(ap, count);
    for (; n < count; n++) {
        strings[n] = widen_bounded(va_arg(ap, const char *));
        if (!strings[n])
            break;
    }
    va_end(ap);
    if (n == count) {
        if (format_line(msg_id, strings, line, sizeof line) == 0)
            sink_route_log(level, line);
        source = source_handle();
        /* Held shared so the handle is not deregistered under us. */
        AcquireSRWLockShared(&log_lock);
        if (source && log_source == source)
            ReportEventW(log_source, event_type_of(msg_id), 0, msg_id, NULL, (WORD)n, 0,
                         (LPCWSTR *)strings, NULL);
        ReleaseSRWLockShared(&log_lock);
    }
    while (n > 0)
        free(strings[--n]);
}

void sink_log_shutdown(void)
{
    AcquireSRWLockExclusive(&log_lock);
    if (log_source) {
        DeregisterEventSource(log_source);
        log_source = NULL;
    }
    ReleaseSRWLockExclusive(&log_lock);
}
