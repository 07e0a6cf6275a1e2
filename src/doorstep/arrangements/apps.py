from django.apps import AppConfig


class ArrangementsConfig(AppConfig):
    name = "doorstep.arrangements"
    verbose_name = "Repayment arrangements"
