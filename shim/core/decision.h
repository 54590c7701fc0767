/* One decision of the shim about one call: what the event log records and
 * the exit summary counts. */
#ifndef PORTSHIM_DECISION_H
#define PORTSHIM_DECISION_H

#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/* CALL_CONNECT_RESULT is no decision: how a connect() that returned
 * EINPROGRESS ended (error 0: connected), logged when the application
 * learns it (getsockopt(SO_ERROR), a repeated connect()). */
enum shim_call { CALL_CONNECT, CALL_BIND, CALL_SENDTO, CALL_SENDMSG, CALL_SENDMMSG,
		 CALL_CONNECT_RESULT };

enum decision_result {
	RESULT_OK,          /* the socket got a port of the policy */
	RESULT_FALLBACK,    /* the kernel chose: on-exhaust=kernel, or a strategy could not apply */
	RESULT_EXHAUSTED,   /* no port of the policy was free: the call failed */
	RESULT_PASSTHROUGH, /* policy off: observed only */
	RESULT_CLASH,       /* reuse: the bound port's 4-tuple was taken; the call failed */
};
#define RESULT_COUNT 5

struct decision {
	enum shim_call call;
	int fd;
	int type;                   /* SOCK_STREAM or SOCK_DGRAM */
	int family;                 /* of the socket */
	const struct sockaddr *addr; /* destination; for bind, the local address asked for */
	socklen_t addr_len;
	const char *policy;         /* the policy's name */
	enum strategy strategy;     /* as applied (UDP and bind: exclusive) */
	unsigned port;              /* the local port the socket got; 0 if none */
	unsigned attempts;          /* candidates tried */
	enum decision_result result;
	int error;                  /* the errno the application saw; 0 for success */
};

/* A decision about a call on socket fd (of `type`, `family`) to addr, under
 * the policy named `policy`: begun by the front end that sees the call,
 * completed by whoever applies the port (apply.h). */
void decision_begin(struct decision *d, enum shim_call call, int fd, int type, int family,
		    const struct sockaddr *addr, socklen_t len, const char *policy);

/* "ok", "fallback", ...: the log's, the summary's and the report's word. */
const char *decision_result_name(enum decision_result result);

/* The attempts histogram of the exit summary and of portshim report:
 * 0, 1, 2, 3-4, 5-8, 9-16, 17+ candidates tried. */
#define ATTEMPT_BUCKETS 7
int attempt_bucket(uint64_t attempts);
const char *attempt_bucket_name(int bucket);

#endif
