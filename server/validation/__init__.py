"""Validation: result intake, replicas and quorum, comparisons, spot checks and re-runs,
lease expiry, and bans (what happens to a caught node's work)."""
