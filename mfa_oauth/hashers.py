"""Password hashers: Argon2id at OWASP's parameters for people, a fast salted hash for machine secrets.

Both plug in at Django's documented extension point (``PASSWORD_HASHERS``); the second one is meant
for django-oauth-toolkit's ``CLIENT_SECRET_HASHER`` setting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.contrib.auth.hashers import Argon2PasswordHasher, BasePasswordHasher, get_hasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _


class OWASPArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with the OWASP Password Storage Cheat Sheet's first configuration: m=19 MiB, t=2, p=1.

    Django's own defaults (m=100 MiB, p=8) cost several times the CPU and memory per login for no
    gain in the threat model OWASP sizes for. The algorithm name stays ``argon2``, so Django's
    ``must_update`` rehashes any argon2 hash with other parameters at the next successful login, and
    PBKDF2 hashes listed after this hasher are upgraded the same way.
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1


class GeneratedSecretHasher(BasePasswordHasher):
    """Salted HMAC-SHA-256 for high-entropy secrets that a machine generated (OAuth client secrets).

    A slow password hash exists to make guessing a *low-entropy* human password from a stolen hash
    expensive. django-oauth-toolkit generates client secrets of 128 characters from [A-Za-z0-9]
    (about 760 bits), which no amount of hashing speed makes guessable, while the token endpoint
    would otherwise spend a whole password hash (hundreds of milliseconds) on every confidential
    request. A secret shorter than ``MIN_LENGTH`` may have been typed by a person, so it is handed
    to the slow default hasher instead; ``check_password`` recognises either result by its prefix.

    Only ever reached for client secrets: Django hashes user passwords with the first entry of
    ``PASSWORD_HASHERS``, which must not be this one (the system check ``mfa_oauth.E010`` says so).
    """

    algorithm = "hmac_sha256_generated"
    MIN_LENGTH = 32  # >= 190 bits from DOT's alphabet; shorter secrets get the slow hasher

    def encode(self, password: str, salt: str) -> str:
        if len(password) < self.MIN_LENGTH:
            return get_hasher("default").encode(password, get_hasher("default").salt())
        self._check_encode_args(password, salt)  # type: ignore[attr-defined]  # Django's own; not in django-stubs
        digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).digest()
        return f"{self.algorithm}${salt}${base64.b64encode(digest).decode('ascii')}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        expected = hmac.new(decoded["salt"].encode(), password.encode(), hashlib.sha256).digest()
        return constant_time_compare(base64.b64encode(expected).decode("ascii"), decoded["hash"])

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=2),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass  # nothing to equalise: the work factor is constant
