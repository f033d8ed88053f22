/* iis: the IIS SMTP virtual servers, read through ADSI
 * (IIS://localhost/SmtpSvc, children of class IIsSmtpServer). */
#ifndef TR_MGR_IIS_H
#define TR_MGR_IIS_H

#include <windows.h>

typedef struct iis_server {
    int instance;                  /* the child's name: 1, 2, ... */
    wchar_t comment[128];          /* ServerComment, e.g. "Plain TCP Server" */
    wchar_t pickup[MAX_PATH];      /* PickupDirectory */
} iis_server;

/* Fills up to max servers; returns how many, 0 when none could be read
 * (IIS 6 metabase compatibility not installed, or not Windows Server).
 * COM must be initialised on the calling thread. */
int iis_servers_list(iis_server *out, int max);

#endif
