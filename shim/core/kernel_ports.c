/* See kernel_ports.h.  Raw system calls, no stdio: this runs while the
 * shim sets itself up, where calling the shim's own close() hook (or
 * anything that might re-enter the set-up) must not happen. */
#include "kernel_ports.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "parse.h"

/* Reads a whole file into buf (NUL-terminated); its length or -1. */
static long read_file(const char *path, char *buf, size_t size)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		ssize_t n = syscall(SYS_read, fd, buf + len, size - 1 - len);
		if (n < 0) {
			syscall(SYS_close, fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	syscall(SYS_close, fd);
	buf[len] = '\0';
	return (long)len;
}

int kernel_port_range(unsigned *lo, unsigned *hi)
{
	char buf[64];
	uint64_t a, b;
	const char *p;

	*lo = KERNEL_DEFAULT_RANGE_LO;
	*hi = KERNEL_DEFAULT_RANGE_HI;
	if (read_file("/proc/sys/net/ipv4/ip_local_port_range", buf, sizeof(buf)) < 0)
		return -1;
	/* "32768\t60999\n" */
	p = parse_u64(buf, &a);
	if (!p)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	p = parse_u64(p, &b);
	if (!p || a < 1 || a > b || b > 65535)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

int kernel_fastopen(void)
{
	char buf[32];
	uint64_t value;

	if (read_file("/proc/sys/net/ipv4/tcp_fastopen", buf, sizeof(buf)) < 0 ||
	    !parse_u64(buf, &value) || value > 0xffff)
		return -1;
	return (int)value;
}

int kernel_reserved_ports(struct portset *set)
{
	/* Worst case, every other port listed: about 200 KB of text.  A
	 * temporary mapping keeps that out of the process's memory after. */
	const size_t size = 512 * 1024;
	char *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int rc = -1;

	if (buf == MAP_FAILED)
		return -1;
	if (read_file("/proc/sys/net/ipv4/ip_local_reserved_ports", buf, size) >= 0)
		rc = parse_port_list(buf, set);
	munmap(buf, size);
	return rc;
}
