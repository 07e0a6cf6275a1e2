from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "doorstep.complaints"
    verbose_name = "Complaints and disputes"
