/* lvpager: see lvpager.h. Moved here from the Journal tab when the Log
 * tab came, so both lists page, refresh and export the same way. */
#include "lvpager.h"

#include <commdlg.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager_res.h"
#include "plat.h"
#include "ui.h"

#define LVPAGER_CACHE 256         /* rows kept around the visible ones */
#define AUTO_MS 5000

int lvpager_init(lvpager *p, const lvpager_spec *spec, mgr_app *app)
{
    memset(p, 0, sizeof *p);
    p->spec = spec;
    p->app = app;
    p->cache = malloc(LVPAGER_CACHE * spec->ops->row_size);
    p->filter = calloc(1, spec->filter_size);
    if (!p->cache || !p->filter) {
        lvpager_free(p);
        return -1;
    }
    return 0;
}

static void close_view(lvpager *p)
{
    if (p->view)
        p->spec->ops->close(p->view);
    mgr_db_close(p->view_db);
    p->view = NULL;
    p->view_db = NULL;
    p->cache_count = 0;
}

void lvpager_free(lvpager *p)
{
    close_view(p);
    free(p->cache);
    free(p->filter);
    p->cache = NULL;
    p->filter = NULL;
}

static HWND list_of(const lvpager *p) { return GetDlgItem(p->page, p->spec->list_id); }

static int fill_cache(lvpager *p, size_t first, size_t n)
{
    char err[MGR_ERR_LEN];
    if (n > LVPAGER_CACHE)
        n = LVPAGER_CACHE;
    long got = p->spec->ops->read(p->view, first, n, p->cache, err, sizeof err);
    p->cache_first = first;
    p->cache_count = got < 0 ? 0 : got;
    return got < 0 ? -1 : 0;
}

static int cached(const lvpager *p, size_t pos)
{
    return pos >= p->cache_first && pos < p->cache_first + (size_t)p->cache_count;
}

const void *lvpager_row(lvpager *p, size_t pos)
{
    if (!p->view)
        return NULL;
    /* A miss outside the hinted range: read a window that starts a little
     * before, so scrolling up is cached too. */
    if (!cached(p, pos) && fill_cache(p, pos > 32 ? pos - 32 : 0, LVPAGER_CACHE) != 0)
        return NULL;
    if (!cached(p, pos))
        return NULL;
    return p->cache + (pos - p->cache_first) * p->spec->ops->row_size;
}

/* ---- opening a view ------------------------------------------------------
 * Opening reads the whole index for a filter, which takes a second on a
 * million rows: it runs on a worker thread with its own connection (a
 * store handle serves one thread), and the UI thread takes the finished
 * view over. A newer request makes an older result stale. */
typedef struct open_job {
    const mgr_view_ops *ops;
    HWND page;
    unsigned seq;
    int keep_position;
    int automatic;
    uint64_t start_ms;
    char db_path[PLAT_PATH_MAX];
    void *filter;
    mgr_db *db;
    void *view;
    int rc;
    char err[MGR_ERR_LEN];
} open_job;

static void open_job_free(open_job *job)
{
    if (job->view)
        job->ops->close(job->view);
    mgr_db_close(job->db);
    free(job->filter);
    free(job);
}

static unsigned __stdcall open_worker(void *arg)
{
    open_job *job = arg;
    job->rc = mgr_db_open(job->db_path, &job->db, job->err, sizeof job->err);
    if (job->rc == 0)
        job->rc = job->ops->open(job->db, job->filter, &job->view, job->err, sizeof job->err);
    if (!PostMessageW(job->page, WM_APP_PAGER_OPENED, 0, (LPARAM)job))
        open_job_free(job);
    return 0;
}

static void set_count_text(lvpager *p, const wchar_t *fmt, const wchar_t *arg)
{
    wchar_t text[256];
    _snwprintf(text, 255, fmt, arg);
    text[255] = 0;
    SetDlgItemTextW(p->page, p->spec->count_id, text);
}

static open_job *new_open_job(lvpager *p, int keep_position, int automatic)
{
    open_job *job = calloc(1, sizeof *job);
    if (!job || !(job->filter = malloc(p->spec->filter_size))) {
        free(job);
        return NULL;
    }
    p->spec->read_filter(p->page, job->filter);
    memcpy(p->filter, job->filter, p->spec->filter_size);
    job->ops = p->spec->ops;
    job->page = p->page;
    job->seq = ++p->seq;
    job->keep_position = keep_position;
    job->automatic = automatic;
    job->start_ms = plat_now_ms();
    snprintf(job->db_path, sizeof job->db_path, "%s", mgr_db_path(p->app->db));
    return job;
}

void lvpager_refresh(lvpager *p, int keep_position, int automatic)
{
    open_job *job = new_open_job(p, keep_position, automatic);
    if (!job)
        return;
    p->loading = 1;
    if (!automatic)
        set_count_text(p, L"Reading the %ls...", p->spec->name);
    uintptr_t th = _beginthreadex(NULL, 0, open_worker, job, 0, NULL);
    if (!th) {
        p->loading = 0;
        open_job_free(job);
        set_count_text(p, L"The %ls could not be read: Windows refused a new thread. "
                          L"Close some programs and click Refresh.", p->spec->name);
        return;
    }
    CloseHandle((HANDLE)th);
}

static void show_count(lvpager *p, size_t n, uint64_t ms)
{
    wchar_t text[128], count[32];
    ui_format_count(n, count, 32);
    _snwprintf(text, 127, L"%ls %ls (shown in %llu ms)", count, n == 1 ? L"entry" : L"entries",
               (unsigned long long)ms);
    text[127] = 0;
    SetDlgItemTextW(p->page, p->spec->count_id, text);
}

/* The finished view replaces the one shown. */
static void take_view(lvpager *p, open_job *job)
{
    HWND lv = list_of(p);
    close_view(p);
    p->view = job->view;
    p->view_db = job->db;
    job->view = NULL;
    job->db = NULL;
    size_t n = p->spec->ops->count(p->view);
    ListView_SetItemCountEx(lv, (int)n, job->keep_position ? LVSICF_NOSCROLL : 0);
    if (!job->keep_position && n)
        ListView_EnsureVisible(lv, 0, FALSE);
    InvalidateRect(lv, NULL, FALSE);
    UpdateWindow(lv);
    show_count(p, n, plat_now_ms() - job->start_ms);
    if (p->spec->shown)
        p->spec->shown(p->page);
}

static void open_done(lvpager *p, open_job *job)
{
    if (job->seq != p->seq) {
        open_job_free(job);    /* a newer request is on its way */
        return;
    }
    p->loading = 0;
    if (job->rc != 0) {
        set_count_text(p, L"The %ls could not be read.", p->spec->name);
        /* Auto-refresh must not pile up message boxes; a click shows why. */
        if (!job->automatic)
            ui_error_utf8(p->page, job->err);
    } else {
        take_view(p, job);
    }
    open_job_free(job);
}

/* ---- export -------------------------------------------------------------- */

/* The export's time cells in the list's own format (local time). */
static void export_time(int64_t at_ms, char *buf, size_t len)
{
    wchar_t wt[40];
    ui_format_time_ms(at_ms, wt, 40);
    ui_narrow(wt, buf, len);
}

typedef struct export_job {
    const mgr_view_ops *ops;
    HWND page;
    char db_path[PLAT_PATH_MAX];
    void *filter;
    wchar_t path[MAX_PATH];
    size_t rows;
    int rc;
    char err[MGR_ERR_LEN];
} export_job;

static void export_job_free(export_job *job)
{
    free(job->filter);
    free(job);
}

/* Writes every row of the filter, newest first, to the job's file. */
static int write_csv(mgr_db *db, export_job *job)
{
    FILE *f = _wfopen(job->path, L"wb");
    if (!f) {
        snprintf(job->err, sizeof job->err,
                 "The file could not be created. Choose a folder you can write to.");
        return -1;
    }
    int rc = mgr_view_export_csv(job->ops, db, job->filter, f, export_time, &job->rows,
                                 job->err, sizeof job->err);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(job->err, sizeof job->err,
                 "The file could not be written completely; the disk may be full.");
        rc = -1;
    }
    return rc;
}

/* A million rows take seconds to write: the export runs on its own thread
 * with its own connection (a store handle serves one thread). */
static unsigned __stdcall export_worker(void *arg)
{
    export_job *job = arg;
    mgr_db *db;
    job->rc = mgr_db_open(job->db_path, &db, job->err, sizeof job->err);
    if (job->rc == 0) {
        job->rc = write_csv(db, job);
        mgr_db_close(db);
    }
    if (!PostMessageW(job->page, WM_APP_PAGER_EXPORTED, 0, (LPARAM)job))
        export_job_free(job);
    return 0;
}

static void export_done(lvpager *p, export_job *job)
{
    EnableWindow(GetDlgItem(p->page, p->spec->export_id), TRUE);
    if (job->rc != 0) {
        ui_error_utf8(p->page, job->err);
    } else {
        wchar_t count[32];
        ui_format_count(job->rows, count, 32);
        app_status(p->app, L"Exported %ls %ls entries to %ls.", count, p->spec->name, job->path);
    }
    export_job_free(job);
}

static int ask_export_path(lvpager *p, wchar_t *path)
{
    OPENFILENAMEW ofn = { 0 };
    wcsncpy(path, p->spec->export_file, MAX_PATH - 1);
    path[MAX_PATH - 1] = 0;
    ofn.lStructSize = sizeof ofn;
    ofn.hwndOwner = p->page;
    ofn.lpstrFilter = L"CSV files (*.csv)\0*.csv\0All files\0*.*\0";
    ofn.lpstrFile = path;
    ofn.nMaxFile = MAX_PATH;
    ofn.lpstrTitle = p->spec->export_title;
    ofn.lpstrDefExt = L"csv";
    ofn.Flags = OFN_OVERWRITEPROMPT | OFN_PATHMUSTEXIST | OFN_HIDEREADONLY | OFN_EXPLORER;
    return GetSaveFileNameW(&ofn) ? 0 : -1;
}

void lvpager_export(lvpager *p)
{
    export_job *job = calloc(1, sizeof *job);
    if (!job || !(job->filter = malloc(p->spec->filter_size))) {
        free(job);
        return;
    }
    if (ask_export_path(p, job->path) != 0) {
        export_job_free(job);
        return;
    }
    memcpy(job->filter, p->filter, p->spec->filter_size);
    job->ops = p->spec->ops;
    job->page = p->page;
    snprintf(job->db_path, sizeof job->db_path, "%s", mgr_db_path(p->app->db));
    EnableWindow(GetDlgItem(p->page, p->spec->export_id), FALSE);
    app_status(p->app, L"Exporting the %ls to %ls...", p->spec->name, job->path);
    uintptr_t th = _beginthreadex(NULL, 0, export_worker, job, 0, NULL);
    if (!th) {
        EnableWindow(GetDlgItem(p->page, p->spec->export_id), TRUE);
        export_job_free(job);
        ui_error(p->page, L"The export could not be started: Windows refused a new thread. "
                          L"Close some programs and try again.");
        return;
    }
    CloseHandle((HANDLE)th);
}

/* ---- messages -------------------------------------------------------------- */

static void get_disp_info(lvpager *p, LVITEMW *it)
{
    if (!(it->mask & LVIF_TEXT))
        return;
    const void *r = it->iItem >= 0 ? lvpager_row(p, (size_t)it->iItem) : NULL;
    if (r)
        p->spec->cell(r, it->iSubItem, it->pszText, it->cchTextMax);
    else if (it->cchTextMax > 0)
        it->pszText[0] = 0;
}

static BOOL on_notify(lvpager *p, NMHDR *nm)
{
    if ((int)nm->idFrom != p->spec->list_id)
        return FALSE;
    if (nm->code == LVN_GETDISPINFOW) {
        get_disp_info(p, &((NMLVDISPINFOW *)nm)->item);
        return TRUE;
    }
    if (nm->code == LVN_ODCACHEHINT) {
        const NMLVCACHEHINT *h = (const NMLVCACHEHINT *)nm;
        if (p->view && (!cached(p, (size_t)h->iFrom) || !cached(p, (size_t)h->iTo)))
            fill_cache(p, (size_t)h->iFrom, (size_t)(h->iTo - h->iFrom + 1));
        return TRUE;
    }
    return FALSE;
}

static void auto_clicked(lvpager *p)
{
    if (IsDlgButtonChecked(p->page, p->spec->auto_id) == BST_CHECKED)
        SetTimer(p->page, LVPAGER_AUTO_TIMER, AUTO_MS, NULL);
    else
        KillTimer(p->page, LVPAGER_AUTO_TIMER);
}

BOOL lvpager_message(lvpager *p, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_APP_PAGER_OPENED:
        open_done(p, (open_job *)lp);
        return TRUE;
    case WM_APP_PAGER_EXPORTED:
        export_done(p, (export_job *)lp);
        return TRUE;
    case WM_TIMER:
        if (wp != LVPAGER_AUTO_TIMER)
            return FALSE;
        if (IsWindowVisible(p->page) && !p->loading)
            lvpager_refresh(p, 1, 1);
        return TRUE;
    case WM_NOTIFY:
        return on_notify(p, (NMHDR *)lp);
    case WM_COMMAND:
        if (LOWORD(wp) == p->spec->auto_id) {
            auto_clicked(p);
            return TRUE;
        }
        if (LOWORD(wp) == p->spec->export_id) {
            lvpager_export(p);
            return TRUE;
        }
        return FALSE;
    case WM_DESTROY:
        KillTimer(p->page, LVPAGER_AUTO_TIMER);
        return FALSE;
    }
    return FALSE;
}
