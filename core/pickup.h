/* pickup: the hand-off to the Plain TCP server. One file per message for
 * all recipients routed plain: "x-sender:", one "x-receiver:" per
 * recipient, our own "Received:" trace line, then the message, dot-stuffed
 * with CRLF line ends. IIS reads the leading x-sender / x-receiver lines as
 * the envelope; the trace line ends that block, so no header of the
 * message can ever be read as one more recipient. The same trace tells a
 * message that comes back to this server (pickup_has_trace). Written
 * under a temporary name on the same volume outside the Pickup folder,
 * flushed, then moved in under a name that never replaces another file, so
 * IIS never sees half a file. */
#ifndef TR_PICKUP_H
#define TR_PICKUP_H

#include <stddef.h>
#include <stdint.h>

/* Folder next to the Pickup folder that holds files being written. */
#define PICKUP_TEMP_DIR_NAME "TLSRouter-Temp"

/* Longest envelope address accepted (RFC 5321: 64 + 1 + 255). */
#define PICKUP_ADDRESS_MAX 320
/* Longest host name in the trace line (RFC 1035). */
#define PICKUP_TRACE_HOST_MAX 255

typedef struct {
    const char *pickup_dir;          /* the Plain server's Pickup folder */
    const char *temp_dir;            /* NULL: <pickup_dir>/../TLSRouter-Temp */
    const char *sender;              /* "" for the null reverse path */
    const char *const *recipients;
    size_t n_recipients;             /* at least one */
    const unsigned char *message;
    size_t message_len;
    const char *trace_host;          /* this server in the trace (pickup_trace_host) */
    int source_instance;             /* the virtual server the message came from, 1.. */
    int64_t trace_time_ms;           /* the trace's date; 0: now */
} pickup_job;

/* 0 when addr can go into an x-sender / x-receiver line: local@domain in
 * printable ASCII, no control characters, no CR/LF, no angle brackets, no
 * list separators. The sender may be empty (null reverse path) when
 * allow_empty is set. -1 with the reason in err otherwise. */
int pickup_check_address(const char *addr, int allow_empty, char *err, size_t errlen);

/* This server's name in the trace: the configured EHLO name when it is a
 * usable host name, else the machine's (plat_hostname), else "localhost",
 * in the order the probe chooses its EHLO name. len: at least
 * PICKUP_TRACE_HOST_MAX + 1. */
void pickup_trace_host(const char *configured, char *buf, size_t len);

/* The trace line, CRLF-ended, folded where it would pass 78 characters:
 *   Received: by HOST (TLS Router VERSION)
 *   <TAB>with hand-off from virtual server N; <RFC 5322 date, UTC>
 * Its length, or 0 when host is not a host name, source_instance is below
 * 1 or buf is shorter than PICKUP_TRACE_LINE_MAX. */
#define PICKUP_TRACE_LINE_MAX 600
size_t pickup_trace_line(const char *host, int source_instance, int64_t time_ms, char *buf,
                         size_t len);

/* 1 when the message's header block (up to its first empty line; folded
 * fields, LF or CRLF, any case) holds the trace this writer puts in for
 * host and source_instance: the message was handed off by this virtual
 * server before and has come back. Linear in len, fixed memory, whatever
 * the input. */
int pickup_has_trace(const unsigned char *msg, size_t len, const char *host,
                     int source_instance);

/* 0 when dest may be a rule's destination for a source virtual server
 * whose own Pickup folder is source_pickup (NULL or "": not known, nothing
 * is refused); -1 with the reason in err when dest is that very folder:
 * every message handed off would arrive on the source server again. */
int pickup_check_destination(const char *dest, const char *source_pickup, int source_instance,
                             char *err, size_t errlen);

/* The bytes of the pickup file for a job, in a fresh buffer (free()). */
int pickup_render(const pickup_job *job, unsigned char **out, size_t *out_len,
                  char *err, size_t errlen);

/* Writes the job's pickup file. 0 and the final path in path_out, or -1
 * with a one-line reason in err and nothing left in either folder. */
int pickup_write(const pickup_job *job, char *path_out, size_t path_len,
                 char *err, size_t errlen);

/* The temporary folder pickup_write uses for a Pickup folder. */
int pickup_temp_dir_for(const char *pickup_dir, char *buf, size_t len);

/* A hand-off file this old in the temporary folder was left by a process
 * that stopped mid-write (power cut, killed service): writing one takes
 * seconds at most. */
#define PICKUP_STALE_TEMP_MS (60 * 60 * 1000)

/* Removes our temporary files ("tlsrouter-*.tmp") last written more than
 * max_age_ms before now_ms (wall clock) from the temporary folder of
 * pickup_dir; younger ones may be being written, other files are not
 * ours. Returns the number removed (0 when the folder does not exist), or
 * -1 when it exists but cannot be listed. */
int pickup_sweep_temp(const char *pickup_dir, int64_t now_ms, int64_t max_age_ms);

/* A handed-off file older than this has not been picked up: the Plain TCP
 * Server is not draining its Pickup folder (stopped, or another folder). */
#define PICKUP_UNDRAINED_MS (5 * 60 * 1000)

/* What waits in a Pickup folder: how many files, and the last-write time
 * of the oldest (wall clock ms; 0 when none). 0, or -1 when the folder
 * cannot be listed. */
typedef struct {
    size_t count;
    int64_t oldest_ms;
} pickup_backlog;
int pickup_backlog_of(const char *pickup_dir, pickup_backlog *out);

/* Failure injection for tests: the next pickup_write of this process fails
 * at the given step, after doing the real work up to it. */
typedef enum {
    PICKUP_FAULT_NONE = 0,
    PICKUP_FAULT_WRITE,   /* the temp file is half written, then "disk full" */
    PICKUP_FAULT_RENAME   /* the temp file is complete, the move fails */
} pickup_fault;
void pickup_inject_fault(pickup_fault fault);

#endif
