"""The salted hash of a backup code's secret part.

django-otp's StaticToken keeps 40-bit codes in plain text; ours have 80 random bits and are
stored with PBKDF2 and a per-code salt (NIST SP 800-63B-4 §3.1.2.2). The iteration count is
lower than Django's password default because the secret is random, not chosen: 80 bits cannot
be guessed offline however fast the hash, and a set of ten is hashed on every regeneration.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class BackupCodeHasher(PBKDF2PasswordHasher):
    algorithm = "mfa_backup_pbkdf2_sha256"
    iterations = 60_000


HASHER = BackupCodeHasher()


def make(secret: str) -> str:
    return HASHER.encode(secret, HASHER.salt())


def check(secret: str, encoded: str) -> bool:
    return HASHER.verify(secret, encoded)


# Verified against when a lookup id matches nothing, so a miss costs what a hit costs (ASVS 6.3.8).
DUMMY = make("dummy-secret-never-issued")
