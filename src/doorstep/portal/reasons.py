"""The collection score's reasons in the words a borrower reads: what about their own account weighs
most, with its figures ("your payments are 120 days late"), never a score, a band or a model's
name. The staff's wording (reason codes, weights) is the console's."""

from django.utils.translation import gettext as _

from doorstep.money import yuan_display
from doorstep.scoring.engine.features import HISTORY, MONTH_DAYS
from doorstep.strategy.engine.explain import ScoreLine


def plain_reasons(score: ScoreLine | None) -> list[str]:
    """One sentence per reason group that raises the account's risk, strongest first; empty when
    the account has no score (no model active, or nothing overdue)."""
    if score is None:
        return []
    figures = score.inputs
    words = []
    for reason in score.reasons:
        if reason.code == "dpd":
            words.append(_("Your payments are %(days)s days late.") % {"days": figures["dpd"]})
        elif reason.code == "dpd_history":
            behind = sum(1 for k in range(1, HISTORY) if figures[f"hist_dpd_{k}"] > 0)
            # Without a late month before this one, the group speaks for today's lateness,
            # which the days-late sentence already says.
            if behind:
                words.append(
                    _(
                        "You were also behind with payments in %(months)s of the %(of)s months before."
                    )
                    % {"months": behind, "of": HISTORY - 1}
                )
        elif reason.code == "size":
            words.append(
                _("The size of your loan (%(amount)s in all).")
                % {"amount": yuan_display(figures["hist_scheduled_cents"])}
            )
        elif reason.code == "balance":
            words.append(
                _("%(amount)s is still owed.")
                % {"amount": yuan_display(figures["outstanding_cents"])}
            )
        elif reason.code == "payments":
            paid = figures["hist_paid_cents_0"]
            if paid:
                words.append(
                    _("Only %(amount)s was paid in the last %(days)s days.")
                    % {"amount": yuan_display(paid), "days": MONTH_DAYS}
                )
            else:
                words.append(
                    _("No payment reached us in the last %(days)s days.") % {"days": MONTH_DAYS}
                )
    return words
