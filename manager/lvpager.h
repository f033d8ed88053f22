/* lvpager: an owner-data ListView over a positional view (mgr_view_ops),
 * what the Journal and Log tabs share. The control asks for the rows it
 * paints and a window of rows around them is read on demand, so a million
 * rows open at once; views open on a worker thread, auto-refresh runs on
 * a timer, and the CSV export runs on its own thread. The page keeps its
 * controls and filters; the pager does the reading. */
#ifndef TR_MGR_LVPAGER_H
#define TR_MGR_LVPAGER_H

#include <windows.h>
#include <commctrl.h>

#include "app.h"

/* Messages the pager's threads post to the page (lvpager_message takes
 * them), and the auto-refresh timer's id on the page. */
#define WM_APP_PAGER_EXPORTED (WM_APP + 20)
#define WM_APP_PAGER_OPENED   (WM_APP + 21)
#define LVPAGER_AUTO_TIMER    1

typedef struct lvpager_spec {
    const mgr_view_ops *ops;
    size_t filter_size;                      /* the ops' filter type */
    /* The page's filter controls into a filter of the ops' type. */
    void (*read_filter)(HWND page, void *filter);
    /* The text of one cell of a row. */
    void (*cell)(const void *row, int col, wchar_t *out, int len);
    /* Called after new rows are shown (may be NULL). */
    void (*shown)(HWND page);
    int list_id, count_id, export_id, auto_id;
    const wchar_t *name;                     /* "journal", "log": in sentences */
    const wchar_t *export_title;             /* the Save dialog's title */
    const wchar_t *export_file;              /* the file name it proposes */
} lvpager_spec;

typedef struct lvpager {
    const lvpager_spec *spec;
    mgr_app *app;
    HWND page;
    void *filter;                            /* the newest asked for: the export's */
    void *view;
    mgr_db *view_db;                         /* the view's own connection */
    unsigned seq;                            /* newest open request */
    int loading;
    size_t cache_first;
    long cache_count;
    unsigned char *cache;                    /* LVPAGER_CACHE rows */
} lvpager;

/* 0, or -1 when out of memory. page is set at WM_INITDIALOG. */
int lvpager_init(lvpager *p, const lvpager_spec *spec, mgr_app *app);
void lvpager_free(lvpager *p);
/* The row at a position of the list, NULL when it cannot be read. */
const void *lvpager_row(lvpager *p, size_t pos);
/* Asks for a fresh view with the page's filter; the list keeps showing the
 * old one until the new one is ready. automatic: no message boxes. */
void lvpager_refresh(lvpager *p, int keep_position, int automatic);
/* Asks for a file name and exports the rows of the view shown. */
void lvpager_export(lvpager *p);
/* The list's notifications, the pager's messages, the auto-refresh check
 * box and timer; TRUE when handled. */
BOOL lvpager_message(lvpager *p, UINT msg, WPARAM wp, LPARAM lp);

#endif
