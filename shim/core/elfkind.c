/* See elfkind.h.  Reads with pread() only: the caller opens and closes. */
#include "elfkind.h"

#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* The dynamic linker named by PT_INTERP, by its file name: glibc's is
 * ld-linux*.so.N, ld64.so.N (64-bit PowerPC, s390x) or ld.so.1; musl's is
 * ld-musl-ARCH.so.1. */
enum elf_libc elf_loader_libc(const char *interp)
{
	const char *base = strrchr(interp, '/') ? strrchr(interp, '/') + 1 : interp;

	if (strncmp(base, "ld-musl-", 8) == 0)
		return ELF_LIBC_MUSL;
	if (strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld64.so", 7) == 0 ||
	    strncmp(base, "ld.so", 5) == 0)
		return ELF_LIBC_GLIBC;
	return ELF_LIBC_UNKNOWN;
}

/* ELF program headers, both classes: what PT_INTERP needs. */
struct phdr {
	uint32_t type;
	uint64_t offset, filesz;
};

static bool read_phdr(int fd, bool is64, off_t at, struct phdr *ph)
{
	if (is64) {
		Elf64_Phdr p;
		if (pread(fd, &p, sizeof(p), at) != (ssize_t)sizeof(p))
			return false;
		*ph = (struct phdr){ p.p_type, p.p_offset, p.p_filesz };
	} else {
		Elf32_Phdr p;
		if (pread(fd, &p, sizeof(p), at) != (ssize_t)sizeof(p))
			return false;
		*ph = (struct phdr){ p.p_type, p.p_offset, p.p_filesz };
	}
	return true;
}

enum elf_kind elf_kind_of(int fd, char *interp, size_t size)
{
	unsigned char ident[EI_NIDENT];
	uint64_t phoff;
	unsigned phnum, phentsize;

	if (pread(fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0)
		return ELF_NOT;
	bool is64 = ident[EI_CLASS] == ELFCLASS64;
	if (is64) {
		Elf64_Ehdr eh;
		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
		    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
			return ELF_NOT;
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
		    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
			return ELF_NOT;
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
	} else {
		return ELF_NOT;
	}
	for (unsigned i = 0; i < phnum; i++) {
		struct phdr ph;
		if (!read_phdr(fd, is64, (off_t)(phoff + (uint64_t)i * phentsize), &ph))
			return ELF_NOT;
		if (ph.type != PT_INTERP)
			continue;
		size_t len = ph.filesz < size ? (size_t)ph.filesz : size - 1;
		ssize_t got = pread(fd, interp, len, (off_t)ph.offset);
		if (got <= 0)
			return ELF_NOT;
		interp[got] = '\0'; /* PT_INTERP holds its own NUL too */
		return ELF_DYNAMIC;
	}
	return ELF_STATIC;
}

