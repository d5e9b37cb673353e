"""The OIDC signing key: from the environment in production, generated once for development."""

from __future__ import annotations

import os
from pathlib import Path


def load_signing_key(var_dir: Path) -> str:
    pem = os.environ.get("OIDC_RSA_PRIVATE_KEY", "").strip()
    if pem:
        return pem.replace("\\n", "\n")
    key_file = os.environ.get("OIDC_RSA_PRIVATE_KEY_FILE")
    if key_file:
        return Path(key_file).read_text()
    dev_key = var_dir / "dev-oidc-key.pem"
    if not dev_key.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        dev_key.parent.mkdir(parents=True, exist_ok=True)
        dev_key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        dev_key.chmod(0o600)
    return dev_key.read_text()
