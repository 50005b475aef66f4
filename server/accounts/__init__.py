"""Accounts: users, passwords, access and refresh tokens, sessions, sign-up limits."""
