"""The console's entry: each role lands on its own work."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from doorstep.console.nav import entries_for


@login_required
def home(request):
    entries = entries_for(request)
    if entries:
        return redirect(entries[0]["url"])
    return render(request, "console/nothing.html", status=403)
