"""The contact app's one exception type: an English template with its figures and a stable code
(doorstep.errors.UserError); pages show `translated()`, the API and the commands `message`."""

from doorstep.errors import UserError


class ContactRejected(UserError):
    pass
