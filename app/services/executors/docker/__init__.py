"""The Docker executor: every attempt in its own hardened, throw-away container.

`executor.DockerExecutor` is what the worker sees; `config` is the container's shape (no
network, read-only root, no capabilities, nobody, hard memory and pids limits, CPU quota),
`attempt` one attempt's life (create, attach, start, watch, kill at the deadline), `watch`
the two threads that follow a running container and `usage` what they measure.
"""
