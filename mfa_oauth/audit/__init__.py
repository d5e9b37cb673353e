"""The audit log: one row per authentication event, never a secret or a code (SECURITY.md I2, L1)."""
