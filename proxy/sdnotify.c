/*
 * proxy/sdnotify.c - the sd_notify(3) messages of proxy/sdnotify.h,
 * sent with libsystemd (a datagram to $NOTIFY_SOCKET). Called from the
 * main thread; errors are ignored, as systemd's own daemons do: a lost
 * notification shows as a start timeout in systemd, never as a failure
 * of mail service.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "proxy/sdnotify.h"

static void
send_state(const char *state, const char *status)
{
	char	 msg[320];

	if (status != NULL)
		snprintf(msg, sizeof(msg), "%s\nSTATUS=%.200s", state, status);
	else
		snprintf(msg, sizeof(msg), "%s", state);
	(void)sd_notify(0, msg);
}

void
sdn_ready(const char *status)
{
	send_state("READY=1", status);
}

void
sdn_reloading(const char *status)
{
	struct timespec	 ts;
	char		 state[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	send_state(state, status);
}

void
sdn_stopping(const char *status)
{
	send_state("STOPPING=1", status);
}

void
sdn_status(const char *fmt, ...)
{
	va_list	 ap;
	char	 line[201];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	(void)sd_notifyf(0, "STATUS=%s", line);
}
