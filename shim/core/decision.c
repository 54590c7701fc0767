/* See decision.h. */
#include "decision.h"

void decision_begin(struct decision *d, enum shim_call call, int fd, int type, int family,
		    const struct sockaddr *addr, socklen_t len, const char *policy)
{
	*d = (struct decision){
		.call = call,
		.fd = fd,
		.type = type,
		.family = family,
		.addr = addr,
		.addr_len = len,
		.policy = policy,
		.strategy = STRATEGY_EXCLUSIVE,
	};
}

static const char *const result_names[RESULT_COUNT] = {
	"ok", "fallback", "exhausted", "passthrough", "clash",
};

const char *decision_result_name(enum decision_result result)
{
	return result_names[result];
}

static const char *const bucket_names[ATTEMPT_BUCKETS] = {
	"0", "1", "2", "3-4", "5-8", "9-16", "17+",
};

int attempt_bucket(uint64_t attempts)
{
	int bucket = 1;

	if (attempts == 0)
		return 0;
	for (uint64_t limit = 1; bucket + 1 < ATTEMPT_BUCKETS && attempts > limit; limit *= 2)
		bucket++;
	return bucket;
}

const char *attempt_bucket_name(int bucket)
{
	return bucket_names[bucket];
}
