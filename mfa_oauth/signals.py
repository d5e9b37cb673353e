"""Signals a project can connect to (audit log, notifications, forwarding to a SIEM).

Every signal is sent with ``request`` and ``user``; none carries a secret or a code.
"""

from django.dispatch import Signal

# device, method (str)
second_factor_failed = Signal()
# device, method (str), context (AuthContext)
second_factor_verified = Signal()
# failure_count (int); from mfa_oauth.lockout also locked_until (aware datetime, None: no end),
# level (int: which lock since the last success), passkey_usable (bool: the user has a factor that still works)
second_factor_locked = Signal()
# unlocked_by (user or None)
second_factor_unlocked = Signal()
# device, method (str)
factor_added = Signal()
factor_removed = Signal()
# count (int)
backup_codes_generated = Signal()
# application, acr (str), amr (list)
tokens_issued = Signal()
# device, method (str): a code was queued for delivery (never the code itself); optional purpose
# (str): "test" for an operator's test message, "enroll" for a number being verified
challenge_sent = Signal()
# device, method (str), stored_count (int), received_count (int): a WebAuthn assertion with a valid
# signature whose sign counter did not increase, i.e. a possibly cloned authenticator (refused).
authenticator_clone_suspected = Signal()

# --- added by the enrollment/administration issue --------------------------------------------------
# device, method (str), old_name (str), new_name (str)
factor_renamed = Signal()
# device, remaining (int): a backup code was accepted at the challenge step
backup_code_used = Signal()
# event (mfa_oauth.audit.models.AuthEvent): sent after each audit row is written, to forward it elsewhere
audit_event_recorded = Signal()
