from django.contrib import admin
from django.urls import include, path

from doorstep.api.endpoints import api
from doorstep.portal import views as portal
from doorstep.web import field, queues, views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("field/", field.agent_day, name="field-day"),
    path("field/visits/<str:visit_id>/", field.agent_visit, name="field-visit"),
    path("field/visits/<str:visit_id>/check-in", field.agent_check_in, name="field-check-in"),
    path("field/visits/<str:visit_id>/outcome", field.agent_outcome, name="field-outcome"),
    path("field/visits/<str:visit_id>/evidence", field.agent_evidence, name="field-evidence"),
    path(
        "field/visits/<str:visit_id>/case-file.pdf", field.agent_case_file, name="field-case-file"
    ),
    path("visits/review/", field.review, name="visit-review"),
    path("v/<str:token>/", field.answer, name="visit-answer"),
    path("v/<str:token>/letter.pdf", field.notice_letter, name="visit-letter"),
    path("verify/", field.verify, name="verify"),
    path("verify/photo/<str:credential_no>", field.credential_photo, name="credential-photo"),
    # Staff queues for what borrowers ask: arrangement requests, complaints and disputes.
    path("staff/arrangements/", queues.arrangement_queue, name="queue-arrangements"),
    path(
        "staff/arrangements/<str:arrangement_id>/",
        queues.arrangement_detail,
        name="queue-arrangement",
    ),
    path(
        "staff/arrangements/<str:arrangement_id>/decide",
        queues.arrangement_decide,
        name="queue-arrangement-decide",
    ),
    path(
        "staff/arrangements/<str:arrangement_id>/evidence/<int:evidence_id>",
        queues.arrangement_evidence,
        name="queue-arrangement-evidence",
    ),
    path("staff/cases/", queues.case_queue, name="queue-cases"),
    path("staff/cases/<str:case_id>/answer", queues.case_answer, name="queue-case-answer"),
    # The borrower portal, the payment service's callback and the public certificate check.
    path("my/", include("doorstep.portal.urls")),
    path("console/", include("doorstep.console.urls")),
    path("pay/callback/", portal.gateway_callback, name="pay-callback"),
    path("certificate/<str:reference>/", portal.certificate_check, name="certificate-check"),
]
