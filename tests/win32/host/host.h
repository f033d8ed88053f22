/* host: a test host that STANDS IN for the IIS SMTP service. Wine's cdosys
 * is a stub, so these are our own implementations, in C, of the CDO and ADO
 * objects the service hands to an OnArrival sink: an IMessage, its envelope
 * Fields and their Field objects, and the ADO _Stream with the message
 * bytes. They behave as the service's do where the sink relies on it (a
 * Field change is pending until Fields.Update commits it, CancelUpdate drops
 * it, a Stream's Type changes only at position 0, binary reads need a
 * binary stream) and record what the sink did so tests can check it. */
#ifndef TR_TEST_HOST_H
#define TR_TEST_HOST_H

#ifndef COBJMACROS
#define COBJMACROS
#endif
#ifndef CONST_VTABLE
#define CONST_VTABLE
#endif
#define ADOFields Fields
#define ADOField Field
#define _ADOStream _Stream
#define __CdoErrors_MODULE_DEFINED__
#include <windows.h>
#include <ole2.h>
#include <cdosys.h>

#include <stddef.h>

/* ADO's "item not found in this collection", what Fields.Item answers for
 * an unknown name. */
#define HOST_E_ITEM_NOT_FOUND ((HRESULT)0x800A0CC1L)
/* ADO's "operation not allowed in this context". */
#define HOST_E_ILLEGAL_OPERATION ((HRESULT)0x800A0C93L)

typedef struct {
    const char *sender;        /* senderemailaddress */
    const char *recipientlist; /* recipientlist, as IIS writes it */
    const char *message_id;    /* Message-ID header; NULL: none */
    const void *bytes;         /* the whole message */
    size_t len;
} host_message_spec;

typedef struct host_message host_message;

/* A message holding one reference, which host_message_release drops. */
host_message *host_message_new(const host_message_spec *spec);
IMessage *host_message_iface(host_message *m);
void host_message_release(host_message *m);

/* What the sink left committed in the envelope (UTF-8, malloc'd; NULL when
 * the field does not exist). Pending, uncommitted changes are not shown. */
char *host_message_committed(host_message *m, const wchar_t *field);
/* The committed messagestatus as a number. */
long host_message_status(host_message *m);
/* Successful Fields.Update calls so far. */
int host_message_updates(host_message *m);
/* Make every Fields.Update fail with hr (S_OK: succeed again). */
void host_message_fail_updates(host_message *m, HRESULT hr);
/* Make IMessage.GetStream fail with hr (S_OK: succeed again). */
void host_message_fail_stream(host_message *m, HRESULT hr);

/* Stand-in objects of any kind still alive in this process: the sink must
 * release every reference it takes, so this returns to zero. */
LONG host_objects_alive(void);

/* Internal to the host files. */
void host_object_created(void);
void host_object_destroyed(void);
typedef struct host_envelope host_envelope;
HRESULT host_fields_create(host_message *owner, host_envelope *env, Fields **out);
HRESULT host_stream_create(const void *bytes, size_t len, _Stream **out);
void host_message_add_ref(host_message *m);
void host_message_note_update(host_message *m);
HRESULT host_message_update_result(host_message *m);

/* A field set: names and values, committed and pending. */
host_envelope *host_envelope_new(void);
void host_envelope_free(host_envelope *env);
int host_envelope_set(host_envelope *env, const wchar_t *name, const VARIANT *value);
/* Committed value of name into out (VariantInit'd by the caller). */
HRESULT host_envelope_committed(host_envelope *env, const wchar_t *name, VARIANT *out);

/* A Linux path (as CMake knows the build tree) as Wine sees it: Z:\... */
void host_windows_path(const char *unix_path, wchar_t *out, size_t len);

/* Run a command line, wait at most timeout_ms; its exit code, or -1 if it
 * could not start or did not end in time (it is then terminated). */
int host_run(const wchar_t *command_line, DWORD timeout_ms);
/* host_run with standard output and error going to the files out_path and
 * err_path (created anew). */
int host_run_capture(const wchar_t *command_line, const wchar_t *out_path, const wchar_t *err_path,
                     DWORD timeout_ms);
/* regsvr32 /s [/u] dll: 0 when regsvr32 reports success. */
int host_regsvr32(const wchar_t *dll, int unregister);

/* Files directly in dir (UTF-8 full paths, malloc'd array of malloc'd
 * strings); the count, or -1 if dir cannot be read. */
int host_list_files(const char *dir, char ***paths);
void host_free_list(char **paths, int n);
/* A whole file, NUL-terminated, malloc'd; NULL on failure. */
char *host_read_file(const char *path, size_t *len);
/* Remove every file directly in dir. */
void host_empty_dir(const char *dir);

#endif
