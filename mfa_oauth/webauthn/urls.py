from django.urls import path

from . import views

urlpatterns = [
    path("webauthn/", views.RegisterView.as_view(), name="webauthn-register"),
    path("webauthn/register/options/", views.register_options, name="webauthn-register-options"),
    path("webauthn/register/verify/", views.register_verify, name="webauthn-register-verify"),
    path("webauthn/<int:pk>/remove/", views.remove, name="webauthn-remove"),
    path("webauthn/authenticate/options/", views.authenticate_options, name="webauthn-authenticate-options"),
    path("webauthn/authenticate/verify/", views.authenticate_verify, name="webauthn-authenticate-verify"),
    path("webauthn/passkey/options/", views.passkey_options, name="webauthn-passkey-options"),
    path("webauthn/passkey/verify/", views.passkey_verify, name="webauthn-passkey-verify"),
]
