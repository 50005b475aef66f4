"""Jobs and tasks: the job spec and packages, submitting, queries, lifecycle (counters, end,
refund, cancel), what one transaction did to its jobs (effects), change events and watching,
who may read an artifact (access), and the content-addressed artifact store."""
