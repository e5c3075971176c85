/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Logging for the control thread and the slow paths of the workers (allocation events, start,
 * stop, reload). Never called per packet: the data plane counts instead of logging.
 */
#ifndef TURNPIKE_LOG_H
#define TURNPIKE_LOG_H

#include <stdarg.h>

/** Levels, most severe first; the numbers match enum tp_conf_log_level. */
enum tp_log_level {
	TP_LOG_ERROR = 0,
	TP_LOG_WARN = 1,
	TP_LOG_INFO = 2,
	TP_LOG_DEBUG = 3,
};

/** Show messages up to @p level (default TP_LOG_INFO). Safe to call from any thread. */
void tp_log_set_level(enum tp_log_level level);

/** The current level. */
enum tp_log_level tp_log_get_level(void);

/** True when @p level would be shown: test it before formatting anything costly. */
int tp_log_enabled(enum tp_log_level level);

/** Write one line "TIME LEVEL message" to standard error, in one write. */
void tp_log(enum tp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** As tp_log() with a va_list. */
void tp_vlog(enum tp_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif /* TURNPIKE_LOG_H */
