"""Jobs and tasks: the job spec and packages, submitting, queries, lifecycle (counters, end,
refund), change events, and the content-addressed artifact store."""
