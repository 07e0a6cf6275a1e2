from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "doorstep.worklist"
    verbose_name = "Work claims"
