from django.apps import AppConfig


class PlacementsConfig(AppConfig):
    name = "doorstep.placements"
    verbose_name = "Agency placements"
