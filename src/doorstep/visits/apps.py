from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "doorstep.visits"
    verbose_name = "Home visits"
