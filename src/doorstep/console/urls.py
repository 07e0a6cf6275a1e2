from django.urls import path

from doorstep.console import (
    board,
    calls,
    case,
    dashboards,
    placements,
    refusals,
    strategy_editor,
    views,
)

urlpatterns = [
    path("", views.home, name="console-home"),
    *calls.urlpatterns,
    *case.urlpatterns,
    *board.urlpatterns,
    *placements.urlpatterns,
    *refusals.urlpatterns,
    *strategy_editor.urlpatterns,
    *dashboards.urlpatterns,
]
