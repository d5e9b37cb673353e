from django.urls import path

from . import finance_views, views

app_name = "demo"

urlpatterns = [
    path("", views.index, name="index"),
    path("start/", views.start, name="start"),
    path("callback/", views.callback, name="callback"),
    path("forget/", views.forget, name="forget"),
    path("api/<slug:name>/", views.call_api, name="call-api"),
    # The second demo relying party: a third-party finance app on the FAPI 2.0 flow (docs/fapi.md).
    path("finance/", finance_views.index, name="finance"),
    path("finance/connect/", finance_views.start, name="finance-start"),
    path("finance/callback/", finance_views.callback, name="finance-callback"),
    path("finance/read/", finance_views.read_again, name="finance-read"),
    path("finance/without-key/", finance_views.without_key, name="finance-without-key"),
    path("finance/disconnect/", finance_views.disconnect, name="finance-disconnect"),
]
