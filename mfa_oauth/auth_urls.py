"""Sign-in URLs: ``path("accounts/", include("mfa_oauth.auth_urls"))``.

The names are Django's own (``login``, ``logout``, as in ``django.contrib.auth.urls``), so
``LOGIN_URL``'s default ``/accounts/login/`` and ``{% url 'logout' %}`` in the second-factor page work.
"""

from django.urls import path

from .login import LoginView, LogoutView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]
