/* See control.h.  The check runs in whichever thread calls connect() or
 * bind() first in a new second; the others see `busy` taken and go on with
 * the plans in force, so no thread ever waits for another's system calls.
 * The file is read with the config files' own reader (configfile.c) and
 * check (filecheck.c: a privileged process reads only a file that passes
 * StrictModes).  A switch is one atomic store of a plan pointer; the plans
 * live in the runtime's pool (no allocation) and are never rewritten. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "configure.h"
#include "jsonwrite.h"
#include "runtime.h"
#include "settings.h"
#include "sysraw.h"

/* The scratch settings of a check: one checker at a time (busy). */
static struct config scratch;

static bool file_changed(struct control_state *c, const char *path)
{
	struct stat st;

	if (sys_fstatat(AT_FDCWD, path, &st, 0) != 0) {
		bool was = c->missing;
		c->missing = true;
		c->seen = false;
		return !was; /* gone: said once */
	}
	if (c->seen && st.st_dev == c->dev && st.st_ino == c->ino && st.st_size == c->size &&
	    st.st_mtim.tv_sec == c->mtime_sec && st.st_mtim.tv_nsec == c->mtime_nsec &&
	    st.st_ctim.tv_sec == c->ctime_sec && st.st_ctim.tv_nsec == c->ctime_nsec)
		return false;
	c->seen = true;
	c->missing = false;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->size = st.st_size;
	c->mtime_sec = st.st_mtim.tv_sec;
	c->mtime_nsec = st.st_mtim.tv_nsec;
	c->ctime_sec = st.st_ctim.tv_sec;
	c->ctime_nsec = st.st_ctim.tv_nsec;
	return true;
}

/* Only connect, bind and parity can be switched: any other setting the
 * file gives, even with its default value, is refused rather than
 * silently ignored. */
static bool only_policies(const struct config *cfg)
{
	for (size_t i = 0; i < settings_count; i++) {
		const char *key = settings[i].key;
		if (cfg->origin[i] != CONFIG_DEFAULT && strcmp(key, "connect") != 0 &&
		    strcmp(key, "bind") != 0 && strcmp(key, "parity") != 0)
			return false;
	}
	return true;
}

/* The control file's policy for connect() or bind(): its own setting, then
 * its parity, then the one the program started with. */
static const struct policy *chosen(const struct config *file, const struct config *env,
				   bool for_bind)
{
	if (for_bind ? file->bind_set : file->connect_set)
		return for_bind ? &file->bind : &file->connect;
	if (file->parity_set)
		return &file->parity;
	return for_bind ? &env->bind : &env->connect;
}

/* One "call":"control" line in the log, and for a refusal one line on
 * stderr too. */
static void say(struct runtime *rt, const char *result, const char *error)
{
	char buf[3 * CONFIG_PATH_MAX];
	struct line l = { buf, sizeof(buf) - 1, 0 };
	struct log_origin o;
	const struct plan *c = atomic_load_explicit(&rt->connect_now, memory_order_relaxed);
	const struct plan *b = atomic_load_explicit(&rt->bind_now, memory_order_relaxed);

	log_origin_now(&rt->log, &o);
	eventlog_line_head(&l, &o);
	line_raw(&l, ",\"call\":\"control\",\"file\":");
	line_string(&l, rt->cfg.control);
	line_raw(&l, ",\"result\":");
	line_string(&l, result);
	line_raw(&l, ",\"connect\":");
	line_string(&l, (c ? c : &rt->connect)->name);
	line_raw(&l, ",\"bind\":");
	line_string(&l, (b ? b : &rt->bind)->name);
	line_raw(&l, ",\"error\":");
	if (error)
		line_string(&l, error);
	else
		line_raw(&l, "null");
	line_raw(&l, "}");
	buf[l.len++] = '\n';
	eventlog_write(&rt->log, buf, l.len);
	if (error) {
		char msg[CONFIG_PATH_MAX + 320];
		struct line m = { msg, sizeof(msg) - 1, 0 };
		line_raw(&m, "portshim: ");
		line_raw(&m, error);
		line_raw(&m, "; the policies in force stay\n");
		eventlog_stderr(&rt->log, msg, m.len);
	}
}

static void check(struct runtime *rt)
{
	char err[CONFIG_PATH_MAX + 256];
	struct plan *connect, *bind;

	if (!file_changed(&rt->control, rt->cfg.control))
		return;
	if (rt->control.missing) {
		say(rt, "refused", "PORTSHIM_CONTROL: the file is missing");
		return;
	}
	config_init(&scratch, rt->cfg.secure);
	if (configure_from_file(&scratch, rt->cfg.control, "PORTSHIM_CONTROL", err, sizeof(err)) != 0)
		goto refused;
	if (!only_policies(&scratch)) {
		snprintf(err, sizeof(err), "PORTSHIM_CONTROL='%s': only connect, bind and parity "
			 "can be switched", rt->cfg.control);
		goto refused;
	}
	if (!(connect = runtime_pool_plan(rt, chosen(&scratch, &rt->cfg, false), false, err,
					  sizeof(err))) ||
	    !(bind = runtime_pool_plan(rt, chosen(&scratch, &rt->cfg, true), true, err,
				       sizeof(err))))
		goto refused;
	atomic_store_explicit(&rt->connect_now, connect, memory_order_release);
	atomic_store_explicit(&rt->bind_now, bind, memory_order_release);
	say(rt, "switched", NULL);
	return;
refused:
	say(rt, "refused", err);
}

void control_poll(struct runtime *rt)
{
	struct timespec now;
	int saved = errno;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	int64_t last = atomic_load_explicit(&rt->control.checked, memory_order_relaxed);
	if (last == now.tv_sec + 1 ||
	    atomic_flag_test_and_set_explicit(&rt->control.busy, memory_order_acquire))
		return;
	/* checked holds the second + 1, so that 0 means never. */
	if (atomic_load_explicit(&rt->control.checked, memory_order_relaxed) != now.tv_sec + 1) {
		atomic_store_explicit(&rt->control.checked, now.tv_sec + 1, memory_order_relaxed);
		check(rt);
	}
	atomic_flag_clear_explicit(&rt->control.busy, memory_order_release);
	errno = saved;
}

struct plan *control_connect_plan(struct runtime *rt, const struct sockaddr *dst, socklen_t len)
{
	if (rt->cfg.control[0])
		control_poll(rt);
	int rule = rt->cfg.rules.count ? rules_match(&rt->cfg.rules, dst, len) : -1;
	if (rule >= 0)
		return &rt->rule_plan[rule];
	if (!rt->cfg.control[0])
		return &rt->connect;
	struct plan *now = atomic_load_explicit(&rt->connect_now, memory_order_acquire);
	return now ? now : &rt->connect;
}

struct plan *control_default_connect_plan(struct runtime *rt)
{
	if (!rt->cfg.control[0])
		return &rt->connect;
	control_poll(rt);
	struct plan *now = atomic_load_explicit(&rt->connect_now, memory_order_acquire);
	return now ? now : &rt->connect;
}

struct plan *control_bind_plan(struct runtime *rt)
{
	struct plan *now;

	if (!rt->cfg.control[0])
		return &rt->bind;
	control_poll(rt);
	now = atomic_load_explicit(&rt->bind_now, memory_order_acquire);
	return now ? now : &rt->bind;
}
