/* The ELF reader (elfkind.h): static or dynamic, and whose dynamic linker,
 * from small ELF images the test writes (both classes, PT_INTERP anywhere
 * among the program headers, a stride larger than a header), from files
 * that are no executable or are cut short anywhere, and from real files:
 * this test program, its dynamic linker, and the build's static probe. */
#include <elf.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "elfkind.h"

#define INTERP_AT 512u

static unsigned char image[4096];

/* A 64-bit (or 32-bit) ELF header and program headers of these types,
 * `stride` bytes apart (0: the size of one); a PT_INTERP's path at
 * INTERP_AT, with its NUL.  Returns the image's length. */
static size_t elf(bool is64, uint16_t type, const uint32_t *types, int n, const char *interp,
		  size_t stride)
{
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	size_t ilen = interp ? strlen(interp) + 1 : 0;

	stride = stride ? stride : phsize;
	memset(image, 0, sizeof(image));
	memcpy(image, ELFMAG, SELFMAG);
	image[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	image[EI_DATA] = ELFDATA2LSB;
	image[EI_VERSION] = EV_CURRENT;
	if (is64) {
		Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
		eh->e_type = type;
		eh->e_machine = EM_X86_64;
		eh->e_version = EV_CURRENT;
		eh->e_phoff = ehsize;
		eh->e_ehsize = (uint16_t)ehsize;
		eh->e_phentsize = (uint16_t)stride;
		eh->e_phnum = (uint16_t)n;
	} else {
		Elf32_Ehdr *eh = (Elf32_Ehdr *)image;
		eh->e_type = type;
		eh->e_machine = EM_386;
		eh->e_version = EV_CURRENT;
		eh->e_phoff = (uint32_t)ehsize;
		eh->e_ehsize = (uint16_t)ehsize;
		eh->e_phentsize = (uint16_t)stride;
		eh->e_phnum = (uint16_t)n;
	}
	for (int i = 0; i < n; i++) {
		unsigned char *at = image + ehsize + (size_t)i * stride;
		bool is_interp = types[i] == PT_INTERP;
		if (is64) {
			Elf64_Phdr ph = { .p_type = types[i], .p_offset = is_interp ? INTERP_AT : 0,
					  .p_filesz = is_interp ? ilen : 0x1000 };
			memcpy(at, &ph, sizeof(ph));
		} else {
			Elf32_Phdr ph = { .p_type = types[i], .p_offset = is_interp ? INTERP_AT : 0,
					  .p_filesz = is_interp ? (uint32_t)ilen : 0x1000 };
			memcpy(at, &ph, sizeof(ph));
		}
	}
	if (interp)
		memcpy(image + INTERP_AT, interp, ilen);
	return INTERP_AT + ilen;
}

/* elf_kind_of() on a file holding image[0..len). */
static enum elf_kind kind_of(size_t len, char *interp, size_t size)
{
	int fd = memfd_create("elf", MFD_CLOEXEC);

	if (fd < 0 || write(fd, image, len) != (ssize_t)len) {
		perror("memfd");
		exit(1);
	}
	enum elf_kind kind = elf_kind_of(fd, interp, size);
	close(fd);
	return kind;
}

static enum elf_kind kind_of_path(const char *path, char *interp, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	enum elf_kind kind;

	if (fd < 0)
		return (enum elf_kind)-1;
	kind = elf_kind_of(fd, interp, size);
	close(fd);
	return kind;
}

static void test_dynamic_and_static(void)
{
	char interp[256];
	size_t len;

	/* glibc's x86-64 program: PT_PHDR, PT_INTERP, then the loads. */
	len = elf(true, ET_EXEC, (uint32_t[]){ PT_PHDR, PT_INTERP, PT_LOAD, PT_LOAD }, 4,
		  "/lib64/ld-linux-x86-64.so.2", 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_DYNAMIC);
	CHECK_STR(interp, "/lib64/ld-linux-x86-64.so.2");
	CHECK_INT(elf_loader_libc(interp), ELF_LIBC_GLIBC);
	/* A PIE built against musl, PT_INTERP after the loads. */
	len = elf(true, ET_DYN, (uint32_t[]){ PT_LOAD, PT_LOAD, PT_DYNAMIC, PT_INTERP }, 4,
		  "/lib/ld-musl-x86_64.so.1", 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_DYNAMIC);
	CHECK_STR(interp, "/lib/ld-musl-x86_64.so.1");
	CHECK_INT(elf_loader_libc(interp), ELF_LIBC_MUSL);
	/* 32-bit. */
	len = elf(false, ET_EXEC, (uint32_t[]){ PT_INTERP, PT_LOAD }, 2, "/lib/ld-linux.so.2", 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_DYNAMIC);
	CHECK_STR(interp, "/lib/ld-linux.so.2");
	CHECK_INT(elf_loader_libc(interp), ELF_LIBC_GLIBC);
	/* Program headers further apart than their size: e_phentsize is the
	 * stride. */
	len = elf(true, ET_EXEC, (uint32_t[]){ PT_LOAD, PT_INTERP }, 2, "/lib/ld-musl-aarch64.so.1",
		  sizeof(Elf64_Phdr) + 8);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_DYNAMIC);
	CHECK_STR(interp, "/lib/ld-musl-aarch64.so.1");

	/* No PT_INTERP: static, an executable or a static PIE (ET_DYN), in
	 * both classes. */
	len = elf(true, ET_EXEC, (uint32_t[]){ PT_LOAD, PT_LOAD, PT_NOTE, PT_TLS }, 4, NULL, 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_STATIC);
	len = elf(true, ET_DYN, (uint32_t[]){ PT_LOAD, PT_DYNAMIC, PT_GNU_STACK }, 3, NULL, 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_STATIC);
	len = elf(false, ET_EXEC, (uint32_t[]){ PT_LOAD }, 1, NULL, 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_STATIC);
	len = elf(false, ET_DYN, (uint32_t[]){ PT_LOAD, PT_DYNAMIC }, 2, NULL, 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_STATIC);
}

/* ELF files that are no executable, and files that are no ELF. */
static void test_not_executables(void)
{
	char interp[256];
	size_t len;

	len = elf(true, ET_REL, (uint32_t[]){ PT_LOAD }, 1, NULL, 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_NOT);
	len = elf(true, ET_CORE, (uint32_t[]){ PT_NOTE, PT_LOAD }, 2, NULL, 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_NOT);
	len = elf(false, ET_NONE, (uint32_t[]){ PT_INTERP }, 1, "/lib/ld-linux.so.2", 0);
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_NOT);
	/* A class that is neither 32 nor 64 bits. */
	len = elf(true, ET_EXEC, (uint32_t[]){ PT_INTERP }, 1, "/lib/ld-linux.so.2", 0);
	image[EI_CLASS] = ELFCLASSNONE;
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_NOT);
	image[EI_CLASS] = 3;
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_NOT);
	/* Not ELF: a script, a near miss of the magic, nothing at all. */
	memset(image, 0, sizeof(image));
	memcpy(image, "#!/bin/sh\nexec true\n", 20);
	CHECK_INT(kind_of(20, interp, sizeof(interp)), ELF_NOT);
	len = elf(true, ET_EXEC, (uint32_t[]){ PT_INTERP }, 1, "/lib/ld-linux.so.2", 0);
	image[3] = 'f';
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_NOT);
	CHECK_INT(kind_of(0, interp, sizeof(interp)), ELF_NOT);
	/* A directory: nothing to read. */
	CHECK_INT(kind_of_path("/", interp, sizeof(interp)), ELF_NOT);
}

/* A file cut anywhere is no executable, whatever it was going to say. */
static void test_truncated(void)
{
	char interp[256];
	size_t len;

	for (int is64 = 0; is64 < 2; is64++) {
		size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
		size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

		len = elf(is64, ET_EXEC, (uint32_t[]){ PT_LOAD, PT_INTERP }, 2,
			  "/lib64/ld-linux-x86-64.so.2", 0);
		/* Inside the identification, inside the header, inside the
		 * first and the second program header. */
		static const size_t cuts[] = { 4, EI_NIDENT - 1, EI_NIDENT, 40 };
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
			CHECK(kind_of(cuts[i], interp, sizeof(interp)) == ELF_NOT, "%d-bit, %zu bytes",
			      is64 ? 64 : 32, cuts[i]);
		CHECK_INT(kind_of(ehsize + phsize / 2, interp, sizeof(interp)), ELF_NOT);
		CHECK_INT(kind_of(ehsize + phsize + phsize / 2, interp, sizeof(interp)), ELF_NOT);
		/* Every header there, the interpreter's path not. */
		CHECK_INT(kind_of(ehsize + 2 * phsize, interp, sizeof(interp)), ELF_NOT);
		/* All there: the control. */
		CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_DYNAMIC);

		/* Program headers said to lie past the end. */
		if (is64)
			((Elf64_Ehdr *)image)->e_phoff = 3000;
		else
			((Elf32_Ehdr *)image)->e_phoff = 3000;
		CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_NOT);
	}
	/* A PT_INTERP whose path lies past the end. */
	len = elf(true, ET_EXEC, (uint32_t[]){ PT_INTERP }, 1, "/lib/ld-linux.so.2", 0);
	((Elf64_Phdr *)(image + sizeof(Elf64_Ehdr)))->p_offset = 100000;
	CHECK_INT(kind_of(len, interp, sizeof(interp)), ELF_NOT);
}

/* The path is cut to the caller's buffer and always terminated. */
static void test_interp_buffer(void)
{
	char interp[16];
	size_t len = elf(true, ET_EXEC, (uint32_t[]){ PT_INTERP }, 1, "/lib64/ld-linux-x86-64.so.2",
			 0);

	memset(interp, '#', sizeof(interp));
	CHECK_INT(kind_of(len, interp, 8), ELF_DYNAMIC);
	CHECK_STR(interp, "/lib64/");
	CHECK(interp[8] == '#', "wrote past the buffer");
	/* A path stored without its NUL, at the end of the file. */
	char big[64];
	len = elf(true, ET_EXEC, (uint32_t[]){ PT_INTERP }, 1, "/lib/ld-musl-x86_64.so.1", 0);
	((Elf64_Phdr *)(image + sizeof(Elf64_Ehdr)))->p_filesz--;
	memset(big, '#', sizeof(big));
	CHECK_INT(kind_of(len - 1, big, sizeof(big)), ELF_DYNAMIC);
	CHECK_STR(big, "/lib/ld-musl-x86_64.so.1");
}

static void test_loader_names(void)
{
	static const struct {
		const char *path;
		enum elf_libc libc;
	} cases[] = {
		{ "/lib64/ld-linux-x86-64.so.2", ELF_LIBC_GLIBC },
		{ "/lib/ld-linux-aarch64.so.1", ELF_LIBC_GLIBC },
		{ "/lib/ld-linux-armhf.so.3", ELF_LIBC_GLIBC },
		{ "/lib/ld-linux.so.2", ELF_LIBC_GLIBC },
		{ "/lib64/ld64.so.2", ELF_LIBC_GLIBC }, /* 64-bit PowerPC */
		{ "/lib/ld64.so.1", ELF_LIBC_GLIBC },   /* s390x */
		{ "/lib/ld.so.1", ELF_LIBC_GLIBC },
		{ "ld-linux-x86-64.so.2", ELF_LIBC_GLIBC },
		{ "/lib/ld-musl-x86_64.so.1", ELF_LIBC_MUSL },
		{ "/lib/ld-musl-armhf.so.1", ELF_LIBC_MUSL },
		{ "ld-musl-aarch64.so.1", ELF_LIBC_MUSL },
		/* The file name decides, not the directories. */
		{ "/lib/ld-musl-x86_64.so.1/../libc.so", ELF_LIBC_UNKNOWN },
		{ "/opt/ld-linux/loader", ELF_LIBC_UNKNOWN },
		{ "/usr/bin/static-program", ELF_LIBC_UNKNOWN },
		{ "/system/bin/linker64", ELF_LIBC_UNKNOWN }, /* Android's bionic */
		{ "/lib/ld-uClibc.so.0", ELF_LIBC_UNKNOWN },
		{ "", ELF_LIBC_UNKNOWN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(elf_loader_libc(cases[i].path) == cases[i].libc, "%s: %d, expected %d",
		      cases[i].path, elf_loader_libc(cases[i].path), cases[i].libc);

	/* Unreachable by LD_PRELOAD: a static program, but not the dynamic
	 * linker run as a program (it preloads for the one it runs). */
	CHECK(elf_unreachable(ELF_STATIC, "/usr/local/bin/static-probe"));
	CHECK(!elf_unreachable(ELF_STATIC, "/lib64/ld-linux-x86-64.so.2"));
	CHECK(!elf_unreachable(ELF_STATIC, "/lib/ld-musl-x86_64.so.1"));
	CHECK(!elf_unreachable(ELF_DYNAMIC, "/usr/bin/python3"));
	CHECK(!elf_unreachable(ELF_NOT, "/usr/bin/script.sh"));
}

/* Real files: this program is dynamic, its dynamic linker is static yet
 * reachable, and the build's gcc -static probe is static. */
static void test_real_files(void)
{
	char interp[PATH_MAX], none[PATH_MAX], self[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t n;

	if (!CHECK_INT(kind_of_path("/proc/self/exe", interp, sizeof(interp)), ELF_DYNAMIC))
		return;
	CHECK(elf_loader_libc(interp) != ELF_LIBC_UNKNOWN, "interpreter %s", interp);
	CHECK_INT(kind_of_path(interp, none, sizeof(none)), ELF_STATIC);
	CHECK(!elf_unreachable(ELF_STATIC, interp), "%s", interp);

	/* build/unit/test_elfkind -> build/static/portprobe, made when
	 * gcc -static works here (libc6-dev's libc.a). */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	snprintf(probe, sizeof(probe), "%s/../static/portprobe", dirname(self));
	if (access(probe, R_OK) != 0) {
		check_diag("%s: not built here (no gcc -static)", probe);
		return;
	}
	CHECK_INT(kind_of_path(probe, none, sizeof(none)), ELF_STATIC);
	CHECK(elf_unreachable(ELF_STATIC, probe), "%s", probe);
}

int main(void)
{
	RUN(test_dynamic_and_static);
	RUN(test_not_executables);
	RUN(test_truncated);
	RUN(test_interp_buffer);
	RUN(test_loader_names);
	RUN(test_real_files);
	return check_done();
}
