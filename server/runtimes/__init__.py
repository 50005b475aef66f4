"""Runtimes: the images an admin approved, and their archives distributed as artifacts."""
