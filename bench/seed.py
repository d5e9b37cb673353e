"""Seed bench accounts and OAuth clients into the database the environment names; print them as JSON.

    DJANGO_SETTINGS_MODULE=bench.settings_mfa python -m bench.seed --accounts 2000 --redirect-uri URI

Run by ``bench.harness.deploy`` in a subprocess with the deployment's environment, after migrate.
Each account ``bench00000``... gets a confirmed TOTP device whose key is derived from the user name
(:func:`totp_key_hex`), so the driver can compute codes without reading keys back.

Fast on purpose: the password is hashed ONCE with the site's hasher and every user row gets that same
encoded hash. That is fine for a bench: a login still runs the full hasher over the stored salt and
parameters (the cost being measured does not depend on which salt it is), the hash is current so no
upgrade-on-login write is triggered, and a shared salt only matters to an offline cracker of
throw-away accounts. Hashing thousands of distinct salts would take minutes (Argon2id/PBKDF2 cost
per user) and measure nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets

ACCOUNT_PREFIX = "bench"
PASSWORD = "bench-account-password-1234"
PUBLIC_CLIENT_ID = "bench-public"
CONFIDENTIAL_CLIENT_ID = "bench-confidential"
SERVICE_CLIENT_ID = "bench-service"


def username(index: int) -> str:
    return f"{ACCOUNT_PREFIX}{index:05d}"


def totp_key_hex(name: str) -> str:
    """A 20-byte TOTP key per account, derived from its name (bench data, never a real secret)."""
    return hmac.new(b"mfa_oauth bench totp", name.encode(), hashlib.sha1).hexdigest()


def seed_accounts(count: int) -> int:
    """Create the missing accounts ``bench00000``..``bench{count-1}`` with their TOTP devices."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    User = get_user_model()
    names = [username(i) for i in range(count)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    missing = [n for n in names if n not in existing]
    if not missing:
        return 0
    encoded = make_password(PASSWORD)  # once: see the module docstring
    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(username=n, email=f"{n}@bench.invalid", password=encoded) for n in missing], batch_size=500
        )
        if any(u.pk is None for u in users):  # a backend without RETURNING: read the ids back
            users = list(User.objects.filter(username__in=missing))
        TOTPDevice.objects.bulk_create(
            [
                TOTPDevice(user=u, name="bench authenticator", key=totp_key_hex(u.username), confirmed=True)
                for u in users
            ],
            batch_size=500,
        )
        # Accounts that have used their second factor before, as a running site's users have: the
        # lock-state row a first-ever attempt creates exists (mfa_oauth.lockout.hold), so every flow
        # measures the steady state (tests/core/test_query_budget.py does the same).
        from mfa_oauth.models import UserMFAState

        UserMFAState.objects.bulk_create([UserMFAState(user=u) for u in users], batch_size=500, ignore_conflicts=True)
    return len(missing)


def seed_clients(redirect_uri: str) -> dict[str, dict[str, str | None]]:
    """The bench's OAuth clients (created or reset; confidential secrets are new on every run)."""
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    specs = {
        "public": (PUBLIC_CLIENT_ID, Application.CLIENT_PUBLIC, Application.GRANT_AUTHORIZATION_CODE),
        # authorization_code with refresh tokens (DOT issues refresh tokens to authorization-code clients).
        "confidential": (CONFIDENTIAL_CLIENT_ID, Application.CLIENT_CONFIDENTIAL, Application.GRANT_AUTHORIZATION_CODE),
        # DOT allows one grant type per application: client_credentials gets its own client.
        "service": (SERVICE_CLIENT_ID, Application.CLIENT_CONFIDENTIAL, Application.GRANT_CLIENT_CREDENTIALS),
    }
    clients: dict[str, dict[str, str | None]] = {}
    for role, (client_id, client_type, grant) in specs.items():
        secret = secrets.token_urlsafe(32) if client_type == Application.CLIENT_CONFIDENTIAL else None
        app = Application.objects.filter(client_id=client_id).first() or Application(client_id=client_id)
        app.name = client_id
        app.client_type = client_type
        app.authorization_grant_type = grant
        app.redirect_uris = redirect_uri if grant == Application.GRANT_AUTHORIZATION_CODE else ""
        app.algorithm = Application.RS256_ALGORITHM
        app.skip_authorization = False  # the consent page is part of the measured flow
        app.client_secret = secret or ""
        app.save()  # DOT hashes the secret on save (CLIENT_SECRET_HASHER)
        clients[role] = {"client_id": client_id, "client_secret": secret, "redirect_uri": app.redirect_uris or None}
    # The service introspects the other clients' tokens: registered as their resource server
    # (mfa_oauth.oauth.resource_servers; DOT's own endpoint, on the plain site, asks nothing).
    from mfa_oauth.models import ResourceServer

    server, _ = ResourceServer.objects.get_or_create(application=Application.objects.get(client_id=SERVICE_CLIENT_ID))
    server.clients.set(Application.objects.filter(client_id__in=[PUBLIC_CLIENT_ID, CONFIDENTIAL_CLIENT_ID]))
    return clients


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--redirect-uri", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_mfa")
    import django

    django.setup()
    created = seed_accounts(args.accounts)
    clients = seed_clients(args.redirect_uri)
    print(json.dumps({"accounts": args.accounts, "created": created, "password": PASSWORD, "clients": clients}))


if __name__ == "__main__":
    main()
