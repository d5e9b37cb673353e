from django.urls import path

from . import views

app_name = "demo"

urlpatterns = [
    path("", views.index, name="index"),
    path("start/", views.start, name="start"),
    path("callback/", views.callback, name="callback"),
    path("forget/", views.forget, name="forget"),
    path("api/<slug:name>/", views.call_api, name="call-api"),
]
