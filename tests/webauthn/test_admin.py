"""The WebAuthn credential admin: listed with the flags an operator needs, never added by hand."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse


def test_admin_lists_credentials_and_has_no_add_form(client, registered):
    from tests.conftest import pass_second_factor

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    pass_second_factor(client, admin)  # the admin site asks staff for a second factor
    changelist = client.get(reverse("admin:mfa_oauth_webauthn_webauthncredential_changelist"))
    assert changelist.status_code == 200 and b"My key" in changelist.content
    assert client.get(reverse("admin:mfa_oauth_webauthn_webauthncredential_add")).status_code == 403
    change = client.get(reverse("admin:mfa_oauth_webauthn_webauthncredential_change", args=[registered.pk]))
    assert change.status_code == 200 and b"clone_suspected_at" in change.content
    # The attestation evidence is shown, never editable: ticking it would forge a hardware level.
    assert b"attestation_verified" in change.content and b'name="attestation_verified"' not in change.content
    assert b'name="attestation_root"' not in change.content
