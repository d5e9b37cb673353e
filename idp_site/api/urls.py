from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("balance", views.balance, name="balance"),
    path("transfer", views.transfer, name="transfer"),
    # Open banking with RFC 9396 details (docs/fapi.md).
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<str:account_id>/transactions", views.transactions, name="transactions"),
    path("payments", views.payments, name="payments"),
]
