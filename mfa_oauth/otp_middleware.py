"""django-otp's ``OTPMiddleware`` without a device query on every request.

django-otp loads the session's verified device whenever ``request.user`` is first touched: one
SQL statement on every request of a signed-in user, although mfa_oauth itself decides from the
session's authentication context and only the admin ever asks ``is_verified()``. This subclass
(extending OTPMiddleware at its ``_verify_user_sync`` hook) defers that load to the first
``request.user.is_verified()`` call, which then also fills ``request.user.otp_device``; django-otp's
own decorators, admin site and forms all go through ``is_verified()``. Code that reads
``request.user.otp_device`` directly must call ``is_verified()`` first.
"""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware


class LazyOTPMiddleware(OTPMiddleware):
    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        if user.is_authenticated and request.session.get(DEVICE_ID_SESSION_KEY):
            loaded: list[bool] = []

            def is_verified() -> bool:
                if not loaded:
                    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
                    device = self._device_from_persistent_id(persistent_id) if persistent_id else None
                    # django_otp.login() may have set otp_device meanwhile: keep the fresher one.
                    user.otp_device = self._finalize_device(request, user, user.otp_device or device)
                    loaded.append(True)
                return user.otp_device is not None

            user.is_verified = is_verified
        return user
