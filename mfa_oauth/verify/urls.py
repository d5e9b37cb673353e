from django.urls import path

from .views import VerifyView

urlpatterns = [path("verify/", VerifyView.as_view(), name="verify")]
