"""Accounts: users, passwords, signing keys, access and refresh tokens, sessions, sign-up
limits."""
