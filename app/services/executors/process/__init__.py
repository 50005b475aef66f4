"""The process executor: a task as a plain child process group, without a sandbox."""
