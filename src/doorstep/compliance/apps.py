from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "doorstep.compliance"
    verbose_name = "Compliance"
