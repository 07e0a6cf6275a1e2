from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "doorstep.payments"
    verbose_name = "Payments from the portal"
