#!/usr/bin/env python3
"""Write a working ``.env`` for the production-like stack on THIS machine (used by scripts/prod).

Fresh SECRET_KEY, demo client secret and OIDC signing key, a local CA and server certificate
for gunicorn's TLS, PostgreSQL and Redis on 127.0.0.1. Never for a real deployment: there, an
operator fills in ``.env.example`` with their own secrets.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rsa_key_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def main(target: Path, port: int) -> None:
    from idp_site.ops.tls import make_certificates

    secrets_dir = ROOT / "var" / "prod"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    key_file = secrets_dir / "oidc-key.pem"
    if not key_file.exists():
        key_file.write_bytes(rsa_key_pem())
        key_file.chmod(0o600)
    tls = make_certificates(secrets_dir / "tls", ["localhost", "127.0.0.1"])
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "OIDC_RSA_PRIVATE_KEY_FILE": str(key_file),
        "MFA_SEED_KEYS": secrets.token_urlsafe(32),
        "MFA_PAIRWISE_SUBJECT_KEY": secrets.token_urlsafe(32),
        "OIDC_ISS_ENDPOINT": f"https://localhost:{port}/o",
        "TLS_CERT_FILE": str(tls["cert"]),
        "TLS_KEY_FILE": str(tls["key"]),
        "SEED_DEMO": "1",
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGINS": f"https://localhost:{port}",
        "MFA_SMS_BACKEND": "console",
        "MFA_SMS_ENABLED": "true",
    }
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        if not line.startswith("#") and name in values:
            line = f"{name}={values.pop(name)}"
        lines.append(line)
    lines += [
        "",
        "# Added for the local stack by scripts/local_env.py:",
        f"REQUESTS_CA_BUNDLE={tls['ca']}",
        f"PORT={port}",
    ]
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)
    print(f"wrote {target} for this machine (local secrets, local CA {tls['ca']})")


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".env").resolve()
    main(target, int(sys.argv[2]) if len(sys.argv) > 2 else 8500)
