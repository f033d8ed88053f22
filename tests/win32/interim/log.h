/* INTERIM, test-only: the log levels of core/log.h, until it lands. */
#ifndef TR_LOG_H
#define TR_LOG_H
typedef enum { LOG_ERROR = 0, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_FULL_DEBUG } log_level;
#endif
