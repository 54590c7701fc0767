/* The kernel interfaces the supervisor uses that are newer than the
 * headers it may be built with (Debian 12's are Linux 6.1's).  Each is
 * asked for at run time; an older kernel refuses it and the supervisor
 * does without. */
#ifndef PORTSHIM_SECCOMP_UAPI_H
#define PORTSHIM_SECCOMP_UAPI_H

#include <fcntl.h>
#include <linux/seccomp.h>

/* Linux 6.3, <linux/in.h>: the socket's own ephemeral range. */
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

/* Linux 6.6: synchronous wake-ups between the trapped thread and the
 * supervisor thread that answers it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* Linux 6.9, <linux/pidfd.h>: a pidfd of one thread, which pidfd_getfd()
 * takes the thread's descriptors from. */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#endif
