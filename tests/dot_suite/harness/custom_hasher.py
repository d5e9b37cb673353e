"""A PBKDF2 hasher under its own name: DOT's tests name it in ``CLIENT_SECRET_HASHER``."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    algorithm = "fast_pbkdf2"
    iterations = 1000  # test speed only
