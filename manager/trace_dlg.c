/* trace_dlg: "Trace a Message", for a complaint about one message: every
 * recipient's decision for a Message-ID or a sender (journal_filter's
 * message_id and sender), newest first, and the selected one in plain
 * words as in the Journal tab's details pane. */
#include <windows.h>
#include <commctrl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "explain.h"
#include "manager_res.h"
#include "ui.h"

/* A sender may have sent thousands of messages: the dialog lists the
 * newest ones and says how many there are in all. */
#define TRACE_MAX 1000

enum { COL_TIME, COL_RECIPIENT, COL_ROUTE, COL_REASON, COL_WORDS, COL_SENDER, COL_MESSAGE_ID };

static const ui_column trace_columns[] = {
    { L"Time", 125 }, { L"Recipient", 170 }, { L"Route", 45 }, { L"Reason", 110 },
    { L"In plain words", 200 }, { L"Sender", 150 }, { L"Message-ID", 200 },
};

typedef struct trace_state {
    mgr_app *app;
    mgr_journal_row *rows;     /* TRACE_MAX */
    long count;                /* rows listed */
} trace_state;

static trace_state *state_of(HWND dlg) { return (trace_state *)GetWindowLongPtrW(dlg, GWLP_USERDATA); }

static void details_time(int64_t at_ms, char *buf, size_t len)
{
    wchar_t wt[40];
    ui_format_time_ms(at_ms, wt, 40);
    ui_narrow(wt, buf, len);
}

static void add_row(HWND lv, int i, const mgr_journal_row *r)
{
    wchar_t at[40];
    const explain_text *why = explain_lookup(r->reason);
    LVITEMW it = { 0 };
    ui_format_time_ms(r->at_ms, at, 40);
    it.mask = LVIF_TEXT;
    it.iItem = i;
    it.pszText = at;
    SendMessageW(lv, LVM_INSERTITEMW, 0, (LPARAM)&it);
    ui_lv_set_utf8(lv, i, COL_RECIPIENT, r->recipient);
    ui_lv_set_utf8(lv, i, COL_ROUTE, r->route);
    ui_lv_set_utf8(lv, i, COL_REASON, r->reason);
    ui_lv_set_utf8(lv, i, COL_WORDS, why ? why->title : "");
    ui_lv_set_utf8(lv, i, COL_SENDER, r->sender);
    ui_lv_set_utf8(lv, i, COL_MESSAGE_ID, r->message_id);
}

static void show_summary(HWND dlg, size_t total, long listed, const wchar_t *what)
{
    wchar_t text[256], count[32], shown[32];
    ui_format_count(total, count, 32);
    ui_format_count((size_t)listed, shown, 32);
    if (total == 0)
        _snwprintf(text, 255, L"No recipient in the journal for this %ls. Check the value, or "
                   L"the journal may have been pruned (journal_max_age_days).", what);
    else if ((size_t)listed < total)
        _snwprintf(text, 255, L"%ls recipients for this %ls; the newest %ls are listed.", count,
                   what, shown);
    else
        _snwprintf(text, 255, L"%ls %ls for this %ls.", count,
                   total == 1 ? L"recipient" : L"recipients", what);
    text[255] = 0;
    SetDlgItemTextW(dlg, IDC_TRACE_SUMMARY, text);
}

static void read_trace_filter(HWND dlg, mgr_journal_filter *f, int *by_sender)
{
    char *value = ui_get_text_utf8(GetDlgItem(dlg, IDC_TRACE_VALUE));
    memset(f, 0, sizeof *f);
    *by_sender = IsDlgButtonChecked(dlg, IDC_TRACE_BY_SENDER) == BST_CHECKED;
    if (*by_sender)
        snprintf(f->sender, sizeof f->sender, "%s", value ? value : "");
    else
        snprintf(f->message_id, sizeof f->message_id, "%s", value ? value : "");
    free(value);
}

/* Reads on the UI thread with the console's connection: without an index
 * on sender or Message-ID this scans the journal (about a second for a
 * million rows), and the dialog has nothing else to do meanwhile. Fills
 * t->rows; 0, or -1 with err. */
static int read_trace(HWND dlg, trace_state *t, const mgr_journal_filter *f, int by_sender,
                      char *err, size_t errlen)
{
    mgr_journal_view *v;
    HCURSOR old = SetCursor(LoadCursorW(NULL, IDC_WAIT));
    int rc = mgr_journal_open(t->app->db, f, &v, err, errlen);
    if (rc == 0) {
        t->count = mgr_journal_read(v, 0, TRACE_MAX, t->rows, err, errlen);
        rc = t->count < 0 ? -1 : 0;
        if (rc == 0)
            show_summary(dlg, mgr_journal_count(v), t->count, by_sender ? L"sender" : L"Message-ID");
        mgr_journal_close(v);
    }
    SetCursor(old);
    if (rc != 0)
        t->count = 0;
    return rc;
}

static void find(HWND dlg)
{
    trace_state *t = state_of(dlg);
    HWND lv = GetDlgItem(dlg, IDC_TRACE_LIST);
    mgr_journal_filter f;
    char err[MGR_ERR_LEN];
    int by_sender;
    read_trace_filter(dlg, &f, &by_sender);
    if (!(by_sender ? f.sender : f.message_id)[0]) {
        ui_error(dlg, by_sender ? L"Type the sender's address." : L"Type the Message-ID.");
        return;
    }
    ListView_DeleteAllItems(lv);
    t->count = 0;
    if (read_trace(dlg, t, &f, by_sender, err, sizeof err) != 0) {
        ui_error_utf8(dlg, err);
        return;
    }
    for (long i = 0; i < t->count; i++)
        add_row(lv, (int)i, &t->rows[i]);
    if (t->count > 0) {
        ListView_SetItemState(lv, 0, LVIS_SELECTED | LVIS_FOCUSED, LVIS_SELECTED | LVIS_FOCUSED);
    } else {
        SetDlgItemTextW(dlg, IDC_TRACE_DETAILS, L"");
    }
}

static void show_details(HWND dlg)
{
    trace_state *t = state_of(dlg);
    int sel = ui_lv_selected(GetDlgItem(dlg, IDC_TRACE_LIST));
    char text[4096];
    text[0] = 0;
    if (sel >= 0 && sel < t->count)
        mgr_journal_details(&t->rows[sel], details_time, text, sizeof text);
    ui_set_text_utf8(GetDlgItem(dlg, IDC_TRACE_DETAILS), text);
}

static INT_PTR on_init(HWND dlg, trace_state *t)
{
    SetWindowLongPtrW(dlg, GWLP_USERDATA, (LONG_PTR)t);
    CheckRadioButton(dlg, IDC_TRACE_BY_ID, IDC_TRACE_BY_SENDER, IDC_TRACE_BY_ID);
    ui_lv_init(GetDlgItem(dlg, IDC_TRACE_LIST), trace_columns,
               (int)(sizeof trace_columns / sizeof trace_columns[0]));
    SetDlgItemTextW(dlg, IDC_TRACE_SUMMARY, L"Paste the Message-ID from the message's "
                    L"headers, or the sender's address, and click Find.");
    SetFocus(GetDlgItem(dlg, IDC_TRACE_VALUE));
    return FALSE;   /* focus set here */
}

static INT_PTR CALLBACK trace_proc(HWND dlg, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_INITDIALOG:
        return on_init(dlg, (trace_state *)lp);
    case WM_NOTIFY: {
        const NMHDR *nm = (const NMHDR *)lp;
        if (nm->idFrom == IDC_TRACE_LIST && nm->code == LVN_ITEMCHANGED)
            show_details(dlg);
        return FALSE;
    }
    case WM_COMMAND:
        if (LOWORD(wp) == IDC_TRACE_FIND || LOWORD(wp) == IDOK) {
            find(dlg);
            return TRUE;
        }
        if (LOWORD(wp) == IDCANCEL) {
            EndDialog(dlg, 0);
            return TRUE;
        }
        return FALSE;
    }
    return FALSE;
}

void trace_dialog_run(mgr_app *app, HWND owner)
{
    trace_state t = { .app = app };
    t.rows = malloc(TRACE_MAX * sizeof *t.rows);
    if (!t.rows) {
        ui_error(owner, L"Out of memory.");
        return;
    }
    DialogBoxParamW(app->inst, MAKEINTRESOURCEW(IDD_TRACE), owner, trace_proc, (LPARAM)&t);
    free(t.rows);
}
