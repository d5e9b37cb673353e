"""A project's own user admin gets the factor panel and the operator actions (MFAUserAdminMixin)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.test import RequestFactory

from mfa_oauth.operators.admin import MFAUserAdmin
from mfa_oauth.operators.site import MFAAdminSite
from mfa_oauth.operators.user_admin import MFA_ACTIONS, MFAUserAdminMixin

User = get_user_model()


class ProjectUserAdmin(UserAdmin):
    """A project's admin: its own columns and actions, no knowledge of mfa_oauth."""

    list_display = ("username", "email", "date_joined")
    actions = ["make_inactive"]

    def make_inactive(self, request, queryset):
        queryset.update(is_active=False)


def test_the_site_adds_the_mixin_to_the_projects_user_admin(db):
    site = MFAAdminSite(name="ops")
    site.register(User, ProjectUserAdmin)
    model_admin = site.get_model_admin(User)
    assert isinstance(model_admin, MFAUserAdminMixin) and isinstance(model_admin, ProjectUserAdmin)
    assert model_admin.list_display == ProjectUserAdmin.list_display  # the project's own choices stay
    # URL names follow the admin's opts and site, never a hard-coded auth_user_* in another namespace.
    names = {pattern.name for pattern in model_admin.get_urls() if pattern.name}
    label = f"{User._meta.app_label}_{User._meta.model_name}"
    assert {f"{label}_mfa_reset", f"{label}_mfa_unlock", f"{label}_change"} <= names
    assert model_admin.admin_url_name("change") == f"ops:{label}_change"


def test_the_mixin_adds_its_actions_beside_the_projects(db):
    site = MFAAdminSite(name="ops")
    site.register(User, ProjectUserAdmin)
    request = RequestFactory().get("/")
    request.user = User.objects.create_superuser("root", "root@example.com", "x")
    actions = site.get_model_admin(User).get_actions(request)
    assert {"make_inactive", *MFA_ACTIONS} <= set(actions)
    plain = UserAdmin(User, site)
    assert not set(MFA_ACTIONS) & set(plain.get_actions(request))


def test_the_default_site_shows_the_packaged_admin(db):
    from django.contrib import admin

    assert isinstance(admin.site.get_model_admin(User), MFAUserAdminMixin)
    assert issubclass(MFAUserAdmin, UserAdmin)
