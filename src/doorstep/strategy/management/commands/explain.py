"""doorstep explain ACCOUNT_ID [--as-of DATE] [--lang zh|en]"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from doorstep.ledger.models import Account
from doorstep.money import yuan
from doorstep.strategy import domain, queries
from doorstep.strategy.engine.explain import STAGE_NAMES

LABELS = {
    "en": {"stage": "stage", "rules": "rules", "gates": "gates", "why": "why", "next": "next",
           "skipped": "skipped: no scoring model", "nothing": "nothing changes by itself",
           "score": "score", "model": "model", "band": "band", "reasons": "score reasons",
           "low": "low", "medium": "medium", "high": "high"},
    "zh": {"stage": "阶段", "rules": "规则", "gates": "门槛", "why": "原因", "next": "接下来",
           "skipped": "跳过：尚无评分模型", "nothing": "不会自行变化",
           "score": "催收评分", "model": "模型", "band": "风险等级", "reasons": "评分原因",
           "low": "低", "medium": "中", "high": "高"},
}  # fmt: skip


class Command(BaseCommand):
    help = "Explain an account's stage: every rule and gate with its figures, and what comes next."

    def add_arguments(self, parser):
        parser.add_argument("account_id")
        parser.add_argument("--as-of", type=date.fromisoformat)
        parser.add_argument("--lang", choices=["zh", "en"], default="zh")

    def handle(self, account_id, as_of, lang, **options):
        strategy = domain.compiled(domain.active_version())
        try:
            e = queries.explain_account(account_id, as_of, strategy, at=timezone.now())
        except Account.DoesNotExist:
            raise CommandError(f"no account {account_id}") from None
        words, d = LABELS[lang], e.decision
        name = STAGE_NAMES[d.stage][0 if lang == "en" else 1]
        self.stdout.write(f"{account_id}  {e.as_of}  {words['stage']}: {d.stage} ({name})")
        self.stdout.write(f"{words['why']}: {d.reasons_en if lang == 'en' else d.reasons_zh}")
        for gate, title in ((False, words["rules"]), (True, words["gates"])):
            self.stdout.write(f"{title}:")
            for line in (line for line in e.lines if line.gate == gate):
                mark = "x" if line.result else " "
                figures = ", ".join(f"{k}={_shown(k, v)}" for k, v in line.figures.items())
                note = f"  ({words['skipped']})" if line.skipped else ""
                self.stdout.write(f"  [{mark}] {line.id:<26} {line.when}  [{figures}]{note}")
        change = e.next_change
        text = (change.en if lang == "en" else change.zh) if change else words["nothing"]
        self.stdout.write(f"{words['next']}: {text}")
        if e.score is not None:
            self._score(e.score, words, lang)

    def _score(self, score, words, lang):
        """The collection score in force: model, score, band and the reasons that raise it."""
        band = words.get(score.risk_band, score.risk_band)
        self.stdout.write(
            f"{words['score']}: {score.risk_score} ({words['band']} {band}), "
            f"{words['model']} {score.model}"
        )
        self.stdout.write(f"{words['reasons']}:")
        for n, reason in enumerate(score.reasons, 1):
            text = reason.en if lang == "en" else reason.zh
            self.stdout.write(f"  {n}. [{reason.code}] {text}  (+{reason.weight:.4f})")


def _shown(name, value):
    if value is None:
        return "NULL"
    if name in ("overdue_amount", "outstanding"):
        return yuan(int(value * 100))
    return value
