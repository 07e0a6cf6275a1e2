from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The pages around the apps: the home page, sign-in, the demo's staff roles."""

    name = "doorstep.web"
    verbose_name = _("Web")
