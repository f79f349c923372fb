/*
 * proxy/side.h - one TCP connection of a session (the client's, or one
 * to the backend) and the per-loop buffers every side shares. A side
 * knows nothing of SMTP: it reads into the loop's buffer, drives TLS,
 * batches writes, applies back-pressure marks, and reports to its owner
 * only through the struct side_ops it was given (plaintext in, end of
 * the connection, handshake done, write queue drained, closed). It is
 * the bottom of the proxy's include graph (see proxy/session.h).
 */
#ifndef MXS_SIDE_H
#define MXS_SIDE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tls/tls.h"

#define RBUF_SIZE	(64 * 1024)	/* per-loop read buffer */
#define SCRATCH_SIZE	(128 * 1024)	/* per-loop output batch */
#define WQ_HIGH		(256 * 1024)	/* stop reading the other side */
#define WQ_LOW		(64 * 1024)	/* resume */

struct mx_worker;
struct side;

/* What a side tells its owner. Each may end the owner's use of the side
 * (it may call side_close() from inside); the side checks afterwards. */
struct side_ops {
	/* plaintext arrived (n > 0); the bytes are borrowed for the call */
	void	(*data)(void *owner, const char *p, size_t n);
	/* the connection ended: EOF, a read or write error, TLS failure */
	void	(*eof)(void *owner, const char *why);
	/* the TLS handshake completed */
	void	(*tls_ready)(void *owner);
	/* the write queue went below WQ_LOW (or to 0) */
	void	(*drained)(void *owner);
	/* may more plaintext be delivered now (TLS pump); NULL: always */
	int	(*can_read)(void *owner);
	/* both handles are closed: the owner may free the side now */
	void	(*closed)(void *owner);
};

/* Per event loop: where reads land, and the output batch. */
struct sideio {
	uv_loop_t	*loop;
	char		*rbuf;		/* RBUF_SIZE, reads land here */
	int		 rbuf_busy;
	char		*scratch;	/* SCRATCH_SIZE, batched output */
	size_t		 scratch_len;
	struct side	*scratch_to;
	struct mx_worker *mx;		/* borrowed: the loop's counters
					   (proxy/metrics.h), or NULL */
};

struct side {
	uv_tcp_t	 tcp;		/* freed only after its close callback */
	uv_timer_t	 timer;		/* the owner's clock: side_clock_*() */
	uv_timer_cb	 clock_cb;	/* what the clock calls when due */
	uint64_t	 deadline;	/* loop time the clock is due; 0: off */
	uint64_t	 armed;		/* loop time the libuv timer fires at;
					   0: not armed */
	struct sideio	*io;		/* borrowed: the loop's buffers */
	const struct side_ops *ops;	/* borrowed */
	void		*owner;		/* NULL once detached: nothing is
					   reported any more */
	const char	*name;		/* "client" or "backend", for logs */
	char		*in;		/* owned; unparsed input, NULL if none */
	size_t		 in_len;
	size_t		 in_cap;
	size_t		 queued;	/* bytes handed to uv_write, not done */
	uint64_t	 bytes_out;	/* plaintext written */
	int		 mx_side;	/* enum mx_side: whose bytes these are */
	int		 handles;	/* open handles (tcp, timer) */
	struct tls	*tls;		/* owned; NULL while plaintext */
	unsigned	 tls_ready:1;	/* handshake complete */
	unsigned	 tls_client:1;	/* we handshake as the TLS client */
	unsigned	 pumping:1;	/* inside side_tls_pump() */
	unsigned	 connected:1;
	unsigned	 reading:1;
	unsigned	 closing:1;
	unsigned	 eof:1;
};

void	side_init(struct side *d, struct sideio *io, const char *name,
	    const struct side_ops *ops, void *owner);
int	side_write(struct side *d, const char *p, size_t n);
void	side_start_read(struct side *d);
void	side_stop_read(struct side *d);
void	side_close(struct side *d);
int	side_start_tls(struct side *d, struct tls_ctx *ctx, int as_client);
void	side_tls_pump(struct side *d);
int	side_append_in(struct side *d, const char *p, size_t n, size_t cap);
void	side_consume_in(struct side *d, size_t n);
/*
 * The side's clock, lazy: side_clock_set() only moves a deadline, and
 * the libuv timer is started only when that deadline is earlier than
 * the one armed (or none is), so a busy session costs no timer-heap
 * work per command or reply. side_clock_stop() clears the deadline
 * and leaves an armed timer to fire for nothing. The callback given
 * to side_clock_set() starts with side_clock_due(): 0 when the
 * deadline is not reached (the timer is armed again for the rest) or
 * was cleared, 1 when the timeout is real.
 */
void	side_clock_set(struct side *d, uint64_t ms, uv_timer_cb cb);
void	side_clock_stop(struct side *d);
int	side_clock_due(struct side *d);
int	side_clock_running(const struct side *d);
void	scratch_put(struct side *to, const char *p, size_t n);
void	scratch_flush(struct sideio *io);
void	scratch_forget(struct side *d);

#endif
