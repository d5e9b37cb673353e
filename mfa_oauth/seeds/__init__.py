"""OTP seeds (TOTP, HOTP, OATH TOTP) encrypted at rest, clear only in memory.

django-otp reads ``device.key`` (hex) and ``device.bin_key`` everywhere, so the seed stays clear on
the model instance and is sealed only on its way to the database: a field that encrypts in
``get_db_prep_value`` and decrypts in ``from_db_value`` (``fields.py``), a keyring from
``MFA_OAUTH["SEED_KEYS"]`` (``keyring.py``), re-encryption of every row for rotation and the data
migration (``rows.py``), and the system checks (``checks.py``). docs/security.md, "OTP seeds at
rest", gives the reasoning, including why this is AES-SIV and not Fernet.
"""
