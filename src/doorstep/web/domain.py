"""Writes of the web app: the role groups and the demo's staff logins."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from doorstep.web.roles import ROLES


def ensure_role_groups() -> dict[str, Group]:
    """Create or refresh one group per staff role with exactly its permissions."""
    groups = {}
    with transaction.atomic():
        for role in ROLES:
            group, _ = Group.objects.get_or_create(name=role.code)
            permissions = []
            for dotted in role.permissions:
                app_label, codename = dotted.split(".")
                permissions.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
            group.permissions.set(permissions)
            groups[role.code] = group
    return groups


def ensure_demo_logins(password_for) -> list[tuple[str, str, str]]:
    """One staff login per role (username = role code); returns (role, username, password)."""
    groups = ensure_role_groups()
    users = get_user_model()
    created = []
    with transaction.atomic():
        for role in ROLES:
            user, _ = users.objects.get_or_create(
                username=role.code, defaults={"is_staff": True, "first_name": str(role.label)}
            )
            password = password_for(role.code)
            user.set_password(password)
            user.is_staff = True
            user.save()
            user.groups.set([groups[role.code]])
            created.append((str(role.label), role.code, password))
        admin, _ = users.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        admin.set_password(password_for("admin"))
        admin.is_staff = admin.is_superuser = True
        admin.save()
        created.append(("Administrator", "admin", password_for("admin")))
    return created
