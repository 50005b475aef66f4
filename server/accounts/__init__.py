"""Accounts: users, passwords, signing keys, access and refresh tokens, revocation, sessions,
sign-up limits, and transfers by name (recipients)."""
