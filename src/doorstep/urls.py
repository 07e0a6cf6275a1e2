from django.contrib import admin
from django.urls import path

from doorstep.api.endpoints import api
from doorstep.web import field, views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("field/", field.agent_day, name="field-day"),
    path("field/visits/<str:visit_id>/", field.agent_visit, name="field-visit"),
    path("field/visits/<str:visit_id>/check-in", field.agent_check_in, name="field-check-in"),
    path("field/visits/<str:visit_id>/outcome", field.agent_outcome, name="field-outcome"),
    path("field/visits/<str:visit_id>/evidence", field.agent_evidence, name="field-evidence"),
    path("visits/review/", field.review, name="visit-review"),
    path("v/<str:token>/", field.answer, name="visit-answer"),
    path("v/<str:token>/letter.pdf", field.notice_letter, name="visit-letter"),
    path("verify/", field.verify, name="verify"),
    path("verify/photo/<str:credential_no>", field.credential_photo, name="credential-photo"),
]
