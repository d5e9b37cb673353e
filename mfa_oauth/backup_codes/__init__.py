"""Backup codes: a django-otp device holding hashed, single-use codes (SECURITY.md F)."""
