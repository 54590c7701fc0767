/* errno_name(): the library's own table gives the names glibc's
 * strerrorname_np() gives, for every value it knows (the unit tests are
 * built against glibc; the musl build uses the same table). */
#include <errno.h>

#include "check.h"
#include "errnames.h"

static void test_same_names_as_glibc(void)
{
	int named = 0;

	for (int e = -1; e < 300; e++) {
		const char *mine = errno_name(e), *glibc = e > 0 ? strerrorname_np(e) : NULL;
		if (!CHECK((mine == NULL) == (glibc == NULL) && (!mine || strcmp(mine, glibc) == 0),
			   "errno %d: '%s', glibc '%s'", e, mine ? mine : "(none)",
			   glibc ? glibc : "(none)"))
			return;
		named += mine != NULL;
	}
	CHECK(named >= 130, "only %d names", named);
	CHECK(strcmp(errno_name(EWOULDBLOCK), "EAGAIN") == 0, "EWOULDBLOCK");
}

int main(void)
{
	RUN(test_same_names_as_glibc);
	return check_done();
}
