"""The worker agent: this machine as a node. It registers, leases tasks that fit the
contributor's limits, runs each attempt in an executor, renews leases by heartbeat, reports
results and keeps its node secret fresh (`agent.WorkerAgent` ties the parts together)."""
