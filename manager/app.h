/* app: the manager's process-wide state and the entry points of its pages.
 * One main dialog holds a tab control; each tab is a child dialog (page)
 * created by its module. */
#ifndef TR_MGR_APP_H
#define TR_MGR_APP_H

#include <windows.h>

#include "mgr_data.h"

enum { PAGE_OVERVIEW, PAGE_RULES, PAGE_JOURNAL, PAGE_LOG, PAGE_CACHE, PAGE_STATUS, PAGE_COUNT };

typedef struct mgr_app {
    HINSTANCE inst;
    mgr_db *db;
    HWND main;
    HWND pages[PAGE_COUNT];
} mgr_app;

/* The main dialog; returns its window (modeless) or NULL. */
HWND mainwnd_create(mgr_app *app);
/* Shows a short sentence in the main window's status line. */
void app_status(mgr_app *app, const wchar_t *fmt, ...);
/* Lets a page route keyboard shortcuts (Ctrl+Tab) before IsDialogMessage. */
BOOL mainwnd_pretranslate(mgr_app *app, MSG *msg);

HWND page_overview_create(mgr_app *app, HWND parent);
HWND page_rules_create(mgr_app *app, HWND parent);
HWND page_journal_create(mgr_app *app, HWND parent);
HWND page_log_create(mgr_app *app, HWND parent);
HWND page_cache_create(mgr_app *app, HWND parent);
HWND page_status_create(mgr_app *app, HWND parent);

/* The rule dialog: rule_id 0 for a new rule. Returns the id of the saved
 * rule, 0 when cancelled. */
int64_t rule_dialog_run(mgr_app *app, HWND owner, int64_t rule_id);
/* Every setting of the database, editable. */
void settings_dialog_run(mgr_app *app, HWND owner);
/* "Trace a Message": every recipient's decision for a Message-ID or sender. */
void trace_dialog_run(mgr_app *app, HWND owner);
/* The "Test a domain" dialog. */
void probe_dialog_run(mgr_app *app, HWND owner);

/* Each page stores its mgr_app in GWLP_USERDATA at WM_INITDIALOG. */
#define PAGE_APP(hwnd) ((mgr_app *)GetWindowLongPtrW((hwnd), GWLP_USERDATA))

#endif
