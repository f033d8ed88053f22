/* INTERIM, test-only: the agreed engine interface, until core/engine.h
 * lands from the routing work. Removed when it does. */
#ifndef TR_ENGINE_H
#define TR_ENGINE_H
#include <stddef.h>
#include "log.h"
typedef struct engine engine;
int engine_open(const char *db_path, engine **out, char *err, size_t errlen);
void engine_close(engine *e);
typedef struct engine_config {
    log_level log_level;
} engine_config;
engine_config *engine_acquire_config(engine *e);
void engine_release_config(engine *e, engine_config *cfg);
void engine_log(engine *e, log_level level, const char *fmt, ...);
#endif
