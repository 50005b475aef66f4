"""HiveMind headless server (`hivemind-server`). Its packages are named after the stages a
task goes through (jobs, scheduling, validation, ledger) and what they rest on (accounts,
nodes, runtimes, store); rpc/ is the gRPC edge and app.py assembles one server process.
pyproject.toml's import contracts say which may import which."""

__version__ = "0.1.0"
