from django.urls import path

from . import views, webhooks

urlpatterns = [
    path("sms/add/", views.AddNumberView.as_view(), name="sms-add"),
    path("sms/verify/<int:pk>/", views.VerifyNumberView.as_view(), name="sms-verify"),
    path("sms/status/<int:message_id>/", webhooks.status_callback, name="sms-status"),
]
