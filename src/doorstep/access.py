"""Staff pages' access rule: sign in first (a redirect to the login page), then the permission,
refused with 403 for a signed-in user who lacks it (not a redirect to a login they already have)."""

from django.contrib.auth.decorators import login_required, permission_required


def staff_permission(permission: str):
    def decorate(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorate
