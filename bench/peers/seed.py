"""Seed a peer site (in its own venv): the bench accounts with a TOTP device each and the public client.

    DJANGO_SETTINGS_MODULE=bench.peers.allauth.settings python -m bench.peers.seed --accounts N --redirect-uri URI

The same accounts, password, TOTP keys and client id as ``bench.seed`` (and, as there, the password
hashed once with the site's hasher for every row). Prints JSON as ``bench.seed`` does.
"""

from __future__ import annotations

import argparse
import base64
import json
import os

from bench import seed


def _users(count: int) -> list:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    encoded = make_password(seed.PASSWORD)
    names = [seed.username(i) for i in range(count)]
    User.objects.bulk_create(
        [User(username=n, email=f"{n}@bench.invalid", password=encoded) for n in names], batch_size=500
    )
    return list(User.objects.filter(username__in=names))


def seed_allauth(count: int, redirect_uri: str) -> None:
    from allauth.idp.oidc.models import Client
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import encrypt

    users = _users(count)
    Authenticator.objects.bulk_create(
        [
            Authenticator(
                user=u,
                type=Authenticator.Type.TOTP,
                data={"secret": encrypt(base64.b32encode(bytes.fromhex(seed.totp_key_hex(u.username))).decode())},
            )
            for u in users
        ],
        batch_size=500,
    )
    Client.objects.create(
        id=seed.PUBLIC_CLIENT_ID,
        name=seed.PUBLIC_CLIENT_ID,
        type=Client.Type.PUBLIC,
        scopes="openid\nprofile\nemail",
        redirect_uris=redirect_uri,
        grant_types=Client.GrantType.AUTHORIZATION_CODE,
        response_types="code",
        skip_consent=False,  # the consent page is part of the measured flow
    )


def seed_two_factor(count: int, redirect_uri: str) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from oauth2_provider.models import get_application_model

    users = _users(count)
    # two_factor's default_device() is the device named "default".
    TOTPDevice.objects.bulk_create(
        [TOTPDevice(user=u, name="default", key=seed.totp_key_hex(u.username), confirmed=True) for u in users],
        batch_size=500,
    )
    Application = get_application_model()
    Application.objects.create(
        client_id=seed.PUBLIC_CLIENT_ID,
        name=seed.PUBLIC_CLIENT_ID,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--redirect-uri", required=True)
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import transaction

    with transaction.atomic():
        if "allauth" in os.environ["DJANGO_SETTINGS_MODULE"]:
            seed_allauth(args.accounts, args.redirect_uri)
        else:
            seed_two_factor(args.accounts, args.redirect_uri)
    public = {"client_id": seed.PUBLIC_CLIENT_ID, "client_secret": None, "redirect_uri": args.redirect_uri}
    print(json.dumps({"accounts": args.accounts, "password": seed.PASSWORD, "clients": {"public": public}}))


if __name__ == "__main__":
    main()
