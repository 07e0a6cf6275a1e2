"""The feature pass as one SQL statement over the snapshot relations, for DuckDB and PostgreSQL.

Relations it reads (the snapshot; `strategy.snapshot` builds them from the ledger):
  accounts(account_id, product, region_code, auto_debit)
  regions(region_code, coverage, day_end)  -- day_end: epoch second at which the as-of day ends
                                           -- in the region's time zone
  instalments(account_id, seq, due_date, cumulative_cents)
  entries(account_id, kind, amount_cents, effective_on, seq)
  contacts(contact_id, account_id, at_epoch, channel, outcome, ptp_amount_cents, ptp_date)
  holds(account_id, kind, since, until)
  previous(account_id, stage)             -- the last decision before the as-of date
  ledger_stream(account_id, day, credit, charge, cumulative)  -- PostgreSQL only: `ledger_pass_sql`

Everything the ledger gives an account (what was credited, charged and scheduled, the oldest
unpaid instalment, the history steps, the cures) arrives downstream as one relation, `ledger`.
DuckDB builds it from per-account aggregates joined together; PostgreSQL, whose sorts, numeric
sums and merge joins of 12M-row relations took 70 of the statement's 100 seconds at a million
accounts, builds it in one ordered pass (`ledger_pass_sql`).

Money is integer cents until the last SELECT, which exposes yuan as DECIMAL(18,2) for rules.
`engine.account` computes the same figures in Python for one account; the definitions below are
the contract both follow (docs/strategy.md).
"""

from datetime import date

# Credits and charges mean what they mean in the ledger's positions.
from doorstep.ledger.engine.positions import CHARGE_KINDS, CREDIT_KINDS
from doorstep.strategy.engine.features import (
    ARRANGEMENT_HOLD,
    DAY,
    HISTORY_STEPS,
    HOLD_KINDS,
    LOST_OUTCOMES,
    MONTH_DAYS,
    REACHED_OUTCOMES,
    WINDOW_DAYS,
)


def sql_list(values) -> str:
    """Constants (kinds, outcomes) as the inside of an SQL IN list."""
    return ", ".join(f"'{v}'" for v in values)


def arm_bucket_sql(column: str, dialect: str) -> str:
    """0..99 from the first 32 bits of md5(account id): stable across engines and Python."""
    if dialect == "postgres":
        return f"(('x' || SUBSTRING(MD5({column}), 1, 8))::BIT(32)::BIGINT % 100)"
    if dialect == "duckdb":
        return f"(CAST('0x' || SUBSTRING(MD5({column}), 1, 8) AS BIGINT) % 100)"
    if dialect == "spark":
        # CONV parses the 8 hex digits as unsigned; a '0x' string cast is NULL or an error there.
        return f"(CAST(CONV(SUBSTRING(MD5({column}), 1, 8), 16, 10) AS BIGINT) % 100)"
    raise ValueError(f"no arm hash for dialect {dialect}")


def _history_steps():
    return range(1, HISTORY_STEPS + 1)


def _ledger_joined_sql(as_of: date) -> str:
    """`ledger` from per-account aggregates of `ent`, `credit_day` and `instalments`, joined
    (DuckDB, Spark): what was credited in all and by each history step, charged, scheduled and
    owed, the oldest unpaid and next instalment, and the instalments cured."""
    d = f"DATE '{as_of.isoformat()}'"
    steps = _history_steps()
    hist_credited = ",\n        ".join(
        f"SUM(CASE WHEN day <= {d} - {k * MONTH_DAYS} THEN amount ELSE 0 END) AS cr_{k}"
        for k in steps
    )
    hist_oldest = ",\n        ".join(
        f"MIN(CASE WHEN o.due_date < {d} - {k * MONTH_DAYS} "
        f"AND o.scheduled_through > COALESCE(cr.cr_{k}, 0) THEN o.due_date END) AS oldest_{k}"
        for k in steps[:-1]
    )
    history = ", ".join([*(f"cr.cr_{k}" for k in steps), *(f"p.oldest_{k}" for k in steps[:-1])])
    return f"""credit AS (
    -- What had been credited in all and by each of the six 30-day steps back (the collection
    -- score's history; doorstep.scoring.engine.features). Charges are left out of the history.
    SELECT account_id, SUM(amount) AS credited,
        {hist_credited}
    FROM credit_day GROUP BY account_id
),
charge AS (
    SELECT account_id, seq, SUM(amount_cents) AS charged FROM ent
    WHERE kind IN ({sql_list(CHARGE_KINDS)}) AND seq IS NOT NULL GROUP BY account_id, seq
),
charge_total AS (
    SELECT account_id, SUM(charged) AS charged FROM charge GROUP BY account_id
),
owed AS (
    -- What must have been credited for instalment seq to be paid in full: the scheduled running
    -- total plus the charges on it and on every earlier instalment (allocation is oldest first).
    SELECT i.account_id, i.due_date, i.cumulative_cents AS scheduled_through,
           i.cumulative_cents + SUM(COALESCE(c.charged, 0)) OVER (
               PARTITION BY i.account_id ORDER BY i.seq ROWS UNBOUNDED PRECEDING) AS owed_through
    FROM instalments i
    JOIN charge_total t ON t.account_id = i.account_id
    LEFT JOIN charge c ON c.account_id = i.account_id AND c.seq = i.seq
    UNION ALL
    SELECT i.account_id, i.due_date, i.cumulative_cents, i.cumulative_cents
    FROM instalments i
    WHERE NOT EXISTS (SELECT 1 FROM charge_total t WHERE t.account_id = i.account_id)
),
pos AS (
    -- One pass over the schedule for the positions now and at each history step.
    SELECT o.account_id,
           MAX(o.scheduled_through) AS scheduled,
           MAX(CASE WHEN o.due_date < {d} THEN o.owed_through END) AS owed_due,
           MIN(CASE WHEN o.due_date < {d} AND o.owed_through > COALESCE(cr.credited, 0)
                    THEN o.due_date END) AS oldest_unpaid,
           MIN(CASE WHEN o.due_date >= {d} AND o.owed_through > COALESCE(cr.credited, 0)
                    THEN o.due_date END) AS next_due,
           {hist_oldest}
    FROM owed o LEFT JOIN credit cr ON cr.account_id = o.account_id
    GROUP BY o.account_id
),
timeline AS (
    SELECT account_id, day, 0 AS ord, amount, CAST(NULL AS BIGINT) AS scheduled_through
    FROM credit_day
    UNION ALL
    SELECT account_id, due_date, 1, 0, cumulative_cents FROM instalments WHERE due_date < {d}
),
credit_then AS (
    SELECT account_id, ord, scheduled_through,
           SUM(amount) OVER (PARTITION BY account_id ORDER BY day, ord
                             ROWS UNBOUNDED PRECEDING) AS credited_then
    FROM timeline
),
cured AS (
    -- Instalments whose scheduled running total was not covered at the end of their due date
    -- but is covered now: each one a delinquency the borrower cured.
    SELECT t.account_id, COUNT(*) AS times_cured
    FROM credit_then t JOIN credit c ON c.account_id = t.account_id
    WHERE t.ord = 1 AND t.scheduled_through > t.credited_then
      AND t.scheduled_through <= c.credited
    GROUP BY t.account_id
),
ledger AS (
    -- Every account with a schedule (an account always has one).
    SELECT p.account_id, cr.credited, ct.charged, p.scheduled, p.owed_due, p.oldest_unpaid,
           p.next_due, cu.times_cured, {history}
    FROM pos p
    LEFT JOIN credit cr ON cr.account_id = p.account_id
    LEFT JOIN charge_total ct ON ct.account_id = p.account_id
    LEFT JOIN cured cu ON cu.account_id = p.account_id
)"""


def ledger_pass_sql(as_of: date) -> str:
    """`ledger` in one ordered pass over `ledger_stream` (PostgreSQL): the same figures as
    `_ledger_joined_sql`, in the shape PostgreSQL runs fast.

    `ledger_stream` holds each account's credits (on their day), charges (on their instalment's
    due date, so a running sum in date order is the charges on that instalment and every earlier
    one: due dates rise with seq) and instalments (with their scheduled running total), and arrives
    in (account, day) order from a merge of index scans, so nothing is sorted whole. One running
    window gives what was credited and charged by each day, one per-account window the totals;
    one grouping reads off the figures. Sums are `cents_sum` (bigint, migration strategy 0005).
    Peers of a day count together, so the credits and charges of an instalment's due date count
    by that date, as the ROWS frame over (day, ord) does in `_ledger_joined_sql`.
    """
    d = f"DATE '{as_of.isoformat()}'"
    steps = _history_steps()
    credited_by_step = ",\n           ".join(
        f"cents_sum(CASE WHEN day <= {d} - {k * MONTH_DAYS} THEN credit ELSE 0 END) "
        f"OVER whole AS cr_{k}"
        for k in steps
    )
    history = ",\n           ".join(
        [
            *(f"MAX(cr_{k}) AS cr_{k}" for k in steps),
            *(
                f"MIN(CASE WHEN cumulative IS NOT NULL AND day < {d} - {k * MONTH_DAYS} "
                f"AND cumulative > cr_{k} THEN day END) AS oldest_{k}"
                for k in steps[:-1]
            ),
        ]
    )
    return f"""ledger_run AS (
    SELECT account_id, day, credit, charge, cumulative,
           cents_sum(credit) OVER running AS credited_then,
           cents_sum(charge) OVER running AS charged_then,
           cents_sum(credit) OVER whole AS credited,
           {credited_by_step}
    FROM ledger_stream
    WINDOW running AS (PARTITION BY account_id ORDER BY day RANGE UNBOUNDED PRECEDING),
           whole AS (PARTITION BY account_id)
),
ledger AS (
    SELECT account_id,
           MAX(credited) AS credited,
           cents_sum(charge) AS charged,
           MAX(cumulative) AS scheduled,
           MAX(CASE WHEN day < {d} THEN cumulative + charged_then END) AS owed_due,
           MIN(CASE WHEN day < {d} AND cumulative + charged_then > credited THEN day END)
               AS oldest_unpaid,
           MIN(CASE WHEN day >= {d} AND cumulative + charged_then > credited THEN day END)
               AS next_due,
           cents_sum(CASE WHEN day < {d} AND cumulative > credited_then
                          AND cumulative <= credited THEN 1 ELSE 0 END) AS times_cured,
           {history}
    FROM ledger_run GROUP BY account_id
)"""


def features_sql(as_of: date, dialect: str, sources: str = "") -> str:
    """The feature SELECT; `sources` may define the snapshot relations as leading CTEs.

    `dialect` spark gives DuckDB's statement with Spark's arm hash, for `sparksql.to_spark`."""
    d = f"DATE '{as_of.isoformat()}'"
    window = WINDOW_DAYS * DAY
    # PostgreSQL materializes a CTE used twice and then guesses its size; inline the cheap ones.
    inline = " NOT MATERIALIZED" if dialect == "postgres" else ""
    holds = ",\n        ".join(
        f"MAX(CASE WHEN kind = '{k}' THEN 1 ELSE 0 END) AS hold_{k}"
        for k in (*HOLD_KINDS, ARRANGEMENT_HOLD)
    )
    hold_columns = ",\n       ".join(f"COALESCE(h.hold_{k}, 0) = 1 AS hold_{k}" for k in HOLD_KINDS)
    steps = _history_steps()
    credited = ["f.credited"] + [f"COALESCE(f.cr_{k}, 0)" for k in steps]
    hist_columns = ",\n       ".join(
        [
            *(
                f"CAST(COALESCE({d} - {k * MONTH_DAYS} - f.oldest_{k}, 0) AS INTEGER) "
                f"AS hist_dpd_{k}"
                for k in steps[:-1]
            ),
            *(
                f"CAST(GREATEST(f.scheduled_cents - {credited[k]}, 0) AS BIGINT) "
                f"AS hist_outstanding_cents_{k}"
                for k in steps[:-1]
            ),
            *(
                f"CAST({credited[k]} - {credited[k + 1]} AS BIGINT) AS hist_paid_cents_{k}"
                for k in range(HISTORY_STEPS)
            ),
            "CAST(f.scheduled_cents AS BIGINT) AS hist_scheduled_cents",
        ]
    )
    history = ",\n           ".join(
        [*(f"l.cr_{k}" for k in steps), *(f"l.oldest_{k}" for k in steps[:-1])]
    )
    ledger = ledger_pass_sql(as_of) if dialect == "postgres" else _ledger_joined_sql(as_of)
    return f"""
WITH {sources + "," if sources else ""}
ent AS{inline} (
    SELECT account_id, kind, amount_cents, effective_on, seq FROM entries
    WHERE effective_on <= {d}
),
credit_day AS{inline} (
    -- The credits with their day: the entries themselves, which sum the same as credits summed
    -- per day (every use sums them) and spare grouping six million rows (DuckDB: 0.7 s at 1M).
    SELECT account_id, effective_on AS day, amount_cents AS amount FROM ent
    WHERE kind IN ({sql_list(CREDIT_KINDS)})
),
{ledger},
con AS{inline} (
    SELECT c.contact_id, c.account_id, c.at_epoch, c.channel, c.outcome, c.ptp_amount_cents,
           c.ptp_date, r.day_end
    FROM contacts c
    JOIN accounts a ON a.account_id = c.account_id
    JOIN regions r ON r.region_code = a.region_code
    WHERE c.at_epoch < r.day_end
),
contact_figures AS (
    SELECT account_id,
           MAX(CASE WHEN outcome IN ({sql_list(REACHED_OUTCOMES)}) THEN at_epoch END) AS last_reached,
           SUM(CASE WHEN outcome = 'refused' AND at_epoch >= day_end - {window}
                    THEN 1 ELSE 0 END) AS refusals_30d,
           SUM(CASE WHEN channel = 'visit' AND at_epoch >= day_end - {window}
                    THEN 1 ELSE 0 END) AS visits_30d,
           MAX(CASE WHEN channel = 'visit' THEN at_epoch END) AS last_visit,
           -- The last call's time and whether it found the number lost, in one value: twice
           -- the epoch, plus one if lost (of calls at the same second, any lost one counts).
           MAX(CASE WHEN channel = 'call'
                    THEN at_epoch * 2 + CASE WHEN outcome IN ({sql_list(LOST_OUTCOMES)}) THEN 1 ELSE 0 END
               END) AS last_call_mark,
           MAX(day_end) AS day_end
    FROM con GROUP BY account_id
),
ptp AS (
    SELECT contact_id, account_id, ptp_amount_cents, ptp_date,
           {d} - CAST(FLOOR((day_end - 1 - at_epoch) / {DAY}.0) AS INTEGER) AS promised_on
    FROM con
    WHERE outcome = 'promise_to_pay' AND ptp_date >= {d} - {WINDOW_DAYS}
),
ptp_paid AS (
    SELECT p.contact_id, p.account_id, p.ptp_date, p.ptp_amount_cents,
           COALESCE(SUM(cd.amount), 0) AS paid
    FROM ptp p LEFT JOIN credit_day cd
      ON cd.account_id = p.account_id AND cd.day >= p.promised_on AND cd.day <= p.ptp_date
    GROUP BY p.contact_id, p.account_id, p.ptp_date, p.ptp_amount_cents
),
ptp_figures AS (
    SELECT account_id,
           SUM(CASE WHEN ptp_date < {d} AND paid < ptp_amount_cents THEN 1 ELSE 0 END)
               AS broken_ptp_30d,
           MAX(CASE WHEN ptp_date >= {d} AND paid < ptp_amount_cents THEN 1 ELSE 0 END)
               AS ptp_active
    FROM ptp_paid GROUP BY account_id
),
hold_figures AS (
    SELECT account_id,
        {holds}
    FROM holds
    WHERE since <= {d} AND (until IS NULL OR until >= {d})
    GROUP BY account_id
),
money AS (
    SELECT a.account_id, a.product, a.region_code, r.coverage, a.auto_debit, r.day_end,
           GREATEST(COALESCE(l.owed_due, 0) - COALESCE(l.credited, 0), 0) AS overdue_cents,
           GREATEST(COALESCE(l.scheduled, 0) + COALESCE(l.charged, 0)
                    - COALESCE(l.credited, 0), 0) AS outstanding_cents,
           l.oldest_unpaid, l.next_due, COALESCE(l.scheduled, 0) AS scheduled_cents,
           COALESCE(l.credited, 0) AS credited, COALESCE(l.times_cured, 0) AS times_cured,
           {history}
    FROM accounts a
    JOIN regions r ON r.region_code = a.region_code
    LEFT JOIN ledger l ON l.account_id = a.account_id
),
figures AS (
    SELECT m.*,
           CAST(CASE WHEN m.overdue_cents > 0 THEN {d} - m.oldest_unpaid ELSE 0 END AS INTEGER)
               AS dpd
    FROM money m
)
SELECT f.account_id,
       f.dpd,
       CASE WHEN f.dpd = 0 THEN 'M0' WHEN f.dpd <= 30 THEN 'M1' WHEN f.dpd <= 60 THEN 'M2'
            WHEN f.dpd <= 90 THEN 'M3' WHEN f.dpd <= 120 THEN 'M4' WHEN f.dpd <= 150 THEN 'M5'
            WHEN f.dpd <= 180 THEN 'M6' ELSE 'M6+' END AS bucket,
       f.overdue_cents,
       f.outstanding_cents,
       CAST(f.overdue_cents * 0.01 AS DECIMAL(18, 2)) AS overdue_amount,
       CAST(f.outstanding_cents * 0.01 AS DECIMAL(18, 2)) AS outstanding,
       f.product,
       f.region_code,
       f.coverage AS region_coverage,
       f.auto_debit,
       CAST(f.next_due - {d} AS INTEGER) AS days_to_next_due,
       (cf.last_reached IS NULL OR cf.last_reached < f.day_end - {window})
           AND COALESCE(cf.last_call_mark % 2, 0) = 1 AS lost_contact,
       CAST(FLOOR((f.day_end - 1 - cf.last_reached) / {DAY}.0) AS INTEGER)
           AS days_since_last_reached,
       CAST(COALESCE(cf.refusals_30d, 0) AS INTEGER) AS refusals_30d,
       CAST(COALESCE(pf.broken_ptp_30d, 0) AS INTEGER) AS broken_ptp_30d,
       COALESCE(pf.ptp_active, 0) = 1 AS ptp_active,
       COALESCE(h.hold_arrangement, 0) = 1 AS arrangement_active,
       {hold_columns},
       CAST(COALESCE(cf.visits_30d, 0) AS INTEGER) AS visits_30d,
       CAST(FLOOR((f.day_end - 1 - cf.last_visit) / {DAY}.0) AS INTEGER) AS days_since_last_visit,
       CAST(f.times_cured AS INTEGER) AS times_cured,
       {hist_columns},
       CAST(NULL AS DECIMAL(9, 6)) AS risk_score,
       CAST(NULL AS VARCHAR) AS risk_band,
       CAST(NULL AS DECIMAL(9, 6)) AS p_recover_with_visit,
       CAST(NULL AS DECIMAL(9, 6)) AS p_recover_without_visit,
       {arm_bucket_sql("f.account_id", dialect)} AS arm_bucket,
       COALESCE(pv.stage, 'none') AS previous_stage
FROM figures f
LEFT JOIN contact_figures cf ON cf.account_id = f.account_id
LEFT JOIN ptp_figures pf ON pf.account_id = f.account_id
LEFT JOIN hold_figures h ON h.account_id = f.account_id
LEFT JOIN previous pv ON pv.account_id = f.account_id
"""
