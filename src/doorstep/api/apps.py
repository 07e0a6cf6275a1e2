from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The typed REST API (django-ninja, OpenAPI at /api/docs) and its tokens."""

    name = "doorstep.api"
    verbose_name = _("API")
