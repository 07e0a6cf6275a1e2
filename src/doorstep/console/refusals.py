"""Compliance's review of blocked actions: what the guard refused, by rule, newest first."""

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.urls import path

from doorstep.access import staff_permission
from doorstep.compliance.models import Refusal


@staff_permission("compliance.view_refusal")
def review(request):
    rule = request.GET.get("rule", "")
    refusals = Refusal.objects.order_by("-at", "-id")
    if rule:
        refusals = refusals.filter(rule_id=rule)
    by_rule = (
        Refusal.objects.values("rule_id", "source").annotate(count=Count("id")).order_by("-count")
    )
    page = Paginator(refusals, 50).get_page(request.GET.get("page"))
    return render(
        request, "console/refusals.html", {"page": page, "by_rule": by_rule, "rule": rule}
    )


urlpatterns = [path("refusals/", review, name="console-refusals")]
