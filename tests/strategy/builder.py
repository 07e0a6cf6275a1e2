"""Write small portfolios in the import format (docs/data-format.md), one account per case."""

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

REGIONS = [
    ("440305", "广东省深圳市南山区", "Asia/Shanghai", "in_house"),
    ("650102", "新疆维吾尔自治区乌鲁木齐市天山区", "Asia/Urumqi", "agency"),
    ("654002", "新疆维吾尔自治区伊犁哈萨克自治州伊宁市", "Asia/Urumqi", "none"),
]


@dataclass
class Portfolio:
    as_of: date
    prefix: str = ""  # keeps payment and contact ids apart when several portfolios are imported
    accounts: list = field(default_factory=list)
    instalments: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    holds: list = field(default_factory=list)

    def account(
        self,
        account_id: str,
        *,
        overdue: str = "0",
        dpd: int = 0,
        due_in: int | None = None,
        next_amount: str = "500.00",
        region: str = "440305",
        auto_debit: bool = False,
    ) -> str:
        """An account `dpd` days past due with `overdue` yuan unpaid (one instalment), and
        optionally a next instalment due in `due_in` days."""
        self.accounts.append((account_id, region, auto_debit))
        seq = 0
        if Decimal(overdue) > 0:
            seq += 1
            self.instalments.append((account_id, seq, self.as_of - timedelta(days=dpd), overdue))
        if due_in is not None:
            seq += 1
            self.instalments.append(
                (account_id, seq, self.as_of + timedelta(days=due_in), next_amount)
            )
        if seq == 0:  # a settled account: one instalment, paid
            self.instalments.append((account_id, 1, self.as_of - timedelta(days=20), "800.00"))
            self.pay(
                account_id,
                "800.00",
                f"{(self.as_of - timedelta(days=10)).isoformat()}T10:00:00+08:00",
            )
        return account_id

    def pay(self, account_id: str, amount: str, paid_at: str) -> None:
        self.payments.append(
            (f"{self.prefix}P{len(self.payments) + 1:05d}", account_id, paid_at, amount)
        )

    def contact(self, account_id, days_ago, channel, outcome, ptp_amount="", ptp_date="") -> None:
        at = f"{(self.as_of - timedelta(days=days_ago)).isoformat()}T11:00:00+08:00"
        self.contacts.append(
            (
                f"{self.prefix}C{len(self.contacts) + 1:05d}",
                account_id,
                at,
                channel,
                outcome,
                ptp_amount,
                ptp_date,
            )
        )

    def hold(self, account_id, kind, since_days_ago=5, until=None) -> None:
        since = self.as_of - timedelta(days=since_days_ago)
        self.holds.append((account_id, kind, since.isoformat(), until.isoformat() if until else ""))

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            "regions.csv": (["region_code", "name", "time_zone", "field_coverage"], REGIONS),
            "borrowers.csv": (
                ["borrower_id", "name", "national_id", "phone", "address", "region_code", "lat",
                 "lon", "language"],
                [
                    (f"B{a}", f"借款人{n}", f"44030519880312{n:04d}", f"138{n:08d}", "测试地址",
                     region, "", "", "zh")
                    for n, (a, region, _) in enumerate(self.accounts)
                ],
            ),
            "accounts.csv": (
                ["account_id", "borrower_id", "product", "opened_on", "principal", "currency",
                 "auto_debit"],
                [
                    (a, f"B{a}", "instalment", (self.as_of - timedelta(days=400)).isoformat(),
                     "10000.00", "CNY", "true" if debit else "false")
                    for a, _, debit in self.accounts
                ],
            ),
            "instalments.csv": (
                ["account_id", "seq", "due_date", "principal_due", "interest_due", "fee_due"],
                [(a, s, d.isoformat(), amount, "0.00", "0.00") for a, s, d, amount in self.instalments],
            ),
            "payments.csv": (["payment_id", "account_id", "paid_at", "amount"], self.payments),
            "contacts.csv": (
                ["contact_id", "account_id", "at", "channel", "outcome", "ptp_amount", "ptp_date"],
                self.contacts,
            ),
            "holds.csv": (["account_id", "kind", "since", "until"], self.holds),
        }  # fmt: skip
        for name, (header, rows) in files.items():
            with (directory / name).open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(header)
                writer.writerows(rows)
        return directory
