"""doorstep api_token USERNAME --name NAME"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from doorstep.api.models import ApiToken


class Command(BaseCommand):
    help = (
        "Issue an API bearer token for an existing user. The token is printed once, never stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="what the token is for (an integration)")

    def handle(self, username: str, name: str, **options):
        users = get_user_model()
        user = users.objects.filter(**{users.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"user {username!r} does not exist")
        token, text = ApiToken.issue(user, name)
        self.stderr.write(f"token {token.prefix}… issued to {username}; it will not be shown again")
        self.stdout.write(text)
