from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("balance", views.balance, name="balance"),
    path("transfer", views.transfer, name="transfer"),
]
