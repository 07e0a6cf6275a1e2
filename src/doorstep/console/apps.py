from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "doorstep.console"
    verbose_name = "Operator console"
