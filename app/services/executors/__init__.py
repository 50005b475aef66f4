"""How a task attempt runs on this machine: `base` is what every executor offers the worker,
`docker` and `process` are the two executors, `choice.open_executor` opens the one asked for
and checks that it can run tasks here."""
