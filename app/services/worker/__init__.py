"""The worker agent: this machine as a node. It registers, leases tasks that fit the
contributor's limits, runs each attempt in an executor, renews leases by heartbeat, reports
results and keeps its node secret fresh.

- `assembly.open_worker`: the one way to assemble a worker (executor, BitTorrent client,
  policy, options), used by `hivemind worker run`, the desktop app and the demo;
- `agent.WorkerAgent` ties the parts together: the lease loop and the agent's lifecycle;
- `options` (how one run behaves), `held` (an attempt held and what all attempts share),
  `events` (what the agent tells its listeners);
- `node` (registration, the node's facts, `benchmark` its CPU score), `secret` (the node
  secret's rotation), `capacity` (what fits now), `heartbeat`, `policy` (pauses, and the
  contributor's policy or its manual-pause-only fallback), `drain` (stopping; reports kept
  for a restart);
- `attempt` (one lease's life), `compare` (what differs for a comparison), `report` (results
  until acknowledged), `results` (packing, kept reports), `cache` (LRU of downloads),
  `runtime_fetch` (runtime images a Docker worker lacks: fetched from the server, loaded).
"""
