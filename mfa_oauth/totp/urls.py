from django.urls import path

from .views import EnrollTOTPView

urlpatterns = [path("enroll/totp/", EnrollTOTPView.as_view(), name="enroll-totp")]
