"""Security notifications by email (NIST SP 800-63B-4 §4.6): every factor change, backup-code use, lockout."""
