/* What kind of program an executable file is, from its ELF headers: the
 * command (cli/executable.c) and the library's exec hooks (a dynamic program
 * that execs a static one) ask alike. */
#ifndef PORTSHIM_ELFKIND_H
#define PORTSHIM_ELFKIND_H

#include <stddef.h>

enum elf_kind {
	ELF_NOT,     /* not an executable ELF file (a script, unreadable) */
	ELF_STATIC,  /* no PT_INTERP: the dynamic linker never runs */
	ELF_DYNAMIC, /* PT_INTERP names its dynamic linker */
};

/* Whose dynamic linker a PT_INTERP path is, by its file name. */
enum elf_libc { ELF_LIBC_UNKNOWN, ELF_LIBC_GLIBC, ELF_LIBC_MUSL };

/* The file open on fd; for ELF_DYNAMIC, PT_INTERP in interp (cut to size). */
enum elf_kind elf_kind_of(int fd, char *interp, size_t size);
enum elf_libc elf_loader_libc(const char *interp);

/* A static ELF file the dynamic linker cannot preload into: not the
 * dynamic linker itself, which has no PT_INTERP yet honours LD_PRELOAD for
 * the program it runs. */
static inline int elf_unreachable(enum elf_kind kind, const char *path)
{
	return kind == ELF_STATIC && elf_loader_libc(path) == ELF_LIBC_UNKNOWN;
}

#endif
