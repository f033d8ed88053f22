/* pickup: the hand-off to the Plain TCP server. One file per message for
 * all recipients routed plain: "x-sender:", one "x-receiver:" per
 * recipient, then the message, dot-stuffed with CRLF line ends. Written
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

typedef struct {
    const char *pickup_dir;          /* the Plain server's Pickup folder */
    const char *temp_dir;            /* NULL: <pickup_dir>/../TLSRouter-Temp */
    const char *sender;              /* "" for the null reverse path */
    const char *const *recipients;
    size_t n_recipients;             /* at least one */
    const unsigned char *message;
    size_t message_len;
} pickup_job;

/* 0 when addr can go into an x-sender / x-receiver line: local@domain in
 * printable ASCII, no control characters, no CR/LF, no angle brackets, no
 * list separators. The sender may be empty (null reverse path) when
 * allow_empty is set. -1 with the reason in err otherwise. */
int pickup_check_address(const char *addr, int allow_empty, char *err, size_t errlen);

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

/* Failure injection for tests: the next pickup_write of this process fails
 * at the given step, after doing the real work up to it. */
typedef enum {
    PICKUP_FAULT_NONE = 0,
    PICKUP_FAULT_WRITE,   /* the temp file is half written, then "disk full" */
    PICKUP_FAULT_RENAME   /* the temp file is complete, the move fails */
} pickup_fault;
void pickup_inject_fault(pickup_fault fault);

#endif
