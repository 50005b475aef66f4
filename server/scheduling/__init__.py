"""Scheduling: which task (or comparison) goes to which node, in one lease transaction."""
