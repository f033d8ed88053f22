/* INTERIM, test-only: the agreed engine interface, until core/engine.h
 * lands from the routing work. Removed when it does. */
#ifndef TR_ENGINE_H
#define TR_ENGINE_H
#include <stddef.h>
typedef struct engine engine;
int engine_open(const char *db_path, engine **out, char *err, size_t errlen);
void engine_close(engine *e);
#endif
