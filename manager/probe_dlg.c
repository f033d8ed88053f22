/* probe_dlg: "Test a domain". The probe runs on a worker thread and posts
 * its report back, so the window keeps painting and can be closed; a
 * result arriving after the dialog closed is simply freed. The report is
 * Schannel's verdict with OpenSSL's as a second opinion (mgr_probe.c). */
#include <windows.h>
#include <commctrl.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "manager_res.h"
#include "ui.h"

typedef struct probe_job {
    HWND dlg;                     /* where to post the result */
    char db_path[1024];
    char domain[256];
    char *report;                 /* result text (or the error sentence) */
} probe_job;

static unsigned __stdcall probe_worker(void *arg)
{
    probe_job *job = arg;
    char err[MGR_ERR_LEN];
    if (mgr_probe_domain(job->db_path, job->domain, &job->report, err, sizeof err) != 0) {
        size_t len = strlen(err) + 1;
        job->report = malloc(len);
        if (job->report)
            memcpy(job->report, err, len);
    }
    /* The second opinion ran OpenSSL on this thread: its state goes with it. */
    probe_thread_cleanup();
    if (!PostMessageW(job->dlg, WM_APP_PROBEDONE, 0, (LPARAM)job)) {
        /* The dialog is gone; nobody will read the result. */
        free(job->report);
        free(job);
    }
    return 0;
}

/* Multi-line edits need CR LF. */
static void show_report(HWND dlg, const char *report)
{
    size_t n = 0;
    for (const char *p = report; *p; p++)
        n += *p == '\n' ? 2 : 1;
    char *crlf = malloc(n + 1), *o = crlf;
    if (!crlf)
        return;
    for (const char *p = report; *p; p++) {
        if (*p == '\n' && (p == report || p[-1] != '\r'))
            *o++ = '\r';
        *o++ = *p;
    }
    *o = 0;
    ui_set_text_utf8(GetDlgItem(dlg, IDC_PROBE_RESULT), crlf);
    free(crlf);
}

static void set_busy(HWND dlg, BOOL busy)
{
    HWND bar = GetDlgItem(dlg, IDC_PROBE_PROGRESS);
    SendMessageW(bar, PBM_SETMARQUEE, busy, 30);
    ShowWindow(bar, busy ? SW_SHOW : SW_HIDE);
    EnableWindow(GetDlgItem(dlg, IDC_PROBE_START), !busy);
    EnableWindow(GetDlgItem(dlg, IDC_PROBE_DOMAIN), !busy);
}

static void start_probe(HWND dlg, mgr_app *app)
{
    char *domain = ui_get_text_utf8(GetDlgItem(dlg, IDC_PROBE_DOMAIN));
    probe_job *job = calloc(1, sizeof *job);
    if (!domain || !job || !domain[0]) {
        if (domain && !domain[0])
            ui_error(dlg, L"Enter the domain to test, for example example.com.");
        free(domain);
        free(job);
        return;
    }
    job->dlg = dlg;
    snprintf(job->db_path, sizeof job->db_path, "%s", mgr_db_path(app->db));
    snprintf(job->domain, sizeof job->domain, "%s", domain);
    free(domain);
    wchar_t text[300];
    _snwprintf(text, 299, L"Testing %hs: looking up its mail servers and trying STARTTLS...",
               job->domain);
    text[299] = 0;
    SetDlgItemTextW(dlg, IDC_PROBE_RESULT, text);
    set_busy(dlg, TRUE);
    uintptr_t th = _beginthreadex(NULL, 0, probe_worker, job, 0, NULL);
    if (!th) {
        set_busy(dlg, FALSE);
        free(job);
        ui_error(dlg, L"The test could not be started: Windows refused a new thread. Close "
                      L"some programs and try again.");
        return;
    }
    CloseHandle((HANDLE)th);
}

static INT_PTR CALLBACK probe_proc(HWND dlg, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_INITDIALOG:
        SetWindowLongPtrW(dlg, GWLP_USERDATA, lp);
        ShowWindow(GetDlgItem(dlg, IDC_PROBE_PROGRESS), SW_HIDE);
        SendDlgItemMessageW(dlg, IDC_PROBE_DOMAIN, EM_LIMITTEXT, 253, 0);
        return TRUE;
    case WM_APP_PROBEDONE: {
        probe_job *job = (probe_job *)lp;
        set_busy(dlg, FALSE);
        show_report(dlg, job->report ? job->report : "The test ran out of memory.");
        free(job->report);
        free(job);
        SetFocus(GetDlgItem(dlg, IDC_PROBE_DOMAIN));
        return TRUE;
    }
    case WM_COMMAND:
        switch (LOWORD(wp)) {
        case IDOK:
        case IDC_PROBE_START:
            start_probe(dlg, (mgr_app *)GetWindowLongPtrW(dlg, GWLP_USERDATA));
            return TRUE;
        case IDCANCEL:
            EndDialog(dlg, 0);
            return TRUE;
        }
        break;
    }
    return FALSE;
}

void probe_dialog_run(mgr_app *app, HWND owner)
{
    DialogBoxParamW(app->inst, MAKEINTRESOURCEW(IDD_PROBE), owner, probe_proc, (LPARAM)app);
}
