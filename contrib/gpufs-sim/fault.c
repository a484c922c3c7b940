// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fault injection for gpufs-sim: the hook every provider request passes through before the
 * provider sees it.  Nothing is injected yet.  The intended shape: /_sim/faults endpoints
 * (answered by sim_fault_control) store rules here, e.g. "the next 2 POSTs to runcrate get
 * 429 with Retry-After: 1" or "every GET sleeps 5 s", and sim_fault_intercept applies them,
 * building provider-shaped errors with provider->error().
 */
#include "sim.h"

struct sim_faults {
	int unused;
};

struct sim_faults *sim_faults_new(void)
{
	return g_new0(struct sim_faults, 1);
}

void sim_faults_free(struct sim_faults *faults)
{
	g_free(faults);
}

bool sim_fault_intercept(struct sim *sim, const struct sim_provider *provider,
			 const struct sim_route *route, const struct sim_request *req,
			 struct sim_response *resp)
{
	return false;
}

bool sim_fault_control(struct sim *sim, const struct sim_request *req, struct sim_response *resp)
{
	return false;
}
