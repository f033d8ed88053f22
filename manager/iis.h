/* iis: the IIS SMTP virtual servers, read through ADSI
 * (IIS://localhost/SmtpSvc, children of class IIsSmtpServer). Shared by
 * the manager's rule dialog and the Windows tlsrouter command. */
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

/* The Pickup folder of virtual server instance (IIS://localhost/SmtpSvc/N,
 * PickupDirectory), in UTF-8: 0, or -1 when IIS cannot be read or has no
 * such server (then nobody knows it). Brings COM up on the calling thread
 * if it is not. */
int iis_pickup_dir(int instance, char *buf, size_t len);

#endif
