from django.urls import path

from . import views, webhooks

urlpatterns = [
    path("sms/add/", views.AddNumberView.as_view(), name="sms-add"),
    path("sms/status/<int:message_id>/", webhooks.status_callback, name="sms-status"),
]
