/*
 * proxy/sdnotify.h - telling systemd (Type=notify) where mxshield is:
 * ready, reloading, stopping, and a status line for `systemctl
 * status`. Without $NOTIFY_SOCKET (not under systemd, or Type=simple)
 * every call does nothing.
 */
#ifndef MXS_SDNOTIFY_H
#define MXS_SDNOTIFY_H

/*
 * sdn_ready - the listeners are up and privileges dropped: READY=1
 * with status as STATUS= (NULL: none). Also what ends a reload: call
 * it once the new configuration is in force (or refused).
 */
void	sdn_ready(const char *status);

/*
 * sdn_reloading - a reload starts (SIGHUP, mxshield ctl reload):
 * RELOADING=1 with MONOTONIC_USEC=, as systemd >= 253 wants for
 * Type=notify-reload and older ones accept. Follow it with sdn_ready()
 * when the reload is done, whether it succeeded or not; systemctl
 * reload waits for that READY=1.
 */
void	sdn_reloading(const char *status);

/* sdn_stopping - the drain begins: STOPPING=1 and a status line. */
void	sdn_stopping(const char *status);

/* sdn_status - STATUS= alone (printf-like, one line, cut at 200). */
void	sdn_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
