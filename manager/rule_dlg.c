/* rule_dlg: the rule dialog of the brief. Destination from the IIS SMTP
 * virtual servers (ADSI) or a Pickup folder typed or browsed; the expired
 * certificate toggle; the force-plain and never-redirect lists, one domain
 * a line. Nothing is saved until every field is valid; a bad domain line is
 * selected and its reason shown. Domains newly forced plain are asked for
 * MTA-STS and DANE first; one that publishes either needs a Yes. Unchecking
 * a list that holds domains asks first (Save deletes them). Preview replays
 * the journal's last days against the rule as edited, before any Save. */
#include <windows.h>
#include <commctrl.h>
#include <process.h>
#include <shlobj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "iis.h"
#include "journal_replay.h"
#include "manager_res.h"
#include "pickup.h"
#include "store.h"
#include "ui.h"

#define MAX_SERVERS 32
#define WM_APP_REVIEWDONE (WM_APP + 30)   /* lParam: the review_job */
#define WM_APP_PREVIEWDONE (WM_APP + 31)  /* lParam: the preview_job */
#define PREVIEW_DOMAINS_SHOWN 15
/* The Plain TCP Server's own folder, as the setup of the brief creates it:
 * never the Default server's C:\inetpub\mailroot\Pickup, which would loop. */
#define PLAIN_PICKUP_EXAMPLE L"C:\\inetpub\\mailroot-plain\\Pickup"

typedef struct rule_dlg {
    mgr_app *app;
    int64_t rule_id;
    int64_t saved_id;
    iis_server servers[MAX_SERVERS];
    int server_count;
} rule_dlg;

/* "\n"-separated (database) to "\r\n" (multi-line edit). */
static char *to_crlf(const char *s)
{
    size_t n = 0;
    for (const char *p = s ? s : ""; *p; p++)
        n += *p == '\n' ? 2 : 1;
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '\n')
            *o++ = '\r';
        *o++ = *p;
    }
    *o = 0;
    return out;
}

static void set_list(HWND dlg, int check_id, int edit_id, const char *list)
{
    char *text = to_crlf(list);
    ui_set_text_utf8(GetDlgItem(dlg, edit_id), text ? text : "");
    free(text);
    CheckDlgButton(dlg, check_id, list && list[0] ? BST_CHECKED : BST_UNCHECKED);
    EnableWindow(GetDlgItem(dlg, edit_id), list && list[0]);
}

static void fill_servers(HWND dlg, rule_dlg *d)
{
    HWND src = GetDlgItem(dlg, IDC_RULE_SOURCE), dest = GetDlgItem(dlg, IDC_RULE_DEST);
    wchar_t item[200];
    d->server_count = iis_servers_list(d->servers, MAX_SERVERS);
    for (int i = 0; i < d->server_count; i++) {
        _snwprintf(item, 199, L"%d - %ls", d->servers[i].instance, d->servers[i].comment);
        item[199] = 0;
        SendMessageW(src, CB_ADDSTRING, 0, (LPARAM)item);
        SendMessageW(dest, CB_ADDSTRING, 0, (LPARAM)item);
    }
    if (d->server_count == 0) {
        SendMessageW(dest, CB_ADDSTRING, 0, (LPARAM)L"(no IIS SMTP virtual server found)");
        SendMessageW(dest, CB_SETCURSEL, 0, 0);
        EnableWindow(dest, FALSE);
        SetDlgItemTextW(dlg, IDC_RULE_DEST_NOTE,
                        L"IIS could not be read; type or browse the Plain TCP server's Pickup folder.");
    } else {
        SetDlgItemTextW(dlg, IDC_RULE_DEST_NOTE,
                        L"Choose the Plain TCP server; its Pickup folder is filled in.");
    }
}

/* Shows the source instance: the matching server's entry, else the number. */
static void show_source(HWND dlg, rule_dlg *d, int instance)
{
    for (int i = 0; i < d->server_count; i++)
        if (d->servers[i].instance == instance) {
            SendDlgItemMessageW(dlg, IDC_RULE_SOURCE, CB_SETCURSEL, (WPARAM)i, 0);
            return;
        }
    SetDlgItemInt(dlg, IDC_RULE_SOURCE, (UINT)instance, FALSE);
}

static void show_dest(HWND dlg, rule_dlg *d, const char *pickup)
{
    wchar_t w[PLAT_PATH_MAX];
    ui_widen(pickup, w, PLAT_PATH_MAX);
    SetDlgItemTextW(dlg, IDC_RULE_PICKUP, w);
    for (int i = 0; i < d->server_count; i++)
        if (_wcsicmp(d->servers[i].pickup, w) == 0)
            SendDlgItemMessageW(dlg, IDC_RULE_DEST, CB_SETCURSEL, (WPARAM)i, 0);
}

static BOOL on_init(HWND dlg, rule_dlg *d)
{
    char err[MGR_ERR_LEN];
    SetWindowLongPtrW(dlg, GWLP_USERDATA, (LONG_PTR)d);
    SendDlgItemMessageW(dlg, IDC_RULE_NAME, EM_LIMITTEXT, STORE_NAME_MAX, 0);
    fill_servers(dlg, d);
    mgr_rule r = { .enabled = 1, .source_instance = 1 };
    if (d->rule_id && mgr_rule_get(d->app->db, d->rule_id, &r, err, sizeof err) != 0) {
        ui_error_utf8(dlg, err);
        EndDialog(dlg, 0);
        return TRUE;
    }
    SetWindowTextW(dlg, d->rule_id ? L"Edit Rule" : L"New Rule");
    ui_set_text_utf8(GetDlgItem(dlg, IDC_RULE_NAME), r.name);
    CheckDlgButton(dlg, IDC_RULE_ENABLED, r.enabled ? BST_CHECKED : BST_UNCHECKED);
    show_source(dlg, d, r.source_instance);
    show_dest(dlg, d, r.pickup_dir);
    CheckDlgButton(dlg, IDC_RULE_EXPIRED, r.expired_cert ? BST_CHECKED : BST_UNCHECKED);
    set_list(dlg, IDC_RULE_FORCE_ON, IDC_RULE_FORCE_LIST, r.force_plain);
    set_list(dlg, IDC_RULE_NEVER_ON, IDC_RULE_NEVER_LIST, r.never_redirect);
    mgr_rule_clear(&r);
    return TRUE;
}

static void browse(HWND dlg)
{
    wchar_t path[MAX_PATH];
    BROWSEINFOW bi = { 0 };
    bi.hwndOwner = dlg;
    bi.lpszTitle = L"Choose the Pickup folder of the Plain TCP Server, its own folder "
                   L"(for example " PLAIN_PICKUP_EXAMPLE L"):";
    bi.ulFlags = BIF_RETURNONLYFSDIRS | BIF_NEWDIALOGSTYLE;
    PIDLIST_ABSOLUTE pidl = SHBrowseForFolderW(&bi);
    if (!pidl)
        return;
    if (SHGetPathFromIDListW(pidl, path))
        SetDlgItemTextW(dlg, IDC_RULE_PICKUP, path);
    CoTaskMemFree(pidl);
}

/* Selects line `line` (1-based) of a multi-line edit and scrolls to it. */
static void select_line(HWND edit, int line)
{
    LRESULT start = SendMessageW(edit, EM_LINEINDEX, (WPARAM)(line - 1), 0);
    if (start < 0)
        return;
    LRESULT len = SendMessageW(edit, EM_LINELENGTH, (WPARAM)start, 0);
    SetFocus(edit);
    SendMessageW(edit, EM_SETSEL, (WPARAM)start, (LPARAM)(start + len));
    SendMessageW(edit, EM_SCROLLCARET, 0, 0);
}

typedef int (*list_check)(const char *text, char *reason, size_t reasonlen);

/* Reads and checks one list; on a bad line points at it and returns -1.
 * retry names what to do once it is fixed ("save again"). */
static int read_list(HWND dlg, int check_id, int edit_id, const wchar_t *label, list_check check,
                     const wchar_t *retry, char **out)
{
    char reason[300];
    wchar_t msg[700], wreason[300];
    *out = NULL;
    if (IsDlgButtonChecked(dlg, check_id) != BST_CHECKED) {
        *out = calloc(1, 1);
        return *out ? 0 : -1;
    }
    HWND edit = GetDlgItem(dlg, edit_id);
    *out = ui_get_text_utf8(edit);
    if (!*out)
        return -1;
    int line = check(*out, reason, sizeof reason);
    if (line == 0)
        return 0;
    select_line(edit, line);
    ui_widen(reason, wreason, 300);
    _snwprintf(msg, 699, L"Line %d of the list \"%ls\" is not valid: %ls.\n\n"
               L"Correct or remove that line, then %ls. Nothing has been saved.",
               line, label, wreason, retry);
    msg[699] = 0;
    ui_error(dlg, msg);
    select_line(edit, line);
    free(*out);
    *out = NULL;
    return -1;
}

static int fail_at(HWND dlg, int id, const wchar_t *msg)
{
    ui_error(dlg, msg);
    SetFocus(GetDlgItem(dlg, id));
    SendDlgItemMessageW(dlg, id, EM_SETSEL, 0, -1);
    return -1;
}

/* Source combo text is "N - comment" or a number. */
static int read_source(HWND dlg, rule_dlg *d)
{
    int sel = (int)SendDlgItemMessageW(dlg, IDC_RULE_SOURCE, CB_GETCURSEL, 0, 0);
    wchar_t text[200];
    if (sel >= 0 && sel < d->server_count)
        return d->servers[sel].instance;
    GetDlgItemTextW(dlg, IDC_RULE_SOURCE, text, 200);
    return _wtoi(text);
}

/* The source server's own Pickup folder as destination would hand every
 * message straight back to the server it came from. Refused when IIS says
 * where that folder is (iis_pickup_dir, as the tlsrouter command asks);
 * when it cannot say, nothing is refused. */
static int refuse_source_pickup(HWND dlg, const mgr_rule *r)
{
    char own[MAX_PATH * 3], why[sizeof r->pickup_dir + 300];
    wchar_t wwhy[sizeof why], msg[sizeof why + 100];
    if (iis_pickup_dir(r->source_instance, own, sizeof own) != 0 ||
        pickup_check_destination(r->pickup_dir, own, r->source_instance, why, sizeof why) == 0)
        return 0;
    ui_widen(why, wwhy, sizeof wwhy / sizeof wwhy[0]);
    _snwprintf(msg, sizeof msg / sizeof msg[0] - 1, L"%ls.\n\nNothing has been saved.", wwhy);
    msg[sizeof msg / sizeof msg[0] - 1] = 0;
    return fail_at(dlg, IDC_RULE_PICKUP, msg);
}

/* The Pickup folder as typed, up to the store's path limit (longer than
 * MAX_PATH: a \\?\ or UNC path may need it). */
static int read_pickup(HWND dlg, mgr_rule *r)
{
    char *text = ui_get_text_utf8(GetDlgItem(dlg, IDC_RULE_PICKUP));
    size_t n = text ? strlen(text) : 0;
    int fits = n < sizeof r->pickup_dir;
    if (fits)
        memcpy(r->pickup_dir, text ? text : "", n + 1);
    free(text);
    if (!fits)
        return fail_at(dlg, IDC_RULE_PICKUP, L"The Pickup folder's path is too long.");
    mgr_trim_blanks(r->pickup_dir);
    if (!r->pickup_dir[0])
        return fail_at(dlg, IDC_RULE_PICKUP, L"Choose the destination: the Pickup folder of "
                       L"the Plain TCP Server, for example " PLAIN_PICKUP_EXAMPLE L".");
    return 0;
}

static int pickup_exists(const char *utf8)
{
    size_t cap = strlen(utf8) + 1;
    wchar_t *w = malloc(cap * sizeof *w);
    DWORD attrs = INVALID_FILE_ATTRIBUTES;
    if (w) {
        ui_widen(utf8, w, cap);
        attrs = GetFileAttributesW(w);
    }
    free(w);
    return attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY);
}

#define FORCE_LABEL L"Or if recipient domain is in the following list"
#define NEVER_LABEL L"But never redirect email if recipient domain is in the following list"

/* What decides a domain's route: the expired option and both lists. */
static int read_conditions(HWND dlg, mgr_rule *r, const wchar_t *retry)
{
    r->expired_cert = IsDlgButtonChecked(dlg, IDC_RULE_EXPIRED) == BST_CHECKED;
    if (read_list(dlg, IDC_RULE_FORCE_ON, IDC_RULE_FORCE_LIST, FORCE_LABEL,
                  mgr_force_plain_check, retry, &r->force_plain) != 0
        || read_list(dlg, IDC_RULE_NEVER_ON, IDC_RULE_NEVER_LIST, NEVER_LABEL,
                     mgr_domains_check, retry, &r->never_redirect) != 0)
        return -1;
    return 0;
}

static int read_fields(HWND dlg, rule_dlg *d, mgr_rule *r)
{
    char *name = ui_get_text_utf8(GetDlgItem(dlg, IDC_RULE_NAME));
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    free(name);
    mgr_trim_blanks(r->name);
    if (!r->name[0])
        return fail_at(dlg, IDC_RULE_NAME, L"Enter a name for the rule, for example "
                                           L"\"TLS to Plain Router\".");
    r->enabled = IsDlgButtonChecked(dlg, IDC_RULE_ENABLED) == BST_CHECKED;
    r->source_instance = read_source(dlg, d);
    if (r->source_instance < 1)
        return fail_at(dlg, IDC_RULE_SOURCE, L"Choose the virtual server this rule applies "
                       L"to: the number of the TLS server in IIS, usually 1.");
    if (read_pickup(dlg, r) != 0)
        return -1;
    if (!pickup_exists(r->pickup_dir))
        return fail_at(dlg, IDC_RULE_PICKUP, L"The Pickup folder does not exist. Check the "
                       L"path, or create the Plain TCP virtual server in IIS first.");
    if (refuse_source_pickup(dlg, r) != 0)
        return -1;
    return read_conditions(dlg, r, L"save again");
}

static void save_now(HWND dlg, rule_dlg *d, mgr_rule *r)
{
    char err[MGR_ERR_LEN];
    if (mgr_rule_save(d->app->db, r, err, sizeof err) == 0) {
        d->saved_id = r->id;
        EndDialog(dlg, 1);
    } else {
        ui_error_utf8(dlg, err);
    }
}

/* Asking the domains about to be forced plain waits on the network (up to
 * the guards' deadline): it runs on a worker thread with a connection of
 * its own, and the dialog stays responsive with OK disabled. */
typedef struct review_job {
    HWND dlg;
    char db_path[PLAT_PATH_MAX];
    int64_t rule_id;
    char *force_plain;
    char *question;
    int rc;
    char err[MGR_ERR_LEN];
} review_job;

static void review_job_free(review_job *job)
{
    free(job->force_plain);
    free(job->question);
    free(job);
}

static unsigned __stdcall review_worker(void *arg)
{
    review_job *job = arg;
    job->rc = mgr_force_plain_review(job->db_path, job->rule_id, job->force_plain,
                                     &job->question, job->err, sizeof job->err);
    /* A dialog closed meanwhile gets no answer. */
    if (!PostMessageW(job->dlg, WM_APP_REVIEWDONE, 0, (LPARAM)job))
        review_job_free(job);
    return 0;
}

static int start_review(HWND dlg, rule_dlg *d, const mgr_rule *r)
{
    review_job *job = calloc(1, sizeof *job);
    if (!job || !(job->force_plain = _strdup(r->force_plain))) {
        free(job);
        return -1;
    }
    job->dlg = dlg;
    job->rule_id = d->rule_id;
    snprintf(job->db_path, sizeof job->db_path, "%s", mgr_db_path(d->app->db));
    uintptr_t th = _beginthreadex(NULL, 0, review_worker, job, 0, NULL);
    if (!th) {
        review_job_free(job);
        return -1;
    }
    CloseHandle((HANDLE)th);
    EnableWindow(GetDlgItem(dlg, IDOK), FALSE);
    SetDlgItemTextW(dlg, IDOK, L"Checking...");
    return 0;
}

/* The fields are read again: what the admin sees is what is saved. */
static void review_done(HWND dlg, rule_dlg *d, review_job *job)
{
    mgr_rule r = { .id = d->rule_id };
    EnableWindow(GetDlgItem(dlg, IDOK), TRUE);
    SetDlgItemTextW(dlg, IDOK, L"OK");
    if (job->rc != 0) {
        ui_error_utf8(dlg, job->err);
    } else if (read_fields(dlg, d, &r) == 0) {
        /* UTF-16 never needs more units than UTF-8 has bytes. */
        size_t wlen = job->question ? strlen(job->question) + 1 : 0;
        wchar_t *question = wlen ? malloc(wlen * sizeof *question) : NULL;
        if (question)
            ui_widen(job->question, question, wlen);
        int save = !job->question
                   || (question && MessageBoxW(dlg, question, L"Force these domains plain?",
                                               MB_YESNO | MB_ICONWARNING | MB_DEFBUTTON2) == IDYES);
        free(question);
        if (save)
            save_now(dlg, d, &r);
        else
            SetFocus(GetDlgItem(dlg, IDC_RULE_FORCE_LIST));
    }
    mgr_rule_clear(&r);
    review_job_free(job);
}

static void save(HWND dlg, rule_dlg *d)
{
    mgr_rule r = { .id = d->rule_id };
    if (read_fields(dlg, d, &r) == 0) {
        /* Forcing domains plain overrides what they publish: ask them first. */
        if (!r.force_plain[0])
            save_now(dlg, d, &r);
        else if (start_review(dlg, d, &r) != 0)
            ui_error(dlg, L"The domains could not be checked: out of memory. Nothing has been saved.");
    }
    mgr_rule_clear(&r);
}

/* Yes when the admin agrees that the n domains of the list named label go
 * from the rule on Save. */
static int confirm_uncheck(HWND dlg, const wchar_t *label, size_t n)
{
    wchar_t question[400];
    _snwprintf(question, 399, L"The list \"%ls\" holds %lu domain%ls. Unchecked, %ls "
               L"deleted from the rule when you save.\n\nUncheck the list?", label,
               (unsigned long)n, n == 1 ? L"" : L"s", n == 1 ? L"it is" : L"they are");
    question[399] = 0;
    return MessageBoxW(dlg, question, L"Delete these domains?",
                       MB_YESNO | MB_ICONWARNING | MB_DEFBUTTON2) == IDYES;
}

/* A list just unchecked keeps its domains on screen, but Save deletes them
 * from the rule: the admin says so first. No checks it again. */
static void list_toggled(HWND dlg, int check_id, int edit_id, const wchar_t *label)
{
    HWND edit = GetDlgItem(dlg, edit_id);
    int on = IsDlgButtonChecked(dlg, check_id) == BST_CHECKED;
    if (!on) {
        char *text = ui_get_text_utf8(edit);
        size_t n = mgr_list_entries(text);
        free(text);
        if (n > 0 && !confirm_uncheck(dlg, label, n)) {
            CheckDlgButton(dlg, check_id, BST_CHECKED);
            on = 1;
        }
    }
    EnableWindow(edit, on);
}

/* Preview replays a week of the journal (a query over every row of it):
 * on a worker thread with a connection of its own, like the review. */
typedef struct preview_job {
    HWND dlg;
    char db_path[PLAT_PATH_MAX];
    mgr_rule rule;             /* the conditions as edited */
    mgr_preview result;
    int rc;
    char err[MGR_ERR_LEN];
} preview_job;

static void preview_job_free(preview_job *job)
{
    mgr_rule_clear(&job->rule);
    mgr_preview_free(&job->result);
    free(job);
}

static unsigned __stdcall preview_worker(void *arg)
{
    preview_job *job = arg;
    job->rc = mgr_rule_preview(job->db_path, &job->rule, REPLAY_DEFAULT_DAYS, &job->result,
                               job->err, sizeof job->err);
    if (!PostMessageW(job->dlg, WM_APP_PREVIEWDONE, 0, (LPARAM)job))
        preview_job_free(job);
    return 0;
}

static void preview(HWND dlg, rule_dlg *d)
{
    preview_job *job = calloc(1, sizeof *job);
    if (!job) {
        ui_error(dlg, L"The preview could not start: out of memory.");
        return;
    }
    if (read_conditions(dlg, &job->rule, L"preview again") != 0) {
        preview_job_free(job);
        return;
    }
    job->rule.source_instance = read_source(dlg, d);
    job->dlg = dlg;
    snprintf(job->db_path, sizeof job->db_path, "%s", mgr_db_path(d->app->db));
    uintptr_t th = _beginthreadex(NULL, 0, preview_worker, job, 0, NULL);
    if (!th) {
        preview_job_free(job);
        ui_error(dlg, L"The preview could not start: no thread.");
        return;
    }
    CloseHandle((HANDLE)th);
    EnableWindow(GetDlgItem(dlg, IDC_RULE_PREVIEW), FALSE);
    SetDlgItemTextW(dlg, IDC_RULE_PREVIEW, L"Replaying...");
}

static void preview_done(HWND dlg, preview_job *job)
{
    HWND button = GetDlgItem(dlg, IDC_RULE_PREVIEW);
    SetWindowTextW(button, L"&Preview...");
    EnableWindow(button, TRUE);
    if (job->rc != 0) {
        ui_error_utf8(dlg, job->err);
    } else {
        char text[4096];
        wchar_t wide[4096];
        mgr_preview_text(&job->result, PREVIEW_DOMAINS_SHOWN, text, sizeof text);
        ui_widen(text, wide, sizeof wide / sizeof wide[0]);
        MessageBoxW(dlg, wide, L"Preview: what this rule would change",
                    MB_OK | MB_ICONINFORMATION);
    }
    SetFocus(button);
    preview_job_free(job);
}

static INT_PTR CALLBACK rule_proc(HWND dlg, UINT msg, WPARAM wp, LPARAM lp)
{
    rule_dlg *d = (rule_dlg *)GetWindowLongPtrW(dlg, GWLP_USERDATA);
    switch (msg) {
    case WM_INITDIALOG:
        return on_init(dlg, (rule_dlg *)lp);
    case WM_APP_REVIEWDONE:
        review_done(dlg, d, (review_job *)lp);
        return TRUE;
    case WM_APP_PREVIEWDONE:
        preview_done(dlg, (preview_job *)lp);
        return TRUE;
    case WM_COMMAND:
        switch (LOWORD(wp)) {
        case IDOK:
            if (IsWindowEnabled(GetDlgItem(dlg, IDOK)))
                save(dlg, d);
            return TRUE;
        case IDCANCEL: EndDialog(dlg, 0); return TRUE;
        case IDC_RULE_BROWSE: browse(dlg); return TRUE;
        case IDC_RULE_PREVIEW:
            if (IsWindowEnabled(GetDlgItem(dlg, IDC_RULE_PREVIEW)))
                preview(dlg, d);
            return TRUE;
        case IDC_RULE_FORCE_ON:
            list_toggled(dlg, IDC_RULE_FORCE_ON, IDC_RULE_FORCE_LIST, FORCE_LABEL);
            return TRUE;
        case IDC_RULE_NEVER_ON:
            list_toggled(dlg, IDC_RULE_NEVER_ON, IDC_RULE_NEVER_LIST, NEVER_LABEL);
            return TRUE;
        case IDC_RULE_DEST:
            if (HIWORD(wp) == CBN_SELCHANGE) {
                int sel = (int)SendDlgItemMessageW(dlg, IDC_RULE_DEST, CB_GETCURSEL, 0, 0);
                if (sel >= 0 && sel < d->server_count)
                    SetDlgItemTextW(dlg, IDC_RULE_PICKUP, d->servers[sel].pickup);
            }
            return TRUE;
        }
        break;
    }
    return FALSE;
}

int64_t rule_dialog_run(mgr_app *app, HWND owner, int64_t rule_id)
{
    rule_dlg *d = calloc(1, sizeof *d);
    if (!d)
        return 0;
    d->app = app;
    d->rule_id = rule_id;
    DialogBoxParamW(app->inst, MAKEINTRESOURCEW(IDD_RULE), owner, rule_proc, (LPARAM)d);
    int64_t saved = d->saved_id;
    free(d);
    return saved;
}
