/* The BPF backend in a build without it (make found no clang for the BPF
 * target, no bpftool or no libbpf): it says so and runs nothing. */
#include <stdio.h>

#include "bpfcmd.h"

#define EXIT_CANNOT_RUN 125
#define ABSENT "a portshim built with it (clang, bpftool and libbpf-dev at build time)"

const char *bpf_missing(struct runtime *rt, bool *kernel_netns, char *buf, size_t size)
{
	(void)rt;
	*kernel_netns = false;
	snprintf(buf, size, "%s", ABSENT);
	return buf;
}

int bpf_attach_pinned(struct runtime *rt, const char *cgroup, const char *settings, bool *switched,
		      char *why, size_t len)
{
	(void)rt;
	(void)cgroup;
	(void)settings;
	*switched = false;
	snprintf(why, len, "%s", ABSENT);
	return -1;
}

int bpf_detach_pinned(const char *cgroup, char *why, size_t len)
{
	(void)cgroup;
	snprintf(why, len, "%s", ABSENT);
	return -1;
}

int bpf_status_print(void)
{
	return 0;
}

int bpf_run(struct runtime *rt, const char *cgroup_parent, char **argv, char **envp)
{
	(void)rt;
	(void)cgroup_parent;
	(void)argv;
	(void)envp;
	fprintf(stderr, "portshim: the bpf backend needs %s; nothing was run\n", ABSENT);
	return EXIT_CANNOT_RUN;
}
