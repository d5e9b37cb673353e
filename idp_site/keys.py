"""The OIDC signing key: from the environment in production, generated once for development."""

from __future__ import annotations

import os
from pathlib import Path

MIN_RSA_BITS = 2048


def load_signing_key(var_dir: Path) -> str:
    production = os.environ.get("IDP_PRODUCTION", "").strip().lower() in {"1", "true", "yes", "on"}
    pem = os.environ.get("OIDC_RSA_PRIVATE_KEY", "").strip()
    if pem:
        pem = pem.replace("\\n", "\n")
        return check_signing_key(pem, "OIDC_RSA_PRIVATE_KEY") if production else pem
    key_file = os.environ.get("OIDC_RSA_PRIVATE_KEY_FILE")
    if key_file:
        if not production:
            return Path(key_file).read_text()
        try:
            pem = Path(key_file).read_text()
        except OSError as error:
            from .production import ConfigError

            raise ConfigError("OIDC_RSA_PRIVATE_KEY_FILE", f"cannot read {key_file}: {error.strerror}") from None
        return check_signing_key(pem, "OIDC_RSA_PRIVATE_KEY_FILE")
    if production:
        from .production import ConfigError

        # Never a generated key in production: every node must sign with the same key.
        raise ConfigError(
            "OIDC_RSA_PRIVATE_KEY",
            "not set (an RSA private key in PEM; or OIDC_RSA_PRIVATE_KEY_FILE=/path/key.pem; "
            "make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072)",
        )
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


def check_signing_key(pem: str, name: str) -> str:
    """The PEM if it is an unencrypted RSA private key of at least 2048 bits, else one clear error."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from .production import ConfigError

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(name, "not an unencrypted PEM private key") from None
    except Exception as error:  # cryptography raises UnsupportedAlgorithm for odd key types
        raise ConfigError(name, f"cannot be loaded ({type(error).__name__})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(name, "an RSA key is needed (id_tokens are signed RS256)")
    if key.key_size < MIN_RSA_BITS:
        raise ConfigError(name, f"RSA key of {key.key_size} bits is too short (at least {MIN_RSA_BITS})")
    return pem


MIN_SEED_KEY_LENGTH = 32


def load_seed_keys(var_dir: Path) -> list[str]:
    """MFA_OAUTH["SEED_KEYS"]: the keys that encrypt OTP seeds (mfa_oauth.seeds), first one current.

    From ``MFA_SEED_KEYS`` (comma-separated, newest first) in production; for development, one key
    generated once into the var folder, like the signing key, so the embedded default needs nothing.
    """
    production = os.environ.get("IDP_PRODUCTION", "").strip().lower() in {"1", "true", "yes", "on"}
    keys = [k.strip() for k in os.environ.get("MFA_SEED_KEYS", "").split(",") if k.strip()]
    if keys:
        if production and (any(len(k) < MIN_SEED_KEY_LENGTH for k in keys) or len(set(keys)) != len(keys)):
            from .production import ConfigError

            raise ConfigError(
                "MFA_SEED_KEYS", f"each key needs at least {MIN_SEED_KEY_LENGTH} characters, and no key twice"
            )
        return keys
    if production:
        from .production import ConfigError

        # Never a generated key in production: every node must open the same seeds.
        raise ConfigError(
            "MFA_SEED_KEYS",
            'not set (keys that encrypt OTP seeds, newest first; make one with: python -c "import secrets; '
            'print(secrets.token_urlsafe(32))")',
        )
    dev_key = var_dir / "dev-seed-key"
    if not dev_key.exists():
        import secrets

        # Created whole or not at all (a hard link never replaces a file): two processes starting
        # at once agree on one key instead of each sealing seeds with its own.
        dev_key.parent.mkdir(parents=True, exist_ok=True)
        draft = dev_key.with_name(f".dev-seed-key.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, dev_key)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return [dev_key.read_text().strip()]


# The id_token keys beyond RS256 (MFA_OAUTH["ID_TOKEN_SIGNING_KEYS"], FAPI 2.0 Security Profile §5.4.1), in
# the order the site prefers them: a FAPI 2.0 client that chose no algorithm gets the first.
ID_TOKEN_ALGORITHMS = ("ES256", "PS256", "EdDSA")


def generate_pem(alg: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    if alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif alg == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_id_token_keys(var_dir: Path) -> list[dict[str, str]]:
    """MFA_OAUTH["ID_TOKEN_SIGNING_KEYS"]: PS256/ES256/EdDSA keys for id_tokens (mfa_oauth.oauth.signing).

    Production: ``OIDC_ID_TOKEN_KEY_FILES=ES256=/path/es.pem,EdDSA=/path/ed.pem`` (optional; without it
    id_tokens are RS256 only, and FAPI 2.0 clients are refused by system check mfa_oauth.E143). Development:
    one key per algorithm, generated once into the var folder (outside git), like the RSA key.
    """
    production = os.environ.get("IDP_PRODUCTION", "").strip().lower() in {"1", "true", "yes", "on"}
    spec = os.environ.get("OIDC_ID_TOKEN_KEY_FILES", "").strip()
    if spec:
        keys = []
        for item in (part.strip() for part in spec.split(",") if part.strip()):
            alg, _, path = item.partition("=")
            try:
                pem = Path(path.strip()).read_text()
            except OSError as error:
                from .production import ConfigError

                raise ConfigError("OIDC_ID_TOKEN_KEY_FILES", f"cannot read {path.strip()}: {error.strerror}") from None
            keys.append({"alg": alg.strip(), "key": pem})  # kid: the key's JWK thumbprint
        return keys
    if production:
        return []
    folder = var_dir / "dev-id-token-keys"
    keys = []
    for alg in ID_TOKEN_ALGORITHMS:
        key_file = folder / f"{alg.lower()}.pem"
        if not key_file.exists():
            # Created whole or not at all (a hard link never replaces a file), as the seed key.
            folder.mkdir(parents=True, exist_ok=True)
            draft = key_file.with_name(f".{key_file.name}.{os.getpid()}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(generate_pem(alg))
            try:
                os.link(draft, key_file)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        keys.append({"alg": alg, "kid": f"dev-{alg.lower()}", "key": key_file.read_text()})
    return keys
