"""Backup codes: a django-otp device holding hashed, single-use codes (docs/security.md, "Backup codes")."""
