from __future__ import annotations

import base64
import os
from pathlib import Path

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import get_application_model

from mfa_oauth.models import ClientPolicy

PASSWORD = "correct horse battery staple"
CLIENT_SECRET = "test-client-secret"
REDIRECT_URI = "https://rp.example/cb"


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def totp_device(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def totp_for(device) -> pyotp.TOTP:
    """An independent TOTP generator for a django-otp device (RECIPES §8)."""
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode())


@pytest.fixture
def make_application(db):
    def make(
        mfa_mode: str = "",
        skip_authorization: bool = False,
        redirect_uris: str = REDIRECT_URI,
        client_id: str = "rp",
        **policy,
    ):
        owner = get_user_model().objects.get_or_create(username="owner")[0]
        Application = get_application_model()
        app = Application.objects.create(
            name=client_id,
            client_id=client_id,
            client_secret=CLIENT_SECRET,
            user=owner,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=redirect_uris,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=skip_authorization,
        )
        if mfa_mode or policy:
            ClientPolicy.objects.create(application=app, mfa_mode=mfa_mode, **policy)
        return app

    return make


@pytest.fixture
def application(make_application):
    return make_application()


@pytest.fixture
def device_app(db):
    """An RFC 8628 device-flow client ("tv", confidential) whose policy always asks for a second factor."""
    Application = get_application_model()
    owner = get_user_model().objects.get_or_create(username="owner")[0]
    app = Application.objects.create(
        name="TV",
        client_id="tv",
        client_secret=CLIENT_SECRET,
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_DEVICE_CODE,
        redirect_uris="",
        algorithm=Application.RS256_ALGORITHM,
    )
    ClientPolicy.objects.create(application=app, mfa_mode="always")
    return app


# --- headless Chromium (RECIPES.md §2): Debian's browser, never a downloaded one -------------------
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    # Playwright's sync API leaves an asyncio loop running in the main thread; the ORM calls in test
    # bodies are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from tests.services import require_chromium

    return {**browser_type_launch_args, "executable_path": require_chromium(), "args": CHROMIUM_ARGS}


@pytest.fixture
def artifacts(request) -> Path:
    """A folder for screenshots a test saves (artifacts/<test name>/), kept after the run."""
    folder = ARTIFACTS_DIR / request.node.name.replace("/", "_")[:100]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- the admin site requires a second factor for staff (mfa_oauth.operators.site) ----------------
def pass_second_factor(client, user, device=None) -> None:
    """Log ``client`` in as ``user`` with a session that just completed a second factor.

    For tests about something else than the challenge step (e.g. an admin page): staff reach the
    admin only once verified. Creates a TOTP device for ``user`` when none is given."""
    import time

    from django_otp import DEVICE_ID_SESSION_KEY

    from mfa_oauth.context import SESSION_KEY, AuthContext, password_factor
    from mfa_oauth.methods import factor_for

    device = device or TOTPDevice.objects.create(user=user, name="test device", confirmed=True)
    client.force_login(user)
    session = client.session
    now = int(time.time())
    context = AuthContext(user_id=user.pk, factors=(password_factor(now), factor_for(device, at=now)))
    session[SESSION_KEY] = context.to_dict()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def create_demo_client(base_url: str, owner, mfa_mode: str = "always"):
    """The demo relying party (/demo/) registered for a live server, as ``seed_demo`` registers it."""
    Application = get_application_model()
    app = Application.objects.create(
        name="Demo client",
        client_id=settings.DEMO_CLIENT_ID,
        client_secret=settings.DEMO_CLIENT_SECRET,
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{base_url}/demo/callback/",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )
    ClientPolicy.objects.create(application=app, mfa_mode=mfa_mode)
    return app


@pytest.fixture
def shared_memory_db_tolerates_threads():
    """Readers of the shared-cache test database take no table locks (read_uncommitted), so the
    test's polling never blocks the worker thread's writes."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    def pragma(sender, connection, **kwargs):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA read_uncommitted = 1")

    connection_created.connect(pragma)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        pragma(None, connection)
    yield
    connection_created.disconnect(pragma)


def forget_login_throttle() -> None:
    """Forget every password failure counted (mfa_oauth.throttle keeps them in the cache, which
    outlives a test's database). Only a per-process cache is cleared: never a shared Redis."""
    from django.core.cache import caches

    from mfa_oauth.conf import settings as mfa_settings

    alias = mfa_settings.LOGIN_THROTTLE_CACHE
    if settings.CACHES.get(alias, {}).get("BACKEND", "").endswith("LocMemCache"):
        caches[alias].clear()


@pytest.fixture(autouse=True)
def _fresh_login_throttle():
    """Every test starts with no password failures counted."""
    forget_login_throttle()
    yield
