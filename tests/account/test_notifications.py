"""Notification settings: recipients hook, switch-off, and a broken mail server never breaks a change."""

from __future__ import annotations

from django.core import mail

from mfa_oauth.notifications.mail import notify


def _notifications(settings, **options) -> None:
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "NOTIFICATIONS": options}


def both_addresses(user) -> list[str]:
    return [user.email, f"{user.get_username()}@backup.example"]


def test_recipients_hook_reaches_two_addresses(user, settings):
    _notifications(settings, RECIPIENTS="tests.account.test_notifications.both_addresses")
    assert notify("locked", user, failure_count=10)
    assert mail.outbox[0].to == ["alice@example.com", "alice@backup.example"]


def test_switched_off_or_no_address(user, settings):
    _notifications(settings, ENABLED=False)
    assert not notify("locked", user, failure_count=10)
    _notifications(settings)
    user.email = ""
    assert not notify("locked", user, failure_count=10)
    assert mail.outbox == []


def test_a_failing_mail_server_is_logged_not_raised(user, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nothing listens
    assert not notify("factor_added", user, method_label="Authenticator app")
    assert "could not send the factor_added notification" in caplog.text


def test_site_name_and_text_are_not_html_escaped(user, settings):
    _notifications(settings, SITE_NAME="Bank & Co")
    notify("backup_code_used", user, remaining=2)
    message = mail.outbox[0]
    assert message.subject == "Bank & Co: a backup code was used to sign in"
    assert "you have 2\nleft. Create a new set" in message.body
