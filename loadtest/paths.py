"""The load test's requests: one path template per endpoint, named as the figures aggregate them.

Pure (no locust, no Django), so that tests/loadtest can check every path still resolves to the view
it is meant for (`django.urls.resolve`) without importing locust, which patches the standard
library with gevent when imported.
"""

import re

# name -> (path template, the URL name it must resolve to)
ENDPOINTS = {
    "staff_login": ("/admin/login/", "admin:login"),
    "console_home": ("/console/", "console-home"),
    "call_queue": ("/console/calls/", "console-calls"),
    "call_claim": ("/console/calls/{action}/claim", "console-call-claim"),
    "case_view": ("/console/accounts/{account}/", "console-account"),
    "call_outcome": ("/console/accounts/{account}/call", "console-call"),
    "portal_signin": ("/my/", "portal-signin"),
    "portal_code": ("/my/code/", "portal-code"),
    "portal_accounts": ("/my/accounts/", "portal-accounts"),
    "portal_account": ("/my/a/{account}/", "portal-account"),
    "portal_pay": ("/my/a/{account}/pay/", "portal-pay"),
    "pay_sandbox": ("/my/payments/{intent}/sandbox/", "pay-sandbox"),
    "payment": ("/my/payments/{intent}/", "portal-payment"),
    "field_day": ("/field/", "field-day"),
    "field_visit": ("/field/visits/{visit}/", "field-visit"),
    "field_check_in": ("/field/visits/{visit}/check-in", "field-check-in"),
}


def path(endpoint: str, **ids: str) -> str:
    return ENDPOINTS[endpoint][0].format(**ids)


def name(endpoint: str) -> str:
    """The endpoint's name in the figures: its pattern, each id as [id]."""
    return re.sub(r"\{(\w+)\}", r"[\1]", ENDPOINTS[endpoint][0])
