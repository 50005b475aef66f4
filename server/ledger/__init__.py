"""The CPT ledger: double-entry journal in integer micro-CPT, transfers and grants, statements,
rewards, payouts from escrow, clawbacks, and the audit."""
