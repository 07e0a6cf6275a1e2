from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "doorstep.strategy"
    verbose_name = "Escalation strategy"
