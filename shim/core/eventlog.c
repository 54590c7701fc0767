/* See eventlog.h. */
#include "eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "errnames.h"
#include "filecheck.h"
#include "jsonwrite.h"
#include "procid.h"
#include "sysraw.h"

static const char *const call_names[] = { "connect", "bind", "sendto", "sendmsg", "sendmmsg",
					   "connect-result" };

static void field(struct line *l, const char *name)
{
	line_raw(l, l->len > 1 ? ",\"" : "\"");
	line_raw(l, name);
	line_raw(l, "\":");
}

/* What every line starts with: when, and which process and thread of which
 * program. */
void eventlog_line_head(struct line *l, const struct log_origin *o)
{
	line_raw(l, "{");
	field(l, "time");
	line_time(l, o->sec, o->usec);
	field(l, "pid");
	line_uint(l, (uint64_t)o->pid);
	field(l, "tid");
	line_uint(l, (uint64_t)o->tid);
	field(l, "comm");
	line_string(l, o->comm);
}

static void line_error(struct line *l, int error)
{
	field(l, "errno");
	line_uint(l, (uint64_t)error);
	field(l, "error");
	if (error) {
		const char *name = errno_name(error);
		line_string(l, name ? name : "unknown");
	} else {
		line_raw(l, "null");
	}
}

static size_t line_end(struct line *l)
{
	line_raw(l, "}");
	l->buf[l->len++] = '\n';
	l->buf[l->len] = '\0';
	return l->len;
}

size_t eventlog_format(char *buf, size_t size, const struct decision *d,
		       const struct log_origin *o)
{
	struct line l = { buf, size - 1, 0 }; /* room kept for the newline */
	bool result = d->call == CALL_CONNECT_RESULT;

	eventlog_line_head(&l, o);
	/* The BPF backend sees a socket, not the program's number for it. */
	field(&l, "fd");
	if (d->fd < 0)
		line_raw(&l, "null");
	else
		line_uint(&l, (uint64_t)d->fd);
	field(&l, "call");
	line_string(&l, call_names[d->call]);
	field(&l, "proto");
	line_string(&l, d->type == SOCK_DGRAM ? "udp" : "tcp");
	field(&l, "family");
	line_string(&l, d->family == AF_INET6 ? "ipv6" : "ipv4");
	field(&l, "dst");
	if (d->call == CALL_BIND)
		line_raw(&l, "null");
	else
		line_sockaddr(&l, d->addr, d->addr_len);
	field(&l, "dst_addr");
	line_sockaddr_host(&l, d->call == CALL_BIND ? NULL : d->addr, d->addr_len);
	field(&l, "dst_port");
	line_sockaddr_port(&l, d->call == CALL_BIND ? NULL : d->addr, d->addr_len);
	if (!result) {
		field(&l, "policy");
		line_string(&l, d->policy);
		field(&l, "strategy");
		if (d->result == RESULT_PASSTHROUGH)
			line_raw(&l, "null");
		else
			line_string(&l, config_strategy_name(d->strategy));
	}
	field(&l, "port");
	if (d->port) {
		line_uint(&l, d->port);
		field(&l, "parity");
		line_string(&l, d->port % 2 ? "odd" : "even");
	} else {
		line_raw(&l, "null");
		field(&l, "parity");
		line_raw(&l, "null");
	}
	if (!result) {
		field(&l, "attempts");
		line_uint(&l, d->attempts);
	}
	field(&l, "result");
	line_string(&l, result ? (d->error ? "failed" : "connected")
			       : decision_result_name(d->result));
	line_error(&l, d->error);
	return line_end(&l);
}

void eventlog_init(struct eventlog_state *out)
{
	struct stat st;

	out->stderr_known = sys_fstat(STDERR_FILENO, &st) == 0;
	/* The program's name, once: a prctl() per line would be a system call
	 * on the connect path.  A name the program sets later is not seen. */
	if (prctl(PR_GET_NAME, out->comm) != 0)
		out->comm[0] = '\0';
	out->comm[sizeof(out->comm) - 1] = '\0';
	out->stderr_dev = st.st_dev;
	out->stderr_ino = st.st_ino;
}

/* fd 2 as it was when the library started, and nothing else: a daemon that
 * closed it may since have got a socket or a file of its own as number 2.
 * Checked on every line rather than tracked through the close()/dup2()
 * hooks: fclose(stderr) and freopen() reach the kernel through glibc's
 * internal calls, which no hook sees.  The cost, one fstat(), is only paid
 * when a line goes to stderr at all. */
static void write_stderr(const struct eventlog_state *out, const char *buf, size_t len)
{
	struct stat st;

	if (!out->stderr_known || sys_fstat(STDERR_FILENO, &st) != 0 ||
	    st.st_dev != out->stderr_dev || st.st_ino != out->stderr_ino)
		return;
	if (write(STDERR_FILENO, buf, len) < 0) {
		/* Nothing to do: the application must not see our failure. */
	}
}

/* One write(2) of the whole line, to stderr or to a file opened for this
 * line alone (see eventlog.h).  A file refused by sink_open() is given up
 * for the rest of the process, with one warning. */
static void write_line(struct eventlog_state *out, struct sink_state *sink, const char *label,
		       const char *target, const char *line, size_t len)
{
	struct sink_check why;
	int fd;

	if (strcmp(target, "stderr") == 0) {
		write_stderr(out, line, len);
		return;
	}
	if (atomic_load_explicit(&sink->refused, memory_order_relaxed))
		return;
	fd = sink_open(target, &why);
	if (fd < 0) {
		if (why.verdict != SINK_OPEN_FAILED)
			atomic_store_explicit(&sink->refused, true, memory_order_relaxed);
		if (!atomic_exchange_explicit(&sink->warned, true, memory_order_relaxed)) {
			char buf[CONFIG_PATH_MAX + 200];
			struct line l = { buf, sizeof(buf), 0 };
			sink_warning(&l, label, target, &why);
			write_stderr(out, buf, l.len);
		}
		return;
	}
	if (write(fd, line, len) < 0) {
		/* Nothing to do: the application must not see our failure. */
	}
	syscall(SYS_close, fd);
}

void log_origin_now(struct eventlog *log, struct log_origin *o)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*o = (struct log_origin){ procid_pid(log->wipe), procid_tid(log->wipe), ts.tv_sec,
				  ts.tv_nsec / 1000, log->out.comm };
}

void eventlog_write(struct eventlog *log, const char *line, size_t len)
{
	if (log->log[0])
		write_line(&log->out, &log->out.log, "PORTSHIM_LOG", log->log, line, len);
}

void eventlog_stderr(struct eventlog *log, const char *text, size_t len)
{
	write_stderr(&log->out, text, len);
}

void eventlog_record(struct eventlog *log, const struct decision *d)
{
	eventlog_record_for(log, d, 0, 0, NULL);
}

void eventlog_record_for(struct eventlog *log, const struct decision *d, long pid, long tid,
			 const char *comm)
{
	eventlog_record_at(log, d, pid, tid, comm, NULL);
}

void eventlog_record_at(struct eventlog *log, const struct decision *d, long pid, long tid,
			const char *comm, const struct timespec *when)
{
	int saved = errno;

	if (log->summary[0] && d->call != CALL_CONNECT_RESULT) {
		struct stats *st = &log->stats;
		atomic_fetch_add_explicit(&st->result[d->result], 1, memory_order_relaxed);
		if (d->port)
			atomic_fetch_add_explicit(d->port % 2 ? &st->odd : &st->even, 1,
						  memory_order_relaxed);
		if (d->attempts)
			atomic_fetch_add_explicit(&st->attempts[attempt_bucket(d->attempts)], 1,
						  memory_order_relaxed);
	}
	if (log->log[0]) {
		char buf[896];
		struct log_origin o;
		log_origin_now(log, &o);
		if (when) {
			o.sec = when->tv_sec;
			o.usec = when->tv_nsec / 1000;
		}
		if (pid) {
			o.pid = pid;
			o.tid = tid;
		}
		if (comm)
			o.comm = comm;
		size_t len = eventlog_format(buf, sizeof(buf), d, &o);
		write_line(&log->out, &log->out.log, "PORTSHIM_LOG", log->log, buf, len);
	}
	errno = saved;
}

size_t stats_format(char *buf, size_t size, const struct stats *stats, long pid)
{
	struct line l = { buf, size - 1, 0 };
	uint64_t total = 0;

	for (int i = 0; i < RESULT_COUNT; i++)
		total += atomic_load(&stats->result[i]);
	line_raw(&l, "portshim: pid ");
	line_uint(&l, (uint64_t)pid);
	line_raw(&l, ": ");
	line_uint(&l, total);
	line_raw(&l, total == 1 ? " decision:" : " decisions:");
	for (int i = 0; i < RESULT_COUNT; i++) {
		line_raw(&l, i ? ", " : " ");
		line_raw(&l, decision_result_name((enum decision_result)i));
		line_raw(&l, " ");
		line_uint(&l, atomic_load(&stats->result[i]));
	}
	line_raw(&l, "; ports: even ");
	line_uint(&l, atomic_load(&stats->even));
	line_raw(&l, ", odd ");
	line_uint(&l, atomic_load(&stats->odd));
	line_raw(&l, "; attempts:");
	/* The summary counts calls that tried a port: from 1 up. */
	for (int i = 1; i < ATTEMPT_BUCKETS; i++) {
		line_raw(&l, " ");
		line_raw(&l, attempt_bucket_name(i));
		line_raw(&l, ":");
		line_uint(&l, atomic_load(&stats->attempts[i]));
	}
	buf[l.len++] = '\n';
	buf[l.len] = '\0';
	return l.len;
}

void stats_write(struct eventlog *log)
{
	stats_write_for(log, procid_pid(log->wipe));
}

void stats_write_for(struct eventlog *log, long pid)
{
	char buf[512];

	uint64_t total = 0;

	for (int i = 0; i < RESULT_COUNT; i++)
		total += atomic_load(&log->stats.result[i]);
	/* Processes that made no decision (a shell, a helper) stay quiet. */
	if (!log->summary[0] || total == 0)
		return;
	size_t len = stats_format(buf, sizeof(buf), &log->stats, pid);
	write_line(&log->out, &log->out.stats, "PORTSHIM_STATS", log->summary, buf, len);
}
