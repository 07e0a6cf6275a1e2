from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    """Bringing portfolios in: the import of a lender's files and the synthetic demo portfolio."""

    name = "doorstep.intake"
    verbose_name = _("Portfolio intake")
