"""Include under any prefix: ``path("account/", include("mfa_oauth.account.urls"))``."""

from django.urls import path

from . import views

app_name = "mfa_oauth_account"

urlpatterns = [
    path("security/", views.security, name="security"),
    path("security/factors/<path:persistent_id>/rename/", views.rename, name="rename"),
    path("security/factors/<path:persistent_id>/remove/", views.remove, name="remove"),
    path("security/backup-codes/", views.backup_codes, name="backup-codes"),
    path("security/backup-codes/download/", views.backup_codes_download, name="backup-codes-download"),
    path("security/backup-codes/done/", views.backup_codes_done, name="backup-codes-done"),
]
