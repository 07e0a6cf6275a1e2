from django.urls import path

from doorstep.portal import views

urlpatterns = [
    path("", views.sign_in, name="portal-signin"),
    path("code/", views.enter_code, name="portal-code"),
    path("sign-out/", views.sign_out, name="portal-signout"),
    path("accounts/", views.accounts, name="portal-accounts"),
    path("a/<str:account_id>/", views.account, name="portal-account"),
    path("a/<str:account_id>/pay/", views.pay, name="portal-pay"),
    path("a/<str:account_id>/plan/", views.plan_request, name="portal-plan-request"),
    path("a/<str:account_id>/plan/<str:arrangement_id>/", views.plan, name="portal-plan"),
    path(
        "a/<str:account_id>/plan/<str:arrangement_id>/evidence/<int:evidence_id>",
        views.evidence_file,
        name="portal-plan-evidence",
    ),
    path("a/<str:account_id>/cases/", views.cases, name="portal-cases"),
    path("a/<str:account_id>/cases/<str:case_id>/", views.case, name="portal-case"),
    path("a/<str:account_id>/record.pdf", views.record_pdf, name="portal-record-pdf"),
    path("a/<str:account_id>/record.csv", views.record_csv, name="portal-record-csv"),
    path("a/<str:account_id>/certificate.pdf", views.certificate, name="portal-certificate"),
    path("payments/<str:intent_id>/", views.payment, name="portal-payment"),
    path("payments/<str:intent_id>/sandbox/", views.sandbox_checkout, name="pay-sandbox"),
]
