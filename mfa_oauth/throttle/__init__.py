"""Password-guessing throttle: per account and per client IP, counted in the shared cache.

The check sits below every login view, in an authentication backend (Django's documented
extension point ``AUTHENTICATION_BACKENDS``): the site's login form, the admin's, and a project's
own view all call ``django.contrib.auth.authenticate()``, and a backend that raises
``PermissionDenied`` stops it before any backend has looked at the password. The forms in
:mod:`mfa_oauth.throttle.forms` only turn the refusal into its message. docs/security.md,
"Password guessing", gives the reasoning and the numbers.

- :mod:`.counters` — the counting and the waiting windows (Django's cache API, atomic add/incr);
- :mod:`.backends` — ``ThrottledModelBackend`` (and the mixin for any other password backend);
- :mod:`.forms` — the login forms that say "Too many failed attempts. Try again in N minutes.";
- :mod:`.views` — a LoginView mixin that answers a refused attempt with 429 and Retry-After;
- :mod:`.checks` — system checks for a throttle that would not hold.
"""
