"""The audit log: one row per authentication event, never a secret or a code (OWASP ASVS 16.3)."""
