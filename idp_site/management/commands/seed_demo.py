"""Demo data for the embedded default: an admin, a demo user with TOTP and backup codes, the demo client,
the third-party finance app (a FAPI 2.0 client, docs/fapi.md) and the sample API's client registered as a
resource server for both (it may introspect their tokens).

Idempotent: a second run keeps existing users, devices and secrets and prints them again.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import get_application_model

from idp_site.api.bank import accounts_of
from idp_site.demo import finance
from mfa_oauth.fapi.models import ClientSecurityProfile, TokenEndpointAuthMethod
from mfa_oauth.models import ClientPolicy, MFAMode, ResourceServer
from mfa_oauth.sms.models import SMSDevice
from mfa_oauth.totp.flows import otpauth_uri, qr_terminal

DEMO_USER = ("alice", "alice-demo-password")
ADMIN_USER = ("admin", "admin-demo-password")
SMS_DEMO_USER = ("bob", "bob-demo-password")
# A fictional number: 555-0100..0199 is reserved for fiction in the North American plan, and
# phonenumbers still classes it as a valid US number (Ofcom's drama range +44 7700 900xxx is not).
SMS_DEMO_NUMBER = "+12025550123"
# A fixed, published secret: this is demo data, never a real account.
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"[::-1]
# The admin site requires a second factor for staff: the demo admin gets its own published secret.
ADMIN_TOTP_KEY_HEX = "61646d696e2d64656d6f2d746f74702d6b657921"


class Command(BaseCommand):
    help = "Create or refresh the reference IdP's demo data and print how to use it."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://localhost:8000")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, base_url: str, quiet: bool, **options):
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username=ADMIN_USER[0], defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"}
        )
        if created:
            admin.set_password(ADMIN_USER[1])
            admin.save()
        alice, created = User.objects.get_or_create(username=DEMO_USER[0], defaults={"email": "alice@example.com"})
        if created:
            alice.set_password(DEMO_USER[1])
            alice.save()
        totp, _ = TOTPDevice.objects.get_or_create(
            user=alice, name="Demo authenticator", defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True}
        )

        bob, created = User.objects.get_or_create(username=SMS_DEMO_USER[0], defaults={"email": "bob@example.com"})
        if created:
            bob.set_password(SMS_DEMO_USER[1])
            bob.save()
        sms, _ = SMSDevice.objects.get_or_create(
            user=bob, name="Demo phone", defaults={"number": SMS_DEMO_NUMBER, "confirmed": True}
        )
        admin_totp, _ = TOTPDevice.objects.get_or_create(
            user=admin, name="Admin demo authenticator", defaults={"key": ADMIN_TOTP_KEY_HEX, "confirmed": True}
        )

        Application = get_application_model()
        base = base_url.rstrip("/")
        redirect_uris = " ".join(
            f"{origin}/demo/callback/" for origin in {base, "http://127.0.0.1:8000", "http://localhost:8000"}
        )
        app = Application.objects.filter(client_id=settings.DEMO_CLIENT_ID).first()
        if app is None:
            app = Application(
                client_id=settings.DEMO_CLIENT_ID,
                client_secret=settings.DEMO_CLIENT_SECRET,
                name="Demo client",
                user=admin,
            )
        app.client_type = Application.CLIENT_CONFIDENTIAL
        app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
        app.redirect_uris = redirect_uris
        app.algorithm = Application.RS256_ALGORITHM
        app.skip_authorization = False
        app.save()
        ClientPolicy.objects.get_or_create(application=app, defaults={"mfa_mode": MFAMode.ALWAYS})

        # The sample API (/api/) authenticates as its own client when it introspects (RFC 7662 §2.1);
        # the registration lets it learn about the demo client's tokens (mfa_oauth.oauth.resource_servers).
        api = Application.objects.filter(client_id=settings.DEMO_API_CLIENT_ID).first()
        if api is None:
            api = Application(
                client_id=settings.DEMO_API_CLIENT_ID,
                client_secret=settings.DEMO_API_CLIENT_SECRET,
                name="Demo API (resource server)",
                user=admin,
            )
        api.client_type = Application.CLIENT_CONFIDENTIAL
        api.authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS
        api.redirect_uris = ""
        api.save()
        resource_server, _ = ResourceServer.objects.get_or_create(application=api)
        finance_app = self.register_finance_app(Application, admin, base, [alice, bob])
        resource_server.clients.add(app, finance_app)

        if quiet:
            return
        secret = base64.b32encode(totp.bin_key).decode().rstrip("=")
        uri = otpauth_uri(totp)
        admin_secret = base64.b32encode(admin_totp.bin_key).decode().rstrip("=")
        self.stdout.write(f"""
==========================================================================
 mfa_oauth reference IdP: demo data ready

 Start here:        {base}/demo/
 Finance app:       {base}/demo/finance/   (FAPI 2.0: PAR, private_key_jwt, DPoP, RAR)
                    alice's accounts: {", ".join(a.id for a in accounts_of(alice))}
 Demo user:         {DEMO_USER[0]} / {DEMO_USER[1]}
 Demo TOTP secret:  {secret}
 otpauth URI:       {uri}
 Admin:             {ADMIN_USER[0]} / {ADMIN_USER[1]}   ({base}/admin/)
 SMS demo user:     {SMS_DEMO_USER[0]} / {SMS_DEMO_USER[1]}  (texts to {sms.masked_number}:
                    "Send me a code", then read the code on this console)
 Admin TOTP secret: {admin_secret}
                    (the admin site asks staff for a second factor; current code:
                     .venv/bin/python -c "import pyotp; print(pyotp.TOTP('{admin_secret}').now())")
 Security page:     {base}/account/security/
 Sample API:        {base}/api/balance validates tokens locally; to have it introspect them instead:
                    RESOURCE_SERVER_INTROSPECTION_URL={base}/o/introspect/
                    RESOURCE_SERVER_INTROSPECTION_CLIENT_ID={settings.DEMO_API_CLIENT_ID}
                    RESOURCE_SERVER_INTROSPECTION_CLIENT_SECRET=<DEMO_API_CLIENT_SECRET>

 Add the secret to an authenticator app (or scan the QR code below), or print
 the current code with:  .venv/bin/python -c "import pyotp; print(pyotp.TOTP('{secret}').now())"
==========================================================================
""")
        self.stdout.write(qr_terminal(uri))

    def register_finance_app(self, Application, owner, base: str, users: list):
        """The second demo relying party (idp_site.demo.finance): a confidential client that
        authenticates with private_key_jwt, its key made once into the var folder, its public key
        inline; PAR required, the account_information details type.

        FAPI 2.0 §5.3.2.2 allows https redirect URIs only and the profile switch checks it, so the
        switch is on only when every redirect URI is https; on plain http (make run) the profile's
        other requirements are registered one by one (docs/fapi.md, "The third-party finance app")."""
        key = finance.ensure_key()
        origins = {base} if base.startswith("https://") else {base, "http://127.0.0.1:8000", "http://localhost:8000"}
        redirect_uris = " ".join(sorted(f"{origin}/demo/finance/callback/" for origin in origins))
        fapi = all(uri.startswith("https://") for uri in redirect_uris.split())
        client = Application.objects.filter(client_id=settings.DEMO_FINANCE_CLIENT_ID).first()
        if client is None:
            # No usable secret: DOT's field must hold something, and private_key_jwt never accepts it.
            client = Application(
                client_id=settings.DEMO_FINANCE_CLIENT_ID,
                client_secret=secrets.token_urlsafe(32),
                name="A third-party finance app",
                user=owner,
            )
        client.client_type = Application.CLIENT_CONFIDENTIAL
        client.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
        client.redirect_uris = redirect_uris
        client.algorithm = Application.RS256_ALGORITHM
        client.skip_authorization = False
        client.save()
        ClientPolicy.objects.get_or_create(application=client, defaults={"mfa_mode": MFAMode.ALWAYS})
        ClientSecurityProfile.objects.update_or_create(
            application=client,
            defaults={
                "token_endpoint_auth_method": TokenEndpointAuthMethod.PRIVATE_KEY_JWT,
                "jwks": finance.public_jwks(key),
                "jwks_uri": "",
                "require_pushed_authorization_requests": True,
                "authorization_details_types": [finance.DETAIL_TYPE],
                "fapi2_security_profile": fapi,
            },
        )
        state = finance.load_state() or {}
        state.update(
            client_id=client.client_id,
            redirect_uris=redirect_uris.split(),
            fapi2_security_profile=fapi,
            # What a user would type into the app: their account numbers (idp_site.api.bank).
            demo_accounts={user.get_username(): [a.id for a in accounts_of(user)] for user in users},
        )
        finance.save_state(state)
        return client
