/*
 * proxy/commands.h - what each client command line does
 * (proxy/commands.c), and the decisions the dry run shares.
 */
#ifndef MXS_COMMANDS_H
#define MXS_COMMANDS_H

#include <stddef.h>

#include "core/policy.h"
#include "core/smtp_cmd.h"
#include "proxy/config.h"
#include "proxy/session.h"

size_t	sess_command_input(struct session *s, const char *p, size_t len);
/* sess_redo_line - handle a command line again, once the answers it
 * waited for are in (proxy/await.c); not logged to the transcript
 * again. May close the session. */
void	sess_redo_line(struct session *s, const char *line, size_t len);
void	sess_auth_forget(struct session *s);
/* decisions shared with the dry run (proxy/dryrun.c) */
const char *sess_parse_line(const struct config *cfg, const char *line,
	    size_t len, struct smtp_cmd *c);
const char *sess_rcpt_limit(const struct config *cfg, int sent);
const char *sess_auth_tls(const struct config *cfg, int tls_up);
int	sess_auth_need_identity(const struct config *cfg);
void	sess_hijack_verdict(struct policy_verdict *v, enum policy_stage at,
	    const char *identity, int now);

#endif
