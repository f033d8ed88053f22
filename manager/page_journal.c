/* page_journal: the Journal tab. An owner-data ListView over a journal
 * view (mgr_journal_*): the control asks for the rows it paints, and a
 * small window of rows around them is read on demand, so a journal of a
 * million decisions opens at once. Filters, refresh, auto-refresh, CSV
 * export and the log level of the brief live here too. */
#include <windows.h>
#include <commctrl.h>
#include <commdlg.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "manager_res.h"
#include "plat.h"
#include "ui.h"

#define ROW_CACHE 256             /* rows kept around the visible ones */
#define AUTO_TIMER 1
#define AUTO_MS 5000
#define WM_APP_EXPORTDONE (WM_APP + 20)
#define WM_APP_JOURNALOPEN (WM_APP + 21)

enum { COL_TIME, COL_RECIPIENT, COL_DOMAIN, COL_ROUTE, COL_REASON, COL_MX, COL_TLS, COL_DETAIL };

static const ui_column journal_columns[] = {
    { L"Time", 130 }, { L"Recipient", 180 }, { L"Domain", 130 }, { L"Route", 50 },
    { L"Reason", 115 }, { L"MX", 150 }, { L"TLS version", 75 }, { L"Detail", 400 },
};

static const ui_anchor journal_anchors[] = {
    { IDC_JOURNAL_LIST, UI_WIDTH | UI_HEIGHT },
    { IDC_JOURNAL_COUNT, UI_BOTTOM }, { IDC_JOURNAL_REFRESH, UI_BOTTOM },
    { IDC_JOURNAL_AUTO, UI_BOTTOM }, { IDC_JOURNAL_EXPORT, UI_BOTTOM },
    { IDC_JOURNAL_LEVELLABEL, UI_BOTTOM }, { IDC_JOURNAL_LOGLEVEL, UI_BOTTOM }, { IDC_JOURNAL_SETLEVEL, UI_BOTTOM },
};

static const struct { const wchar_t *label; const char *value; } levels[] = {
    { L"Error", "error" }, { L"Warning", "warning" }, { L"Info", "info" },
    { L"Debug", "debug" }, { L"Full Debug", "full-debug" },
};
#define LEVEL_COUNT ((int)(sizeof levels / sizeof levels[0]))

typedef struct journal_page {
    mgr_app *app;
    ui_layout layout;
    mgr_journal_filter filter;
    mgr_journal_view *view;
    mgr_db *view_db;              /* the view's own connection */
    unsigned seq;                 /* newest open request */
    int loading;
    size_t cache_first;
    long cache_count;
    mgr_journal_row *cache;       /* ROW_CACHE rows */
} journal_page;

static journal_page *page_of(HWND page) { return (journal_page *)GetWindowLongPtrW(page, GWLP_USERDATA); }

static int fill_cache(journal_page *j, size_t first, size_t n)
{
    char err[MGR_ERR_LEN];
    if (n > ROW_CACHE)
        n = ROW_CACHE;
    long got = mgr_journal_read(j->view, first, n, j->cache, err, sizeof err);
    j->cache_first = first;
    j->cache_count = got < 0 ? 0 : got;
    return got < 0 ? -1 : 0;
}

static const mgr_journal_row *row_at(journal_page *j, size_t pos)
{
    if (!j->view)
        return NULL;
    if (pos < j->cache_first || pos >= j->cache_first + (size_t)j->cache_count) {
        /* A miss outside the hinted range: read a window that starts a
         * little before, so scrolling up is cached too. */
        size_t first = pos > 32 ? pos - 32 : 0;
        if (fill_cache(j, first, ROW_CACHE) != 0)
            return NULL;
    }
    if (pos < j->cache_first || pos >= j->cache_first + (size_t)j->cache_count)
        return NULL;
    return &j->cache[pos - j->cache_first];
}

static void cell_text(const mgr_journal_row *r, int col, wchar_t *out, int len)
{
    const char *s = NULL;
    switch (col) {
    case COL_TIME: ui_format_time_ms(r->at_ms, out, (size_t)len); return;
    case COL_RECIPIENT: s = r->recipient; break;
    case COL_DOMAIN: s = r->domain; break;
    case COL_ROUTE: s = r->route; break;
    case COL_REASON: s = r->reason; break;
    case COL_MX: s = r->mx; break;
    case COL_TLS: s = r->tls_version; break;
    default: s = r->detail; break;
    }
    ui_widen(s, out, (size_t)len);
}

static void read_filter(HWND page, mgr_journal_filter *f)
{
    char *text = ui_get_text_utf8(GetDlgItem(page, IDC_JOURNAL_FILTER));
    snprintf(f->text, sizeof f->text, "%s", text ? text : "");
    free(text);
    int route = (int)SendDlgItemMessageW(page, IDC_JOURNAL_ROUTE, CB_GETCURSEL, 0, 0);
    snprintf(f->route, sizeof f->route, "%s", route == 1 ? "tls" : route == 2 ? "plain" : "");
    int reason = (int)SendDlgItemMessageW(page, IDC_JOURNAL_REASON, CB_GETCURSEL, 0, 0);
    const char *name = reason > 0 ? mgr_journal_reason((size_t)(reason - 1)) : NULL;
    snprintf(f->reason, sizeof f->reason, "%s", name ? name : "");
}

/* Opening a view reads the whole index for a filter, which takes a second
 * on a million rows: it runs on a worker thread with its own connection
 * (a store handle serves one thread), and the UI thread takes the finished
 * view over. A newer request makes an older result stale. */
typedef struct open_job {
    HWND page;
    unsigned seq;
    int keep_position;
    int automatic;                /* the auto-refresh timer: no message boxes */
    uint64_t start_ms;
    char db_path[PLAT_PATH_MAX];
    mgr_journal_filter filter;
    mgr_db *db;
    mgr_journal_view *view;
    int rc;
    char err[MGR_ERR_LEN];
} open_job;

static void open_job_free(open_job *job)
{
    mgr_journal_close(job->view);
    mgr_db_close(job->db);
    free(job);
}

static unsigned __stdcall open_worker(void *arg)
{
    open_job *job = arg;
    job->rc = mgr_db_open(job->db_path, &job->db, job->err, sizeof job->err);
    if (job->rc == 0)
        job->rc = mgr_journal_open(job->db, &job->filter, &job->view, job->err, sizeof job->err);
    if (!PostMessageW(job->page, WM_APP_JOURNALOPEN, 0, (LPARAM)job))
        open_job_free(job);
    return 0;
}

static void close_view(journal_page *j)
{
    mgr_journal_close(j->view);
    mgr_db_close(j->view_db);
    j->view = NULL;
    j->view_db = NULL;
    j->cache_count = 0;
}

/* Asks for a fresh view with the current filter; the list keeps showing
 * the old one until the new one is ready. */
static void refresh(HWND page, int keep_position, int automatic)
{
    journal_page *j = page_of(page);
    open_job *job = calloc(1, sizeof *job);
    if (!job)
        return;
    read_filter(page, &j->filter);
    job->page = page;
    job->seq = ++j->seq;
    job->keep_position = keep_position;
    job->automatic = automatic;
    job->start_ms = plat_now_ms();
    job->filter = j->filter;
    snprintf(job->db_path, sizeof job->db_path, "%s", mgr_db_path(j->app->db));
    j->loading = 1;
    if (!automatic)
        SetDlgItemTextW(page, IDC_JOURNAL_COUNT, L"Reading the journal...");
    uintptr_t th = _beginthreadex(NULL, 0, open_worker, job, 0, NULL);
    if (!th) {
        j->loading = 0;
        free(job);
        SetDlgItemTextW(page, IDC_JOURNAL_COUNT, L"The journal could not be read: Windows "
                        L"refused a new thread. Close some programs and click Refresh.");
        return;
    }
    CloseHandle((HANDLE)th);
}

static void refresh_done(HWND page, open_job *job)
{
    journal_page *j = page_of(page);
    HWND lv = GetDlgItem(page, IDC_JOURNAL_LIST);
    if (job->seq != j->seq) {
        open_job_free(job);    /* a newer request is on its way */
        return;
    }
    j->loading = 0;
    if (job->rc != 0) {
        SetDlgItemTextW(page, IDC_JOURNAL_COUNT, L"The journal could not be read.");
        /* Auto-refresh must not pile up message boxes; a click shows why. */
        if (!job->automatic)
            ui_error_utf8(page, job->err);
        open_job_free(job);
        return;
    }
    close_view(j);
    j->view = job->view;
    j->view_db = job->db;
    job->view = NULL;
    job->db = NULL;
    size_t n = mgr_journal_count(j->view);
    ListView_SetItemCountEx(lv, (int)n, job->keep_position ? LVSICF_NOSCROLL : 0);
    if (!job->keep_position && n)
        ListView_EnsureVisible(lv, 0, FALSE);
    InvalidateRect(lv, NULL, FALSE);
    UpdateWindow(lv);
    wchar_t text[128], count[32];
    ui_format_count(n, count, 32);
    _snwprintf(text, 127, L"%ls %ls (shown in %llu ms)", count,
               n == 1 ? L"entry" : L"entries", (unsigned long long)(plat_now_ms() - job->start_ms));
    text[127] = 0;
    SetDlgItemTextW(page, IDC_JOURNAL_COUNT, text);
    open_job_free(job);
}

/* The export's time cells in the list's own format (local time). */
static void export_time(int64_t at_ms, char *buf, size_t len)
{
    wchar_t wt[40];
    ui_format_time_ms(at_ms, wt, 40);
    ui_narrow(wt, buf, len);
}

/* Writes every row of the filter, newest first, to path. */
static int write_csv(mgr_db *db, const mgr_journal_filter *filter, const wchar_t *path,
                     size_t *rows, char *err, size_t errlen)
{
    FILE *f = _wfopen(path, L"wb");
    *rows = 0;
    if (!f) {
        snprintf(err, errlen, "The file could not be created. Choose a folder you can write to.");
        return -1;
    }
    int rc = mgr_journal_export_csv(db, filter, f, export_time, rows, err, errlen);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "The file could not be written completely; the disk may be full.");
        rc = -1;
    }
    return rc;
}

typedef struct export_job {
    HWND page;
    char db_path[PLAT_PATH_MAX];
    mgr_journal_filter filter;
    wchar_t path[MAX_PATH];
    size_t rows;
    int rc;
    char err[MGR_ERR_LEN];
} export_job;

/* A million rows take seconds to write: the export runs on its own thread
 * with its own connection (a store handle serves one thread). */
static unsigned __stdcall export_worker(void *arg)
{
    export_job *job = arg;
    mgr_db *db;
    job->rc = mgr_db_open(job->db_path, &db, job->err, sizeof job->err);
    if (job->rc == 0) {
        job->rc = write_csv(db, &job->filter, job->path, &job->rows, job->err, sizeof job->err);
        mgr_db_close(db);
    }
    if (!PostMessageW(job->page, WM_APP_EXPORTDONE, 0, (LPARAM)job))
        free(job);
    return 0;
}

static void export_done(HWND page, export_job *job)
{
    journal_page *j = page_of(page);
    EnableWindow(GetDlgItem(page, IDC_JOURNAL_EXPORT), TRUE);
    if (job->rc != 0) {
        ui_error_utf8(page, job->err);
    } else {
        wchar_t count[32];
        ui_format_count(job->rows, count, 32);
        app_status(j->app, L"Exported %ls journal entries to %ls.", count, job->path);
    }
    free(job);
}

static void export_csv(HWND page)
{
    journal_page *j = page_of(page);
    export_job *job = calloc(1, sizeof *job);
    if (!job)
        return;
    wcscpy(job->path, L"tlsrouter-journal.csv");
    OPENFILENAMEW ofn = { 0 };
    ofn.lStructSize = sizeof ofn;
    ofn.hwndOwner = page;
    ofn.lpstrFilter = L"CSV files (*.csv)\0*.csv\0All files\0*.*\0";
    ofn.lpstrFile = job->path;
    ofn.nMaxFile = MAX_PATH;
    ofn.lpstrTitle = L"Export Journal";
    ofn.lpstrDefExt = L"csv";
    ofn.Flags = OFN_OVERWRITEPROMPT | OFN_PATHMUSTEXIST | OFN_HIDEREADONLY | OFN_EXPLORER;
    if (!GetSaveFileNameW(&ofn)) {
        free(job);
        return;
    }
    job->page = page;
    job->filter = j->filter;
    snprintf(job->db_path, sizeof job->db_path, "%s", mgr_db_path(j->app->db));
    EnableWindow(GetDlgItem(page, IDC_JOURNAL_EXPORT), FALSE);
    app_status(j->app, L"Exporting the journal to %ls...", job->path);
    uintptr_t th = _beginthreadex(NULL, 0, export_worker, job, 0, NULL);
    if (!th) {
        EnableWindow(GetDlgItem(page, IDC_JOURNAL_EXPORT), TRUE);
        free(job);
        ui_error(page, L"The export could not be started: Windows refused a new thread. "
                       L"Close some programs and try again.");
        return;
    }
    CloseHandle((HANDLE)th);
}

static void change_log_level(HWND page)
{
    journal_page *j = page_of(page);
    char err[MGR_ERR_LEN];
    int sel = (int)SendDlgItemMessageW(page, IDC_JOURNAL_LOGLEVEL, CB_GETCURSEL, 0, 0);
    if (sel < 0 || sel >= LEVEL_COUNT)
        return;
    if (mgr_log_level_set(j->app->db, levels[sel].value, err, sizeof err) != 0) {
        ui_error_utf8(page, err);
        return;
    }
    app_status(j->app, L"Log level changed to %ls. The sink applies it to the next message; "
               L"no restart is needed.", levels[sel].label);
}

static void show_log_level(HWND page)
{
    journal_page *j = page_of(page);
    char level[32], err[MGR_ERR_LEN];
    if (mgr_log_level_get(j->app->db, level, sizeof level, err, sizeof err) != 0)
        return;
    for (int i = 0; i < LEVEL_COUNT; i++)
        if (strcmp(levels[i].value, level) == 0)
            SendDlgItemMessageW(page, IDC_JOURNAL_LOGLEVEL, CB_SETCURSEL, (WPARAM)i, 0);
}

static void init_controls(HWND page)
{
    HWND route = GetDlgItem(page, IDC_JOURNAL_ROUTE), reason = GetDlgItem(page, IDC_JOURNAL_REASON);
    SendMessageW(route, CB_ADDSTRING, 0, (LPARAM)L"All");
    SendMessageW(route, CB_ADDSTRING, 0, (LPARAM)L"tls");
    SendMessageW(route, CB_ADDSTRING, 0, (LPARAM)L"plain");
    SendMessageW(route, CB_SETCURSEL, 0, 0);
    SendMessageW(reason, CB_ADDSTRING, 0, (LPARAM)L"All reasons");
    for (size_t i = 0; mgr_journal_reason(i); i++) {
        wchar_t w[64];
        ui_widen(mgr_journal_reason(i), w, 64);
        SendMessageW(reason, CB_ADDSTRING, 0, (LPARAM)w);
    }
    SendMessageW(reason, CB_SETCURSEL, 0, 0);
    for (int i = 0; i < LEVEL_COUNT; i++)
        SendDlgItemMessageW(page, IDC_JOURNAL_LOGLEVEL, CB_ADDSTRING, 0, (LPARAM)levels[i].label);
    HWND lv = GetDlgItem(page, IDC_JOURNAL_LIST);
    ui_lv_init(lv, journal_columns, (int)(sizeof journal_columns / sizeof journal_columns[0]));
}

static INT_PTR on_notify(HWND page, NMHDR *nm)
{
    journal_page *j = page_of(page);
    if (nm->idFrom != IDC_JOURNAL_LIST)
        return FALSE;
    if (nm->code == LVN_GETDISPINFOW) {
        LVITEMW *it = &((NMLVDISPINFOW *)nm)->item;
        if (it->mask & LVIF_TEXT) {
            const mgr_journal_row *r = it->iItem >= 0 ? row_at(j, (size_t)it->iItem) : NULL;
            if (r)
                cell_text(r, it->iSubItem, it->pszText, it->cchTextMax);
            else if (it->cchTextMax > 0)
                it->pszText[0] = 0;
        }
    } else if (nm->code == LVN_ODCACHEHINT) {
        NMLVCACHEHINT *h = (NMLVCACHEHINT *)nm;
        size_t from = (size_t)h->iFrom, to = (size_t)h->iTo;
        if (j->view && (from < j->cache_first
                        || to >= j->cache_first + (size_t)j->cache_count))
            fill_cache(j, from, to - from + 1);
    }
    return FALSE;
}

static INT_PTR on_command(HWND page, WPARAM wp)
{
    switch (LOWORD(wp)) {
    case IDOK:
    case IDC_JOURNAL_APPLY:
    case IDC_JOURNAL_REFRESH:
        refresh(page, 0, 0);
        return TRUE;
    case IDC_JOURNAL_ROUTE:
    case IDC_JOURNAL_REASON:
        if (HIWORD(wp) == CBN_SELCHANGE)
            refresh(page, 0, 0);
        return TRUE;
    case IDC_JOURNAL_AUTO:
        if (IsDlgButtonChecked(page, IDC_JOURNAL_AUTO) == BST_CHECKED)
            SetTimer(page, AUTO_TIMER, AUTO_MS, NULL);
        else
            KillTimer(page, AUTO_TIMER);
        return TRUE;
    case IDC_JOURNAL_EXPORT:
        export_csv(page);
        return TRUE;
    case IDC_JOURNAL_SETLEVEL:
        change_log_level(page);
        return TRUE;
    }
    return FALSE;
}

static INT_PTR CALLBACK journal_proc(HWND page, UINT msg, WPARAM wp, LPARAM lp)
{
    journal_page *j = page_of(page);
    switch (msg) {
    case WM_INITDIALOG:
        SetWindowLongPtrW(page, GWLP_USERDATA, lp);
        j = (journal_page *)lp;
        init_controls(page);
        ui_layout_capture(&j->layout, page, journal_anchors,
                          (int)(sizeof journal_anchors / sizeof journal_anchors[0]));
        return FALSE;
    case WM_SIZE:
        if (j)
            ui_layout_apply(&j->layout, page);
        return TRUE;
    case WM_APP_REFRESH:
        show_log_level(page);
        refresh(page, j->view != NULL, 0);
        return TRUE;
    case WM_APP_JOURNALOPEN:
        refresh_done(page, (open_job *)lp);
        return TRUE;
    case WM_APP_EXPORTDONE:
        export_done(page, (export_job *)lp);
        return TRUE;
    case WM_TIMER:
        if (wp == AUTO_TIMER && IsWindowVisible(page) && !j->loading)
            refresh(page, 1, 1);
        return TRUE;
    case WM_NOTIFY:
        return on_notify(page, (NMHDR *)lp);
    case WM_COMMAND:
        return on_command(page, wp);
    case WM_DESTROY:
        KillTimer(page, AUTO_TIMER);
        close_view(j);
        free(j->cache);
        free(j);
        return TRUE;
    }
    return FALSE;
}

HWND page_journal_create(mgr_app *app, HWND parent)
{
    journal_page *j = calloc(1, sizeof *j);
    if (!j || !(j->cache = malloc(ROW_CACHE * sizeof *j->cache))) {
        free(j);
        return NULL;
    }
    j->app = app;
    HWND page = CreateDialogParamW(app->inst, MAKEINTRESOURCEW(IDD_TAB_JOURNAL), parent,
                                   journal_proc, (LPARAM)j);
    if (!page) {
        free(j->cache);
        free(j);
    }
    return page;
}
