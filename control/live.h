/* control/live.h - what the control plane knows about its agents only in
 * memory: each container instance's work generation and last contact.
 *
 * Pure bookkeeping (times are passed in, no clock here), so it is unit
 * tested directly.  Generations start at BASE (the control plane's start
 * time in ms): they only grow, across restarts too, without being stored.
 * Entries are kept sorted by (cluster, id) for binary search. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/arn.h"

struct live_entry {
	char cluster[NAME_MAX_LEN + 1];
	char id[NAME_MAX_LEN + 1];
	uint64_t generation;
	int64_t contact_ms;     /* last poll or registration; 0: never */
	int64_t held_until_ms;  /* a poll is held (long-poll) until then */
	bool local;             /* the embedded agent's instance: always connected */
};

struct live {
	struct live_entry *v;
	size_t n, cap;
	uint64_t base;
	int64_t timeout_ms;     /* BERTH_AGENT_HEARTBEAT_TIMEOUT */
};

void live_init(struct live *l, uint64_t base, int64_t timeout_ms);
void live_release(struct live *l);

/* The entry of (CLUSTER, ID), or NULL. */
const struct live_entry *live_find(const struct live *l, const char *cluster, const char *id);
/* The current generation of the instance (BASE when never bumped). */
uint64_t live_generation(const struct live *l, const char *cluster, const char *id);
/* A task on the instance got a new desired status.  0 or -ENOMEM. */
int live_bump(struct live *l, const char *cluster, const char *id);
/* The agent was heard from at NOW_MS; HOLD_MS > 0: its poll is held that long. */
int live_contact(struct live *l, const char *cluster, const char *id, int64_t now_ms,
		 int64_t hold_ms);
/* The embedded agent registered the instance. */
int live_set_local(struct live *l, const char *cluster, const char *id);
/* agentConnected: the embedded agent's instance, or heard from within the
 * timeout, or a poll is being held right now. */
bool live_connected(const struct live *l, const char *cluster, const char *id, int64_t now_ms);
/* Forgets the instance (deregistered). */
void live_forget(struct live *l, const char *cluster, const char *id);
