"""Writes of the web app: the role groups and the demo's staff logins."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from doorstep.ledger.enums import FieldCoverage
from doorstep.ledger.models import Region
from doorstep.ledger.privacy import configured_cipher
from doorstep.placements.models import Agency, Contract, Member
from doorstep.strategy.models import Decision
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


def ensure_demo_field_teams(*, at, regions: int = 3) -> list[str]:
    """Two demo agents and a team in each of the regions with the most proposed visits; the
    field_agent login becomes the first agent. Returns the team codes."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.db.models import Avg, Count

    from doorstep.ledger.models import Borrower
    from doorstep.visits.domain import form_team
    from doorstep.visits.models import FieldAgent, Team, Visit

    busiest = (
        Visit.objects.filter(state="proposed")
        .values("account__borrower__region_id")
        .annotate(n=Count("pk"))
        .order_by("-n")[:regions]
    )
    codes = []
    for n, row in enumerate(busiest, start=1):
        region = row["account__borrower__region_id"]
        code = f"DEMO-{region}"
        codes.append(code)
        if Team.objects.filter(code=code).exists():
            continue
        centre = Borrower.objects.filter(region_id=region, lat__isnull=False).aggregate(
            lat=Avg("lat"), lon=Avg("lon")
        )
        if centre["lat"] is None:
            continue
        agents = []
        for k, name in enumerate(("王强", "李娜"), start=1):
            agent, _ = FieldAgent.objects.get_or_create(
                credential_no=f"FA-{region}-{k}",
                defaults={"name": f"{name}{n}", "organisation": "doorstep 外访部",
                          "valid_from": date(at.year, 1, 1), "valid_until": date(at.year + 1, 12, 31)},
            )  # fmt: skip
            agent.regions.add(region)
            agents.append(agent)
        form_team(code, region_code=region, members=agents, base=(centre["lat"], centre["lon"]),
                  by="demo", at=at, capacity=10)  # fmt: skip
    first = FieldAgent.objects.filter(credential_no__endswith="-1").order_by("pk").first()
    user = get_user_model().objects.filter(username="field_agent").first()
    if first is not None and user is not None and first.user_id is None:
        FieldAgent.objects.filter(user=user).update(user=None)
        first.user = user
        first.save(update_fields=["user"])
    return codes


def demo_borrower_phones(stages=("reminder", "phone", "home_visit")) -> list[tuple[str, str]]:
    """One borrower's phone number per stage of the latest decisions, for the demo's sign-in
    hints. Reads only (decrypts a handful of numbers)."""
    found = []
    for stage in stages:
        decision = (
            Decision.objects.filter(stage=stage)
            .select_related("account__borrower")
            .order_by("-as_of", "account_id")
            .first()
        )
        if decision is not None:
            phone = configured_cipher().decrypt(decision.account.borrower.phone_encrypted)
            found.append((stage, phone))
    return found


def ensure_demo_agency(*, at) -> str:
    """The demo's external agency: a contract for every region the lender covers through an
    agency, valid a year from today, and the `agency` login as its member."""
    agency, _ = Agency.objects.get_or_create(code="AG01", defaults={"name": "星河资产管理（演示）"})
    today = at.date()
    contract, created = Contract.objects.get_or_create(
        reference="AG01-DEMO",
        defaults={
            "agency": agency,
            "valid_from": today,
            "valid_until": today.replace(year=today.year + 1),
        },
    )
    if created:
        contract.regions.set(Region.objects.filter(field_coverage=FieldCoverage.AGENCY))
    user = get_user_model().objects.filter(username="agency").first()
    if user is not None:
        Member.objects.get_or_create(user=user, defaults={"agency": agency})
    return agency.pk
