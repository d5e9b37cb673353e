"""The seed keyring: the first key encrypts, every key decrypts (MultiFernet's rule, on AES-SIV).

Why AES-SIV (RFC 5297) and not Fernet: django-otp's ``key`` columns hold 80 characters, exactly a
40-byte seed in hex. A Fernet token for a 20-byte seed is already 120 characters. AES-SIV adds only
its 16-byte synthetic IV, so a 40-byte seed is 75 base64url characters and fits with the format
prefix; it is the deterministic authenticated encryption RFC 5297 §1.3.2 designs for key wrapping,
which is what sealing a seed is (docs/security.md, "OTP seeds at rest").

Stored form: ``$s1$`` + base64url (no padding) of AES-SIV(seed bytes), associated data the format
tag and the model's label, so a sealed value is only accepted for the table it was written to.
The prefix is never valid hex, so a clear seed left by an older version is told apart and sealed by
the data migration or ``mfa_rotate_seeds``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..conf import settings as mfa_settings

PREFIX = "$s1$"
FORMAT_TAG = b"mfa_oauth.seed.v1"
# HKDF (RFC 5869) turns each configured secret, of any length, into a 512-bit AES-SIV key
# (AES-256-SIV: RFC 5297 §2.2 splits it into the CMAC and the CTR key).
KDF_INFO = b"mfa_oauth.seeds AES-256-SIV v1"
MIN_KEY_LENGTH = 32


class UnreadableSeed(Exception):
    """A sealed value no configured key opens (a key was removed too early, or the value is forged)."""


def key_problems(value: object) -> list[str]:
    """What is wrong with a ``SEED_KEYS`` value (empty: nothing); shared with the system check."""
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return []
    if not isinstance(value, (list, tuple)):
        return ["must be a list of keys (the first encrypts, all decrypt), not a single value"]
    problems = []
    for index, key in enumerate(value):
        if not isinstance(key, str):
            problems.append(f"key #{index + 1} is not a string")
        elif len(key) < MIN_KEY_LENGTH:
            problems.append(f"key #{index + 1} is shorter than {MIN_KEY_LENGTH} characters")
    if len(set(map(str, value))) != len(value):
        problems.append("the same key is listed twice")
    return problems


def explicit_keys() -> tuple[str, ...]:
    """The keys the project configured (empty: none, the SECRET_KEY-derived development default)."""
    value = mfa_settings.SEED_KEYS
    problems = key_problems(value)
    if problems:
        raise ImproperlyConfigured(f"MFA_OAUTH['SEED_KEYS'] {problems[0]} (system check mfa_oauth.E051).")
    return tuple(value or ())


@dataclass(frozen=True)
class Keyring:
    ciphers: tuple[AESSIV, ...]

    def seal(self, clear_hex: str, label: str) -> str:
        try:
            seed = binascii.unhexlify(clear_hex)
        except (binascii.Error, ValueError, TypeError):
            raise ValueError("An OTP seed must be hexadecimal with an even number of digits.") from None
        if not seed:
            # An empty key would make every code computable by anyone.
            raise ValueError("An OTP seed cannot be empty.")
        token = self.ciphers[0].encrypt(seed, [FORMAT_TAG, label.encode()])
        return PREFIX + base64.urlsafe_b64encode(token).decode().rstrip("=")

    def open(self, sealed: str, label: str) -> tuple[str, int]:
        """The clear hex seed and the index of the key that opened it (0: the current key)."""
        payload = sealed[len(PREFIX) :]
        try:
            token = base64.b64decode(payload + "=" * (-len(payload) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise UnreadableSeed("not a sealed seed") from None
        for index, cipher in enumerate(self.ciphers):
            try:
                return cipher.decrypt(token, [FORMAT_TAG, label.encode()]).hex(), index
            except (InvalidTag, ValueError):
                continue
        raise UnreadableSeed("no configured MFA_OAUTH['SEED_KEYS'] key opens this seed")

    def unseal(self, sealed: str, label: str) -> str:
        return self.open(sealed, label)[0]


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seed_unreadable(device: object) -> bool:
    """Whether a loaded device's seed stayed sealed: no configured key opens it (``fields.py``).

    Such a device can check no code; the challenge step says so instead of failing in django-otp's
    ``bin_key`` (docs/security.md, "OTP seeds at rest")."""
    return is_sealed(getattr(device, "key", None))


def keyring() -> Keyring:
    """The keyring of the current settings (read on every call, so override_settings applies)."""
    secrets = explicit_keys()
    if not secrets:
        # Development default only (system check mfa_oauth.E050 in production): Django's own key,
        # with its fallbacks as decrypt-only keys, so SECRET_KEY rotation keeps seeds readable.
        secrets = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    return _keyring(tuple(secrets))


@lru_cache(maxsize=8)
def _keyring(secrets: tuple[str, ...]) -> Keyring:
    return Keyring(tuple(AESSIV(_derive(secret)) for secret in secrets))


def _derive(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=KDF_INFO).derive(secret.encode())
