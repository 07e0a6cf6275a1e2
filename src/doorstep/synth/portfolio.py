"""Deterministic synthetic consumer-credit portfolio in doorstep's import format.

``generate_portfolio`` writes seven files (``regions``, ``borrowers``, ``accounts``,
``instalments``, ``payments``, ``contacts``, ``holds``) as UTF-8 CSV with a header or as Parquet
with the same columns, every column a string in both formats (empty CSV field == Parquet null).

Determinism and chunking
    Accounts are generated in fixed blocks of ``BLOCK_SIZE`` accounts. Block ``b`` draws only from
    ``numpy.random.default_rng([seed, b])``; IDs are numbered sequentially across blocks. So the
    generated *rows* depend only on ``(accounts, seed, as_of, instalments)``: ``chunk_size`` is
    merely how many accounts are generated before their rows are written (rounded up to whole
    blocks), which bounds memory. CSV output is byte-identical for any ``chunk_size``; Parquet
    output holds the same rows but its row-group layout (hence its bytes) follows ``chunk_size``.
    Same arguments, same bytes, in both formats, for a given numpy/pyarrow version (numpy does
    not promise identical random streams across its releases). Only basic IEEE float operations
    are applied per row (no vectorised exp/log/cos, whose last bit may vary between CPUs).

Speed and memory
    Everything per block is vectorised with numpy (schedules as ``accounts x instalments``
    matrices); text is built as byte matrices handed to Arrow as string buffers, one chunk and
    one table at a time. Money is integer cents throughout and formatted from integers; no float
    touches an amount (floats only draw the *size* of a principal before it is rounded to whole
    cents). Measured on the 2-core dev machine, ``instalments=12``: 100,000 accounts ~4 s,
    1,000,000 accounts ~28 s as CSV (1.5 GB) and ~44 s as Parquet (zstd, 0.2 GB); peak RSS
    ~0.5-0.7 GB at the default ``chunk_size`` whatever the number of accounts.

Borrowers: about 60% have an email address, ``<phone>@163.com`` (or 126.com, 139.com, qq.com,
sina.com), chosen from digits the phone number already drew, so that adding the column drew
nothing new and every other column of a seed stayed as it was; the rest have none (empty).

Behaviour mix (shares of accounts): on-time 55%, self-curing late payers 15%, chronic late payers
10%, lost contact 6%, large debts 3%, settled 8%, stopped-paying but contactable "defaulters" 3%.
Schedules are laid relative to ``as_of`` so that, on ``as_of``, accounts sit at every stage of the
escalation ladder (DPD 0 to about 400, overdue amounts from a few yuan to over 30,000 yuan).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from doorstep.synth.regions import CITY_STREETS, FIELD_COVERAGES, REGIONS, TIME_ZONE_OFFSETS

__all__ = [
    "BEHAVIOURS",
    "BLOCK_SIZE",
    "CHANNELS",
    "COLUMNS",
    "HOLD_KINDS",
    "OUTCOMES",
    "PRODUCTS",
    "GeneratedCounts",
    "generate_portfolio",
    "last_closed_day",
]

COLUMNS: dict[str, tuple[str, ...]] = {
    "regions": ("region_code", "name", "time_zone", "field_coverage"),
    "borrowers": (
        "borrower_id",
        "name",
        "national_id",
        "phone",
        "address",
        "region_code",
        "lat",
        "lon",
        "language",
        "email",
    ),
    "accounts": (
        "account_id",
        "borrower_id",
        "product",
        "opened_on",
        "principal",
        "currency",
        "auto_debit",
    ),
    "instalments": ("account_id", "seq", "due_date", "principal_due", "interest_due", "fee_due"),
    "payments": ("payment_id", "account_id", "paid_at", "amount"),
    "contacts": ("contact_id", "account_id", "at", "channel", "outcome", "ptp_amount", "ptp_date"),
    "holds": ("account_id", "kind", "since", "until"),
}

BLOCK_SIZE = 1_000
MAX_CHUNK_SIZE = 1_000_000
MAX_INSTALMENTS = 120

PRODUCTS = ("micro_loan", "instalment", "credit_card")
BEHAVIOURS = (
    "on_time",
    "self_cure",
    "chronic",
    "lost_contact",
    "large_debt",
    "settled",
    "defaulter",
)
CHANNELS = ("sms", "email", "app", "call", "visit")
OUTCOMES = (
    "delivered",
    "reached",
    "no_answer",
    "unreachable",
    "wrong_number",
    "refused",
    "promise_to_pay",
    "third_party",
)
HOLD_KINDS = (
    "dispute",
    "complaint",
    "cease_visit",
    "visit_declined",
    "deceased",
    "bankruptcy",
    "legal_action",
)


@dataclass(frozen=True)
class GeneratedCounts:
    """Rows written per file."""

    regions: int
    borrowers: int
    accounts: int
    instalments: int
    payments: int
    contacts: int
    holds: int

    @property
    def rows(self) -> int:
        return (
            self.regions
            + self.borrowers
            + self.accounts
            + self.instalments
            + self.payments
            + self.contacts
            + self.holds
        )


# ---------------------------------------------------------------------------------------------
# Vectorised text: numbers become ASCII byte matrices, handed to Arrow as string buffers.
# ---------------------------------------------------------------------------------------------

_DIGITS4 = np.frombuffer(  # "0000".."9999" as one uint32 each (4 ASCII bytes)
    b"".join(f"{i:04d}".encode() for i in range(10_000)), dtype=np.uint32
)
_DIGITS2 = np.frombuffer(b"".join(f"{i:02d}".encode() for i in range(100)), dtype=np.uint8).reshape(
    100, 2
)
_POW10 = np.array([10**k for k in range(1, 19)], dtype=np.int64)


def _digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` uint8 matrix of the zero-padded decimal digits of non-negative ints."""
    groups = -(-width // 4)
    out = np.empty((values.shape[0], groups), dtype=np.uint32)
    # unsigned floor division by a constant is much faster than int64 divmod
    small = values.size == 0 or int(values.max()) < 2**32
    x = values.astype(np.uint32 if small else np.uint64)
    for g in range(groups - 1, -1, -1):
        q = x // 10_000
        out[:, g] = _DIGITS4[x - q * 10_000]
        x = q
    return out.view(np.uint8)[:, groups * 4 - width :]


def _n_digits(values: np.ndarray) -> np.ndarray:
    return np.searchsorted(_POW10, values, side="right").astype(np.int64) + 1


def _fixed(matrix: np.ndarray) -> pa.Array:
    """String array whose row i is the bytes of ``matrix[i]``."""
    n, w = matrix.shape
    data = np.ascontiguousarray(matrix, dtype=np.uint8)
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _ragged(matrix: np.ndarray, lengths: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """String array whose row i is the last ``lengths[i]`` bytes of ``matrix[i]`` (null if not
    ``valid[i]``)."""
    n, w = matrix.shape
    if valid is not None:
        lengths = np.where(valid, lengths, 0)
    keep = np.arange(w) >= (w - lengths)[:, None]
    data = np.ascontiguousarray(matrix[keep], dtype=np.uint8)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    if valid is None:
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=0
        )
    bitmap = pa.py_buffer(np.packbits(valid.astype(np.bool_), bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(), n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=-1
    )


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``(n, len(prefix) + width)`` matrix of ids such as ``A00000001``."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    out = np.empty((numbers.shape[0], head.size + width), dtype=np.uint8)
    out[:, : head.size] = head
    out[:, head.size :] = _digit_matrix(numbers, width)
    return out


def _integers(values: np.ndarray) -> pa.Array:
    if values.shape[0] == 0:
        return pa.array([], type=pa.string())
    width = int(_n_digits(values.max(keepdims=True))[0])
    return _ragged(_digit_matrix(values, width), _n_digits(values))


def _decimals(scaled: np.ndarray, places: int, valid: np.ndarray | None = None) -> pa.Array:
    """Fixed-point text of non-negative ints scaled by ``10**places``: (123450, 2) -> 1234.50."""
    n = scaled.shape[0]
    if n == 0:
        return pa.array([], type=pa.string())
    scaled = scaled.astype(np.int64)
    units, frac = np.divmod(scaled, 10**places)
    width = int(_n_digits(units.max(keepdims=True))[0])
    out = np.empty((n, width + 1 + places), dtype=np.uint8)
    out[:, :width] = _digit_matrix(units, width)
    out[:, width] = ord(".")
    out[:, width + 1 :] = _digit_matrix(frac, places)
    return _ragged(out, _n_digits(units) + 1 + places, valid)


def _money(cents: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Yuan with exactly two decimals, from integer cents."""
    return _decimals(cents, 2, valid)


def _lookup(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string()).take(pa.array(idx, type=pa.int64()))


class _DateTable:
    """ISO dates for day numbers (days since 1970-01-01) by table lookup."""

    def __init__(self, first_day: int, last_day: int) -> None:
        self.first = first_day
        days = np.arange(first_day, last_day + 1, dtype=np.int64).astype("datetime64[D]")
        self.table = np.datetime_as_string(days).astype("S10").view(np.uint8).reshape(-1, 10)

    def matrix(self, days: np.ndarray) -> np.ndarray:
        idx = np.asarray(days, dtype=np.int64) - self.first
        if idx.size and (idx.min() < 0 or idx.max() >= self.table.shape[0]):
            raise ValueError("day outside the generator's date range")
        return self.table[idx]

    def dates(self, days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        if valid is None:
            return _fixed(self.matrix(days))
        days = np.where(valid, days, self.first)
        return _ragged(self.matrix(days), np.full(days.shape[0], 10), valid)

    def timestamps(self, days: np.ndarray, seconds: np.ndarray, offsets: np.ndarray) -> pa.Array:
        """``YYYY-MM-DDTHH:MM:SS+08:00`` from local day, local second of day, (n, 6) offset."""
        out = np.empty((days.shape[0], 25), dtype=np.uint8)
        out[:, :10] = self.matrix(days)
        out[:, 10] = ord("T")
        out[:, 11:13] = _DIGITS2[seconds // 3600]
        out[:, 13] = ord(":")
        out[:, 14:16] = _DIGITS2[(seconds // 60) % 60]
        out[:, 16] = ord(":")
        out[:, 17:19] = _DIGITS2[seconds % 60]
        out[:, 19:25] = offsets
        return _fixed(out)


# ---------------------------------------------------------------------------------------------
# Reference lists
# ---------------------------------------------------------------------------------------------

# fmt: off
_SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴", "莫", "孔", "向", "汤", "欧阳", "司马", "上官", "诸葛"]
_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "文", "辉", "建", "飞", "波", "宁", "鑫", "欣", "婷", "雪", "琳", "晨", "宇", "浩", "然", "子", "轩", "涵", "梓", "博", "思", "佳", "怡", "俊", "凯", "鹏", "志", "海", "红", "燕", "萍", "琴", "云", "峰", "亮", "斌", "丹", "晶", "倩", "慧", "颖", "昊", "睿", "嘉", "泽", "瑶", "雨", "诗", "一", "可", "新", "天", "春", "国", "德", "荣", "成", "兰", "梅", "莉", "婉", "小", "永", "世", "振"]
_PHONE_PREFIXES = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153, 155, 156,
    157, 158, 159, 166, 170, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187,
    188, 189, 191, 193, 195, 196, 197, 198, 199,
)
# fmt: on
# Mail providers for the addresses made from a phone number (<phone>@163.com): the common ones.
_EMAIL_DOMAINS = ("163.com", "126.com", "139.com", "qq.com", "sina.com")
_EMAIL_SHARE = 60  # per cent of borrowers with an email address
_SURNAME_P = np.array(
    [1.0 / (i + 6) for i in range(len(_SURNAMES) - 4)] + [0.002] * 4, dtype=np.float64
)
_SURNAME_P /= _SURNAME_P.sum()
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)

MICRO, INSTAL, CARD = 0, 1, 2
ON_TIME, SELF_CURE, CHRONIC, LOST, LARGE, SETTLED, DEFAULTER = range(7)
_BEHAVIOUR_P = (0.55, 0.15, 0.10, 0.06, 0.03, 0.08, 0.03)
_PRODUCT_P = (0.45, 0.35, 0.20)
_TERMS = {  # product -> (instalment counts, probabilities)
    MICRO: ((3, 6, 12), (0.35, 0.45, 0.20)),
    INSTAL: ((6, 12, 24), (0.20, 0.50, 0.30)),
    CARD: ((3, 6, 12, 24), (0.30, 0.30, 0.30, 0.10)),
}
_LARGE_TERMS = ((6, 12, 24), (0.35, 0.50, 0.15))


class _LogUniform:
    """Log-uniform sizes in [low, high] from uniforms, by interpolating a table built with
    ``math.pow`` (basic float operations only per row, so identical on every CPU)."""

    def __init__(self, low: float, high: float, steps: int = 1_024) -> None:
        self.steps = steps
        self.table = np.array([low * math.pow(high / low, k / steps) for k in range(steps + 1)])

    def __call__(self, u: np.ndarray) -> np.ndarray:
        x = u * self.steps
        i = np.minimum(np.floor(x).astype(np.int64), self.steps - 1)
        return self.table[i] + (self.table[i + 1] - self.table[i]) * (x - i)


_SIZE_MICRO = _LogUniform(500, 20_000)  # yuan
_SIZE_INSTAL = _LogUniform(2_000, 80_000)
_SIZE_CARD = _LogUniform(1_000, 50_000)
_SIZE_TAIL = _LogUniform(80, 300)  # thousands of yuan: the tail of large instalment loans
_SIZE_LARGE = _LogUniform(60, 300)  # thousands of yuan: large-debt accounts
_RATES_BP = {MICRO: (100, 125, 150), INSTAL: (50, 65, 80, 95), CARD: (55, 60, 66)}  # per month
_LARGE_OVERDUE = 3_000_000  # cents: large-debt accounts owe at least this much overdue

# channel / outcome codes
SMS, EMAIL, APP, CALL, VISIT = range(5)
DELIVERED, REACHED, NO_ANSWER, UNREACHABLE, WRONG, REFUSED, PTP, THIRD = range(8)
# call outcome probabilities (reached, no_answer, unreachable, wrong_number, refused, ptp, third)
_CALL_P = np.array(
    [
        [0.32, 0.36, 0.02, 0.01, 0.04, 0.23, 0.02],  # on time
        [0.32, 0.36, 0.02, 0.01, 0.04, 0.23, 0.02],  # self cure
        [0.25, 0.38, 0.04, 0.01, 0.08, 0.21, 0.03],  # chronic
        [0.22, 0.40, 0.08, 0.02, 0.08, 0.17, 0.03],  # lost contact, before losing contact
        [0.22, 0.33, 0.08, 0.02, 0.15, 0.17, 0.03],  # large debt
        [0.32, 0.36, 0.02, 0.01, 0.04, 0.23, 0.02],  # settled
        [0.18, 0.30, 0.04, 0.01, 0.28, 0.16, 0.03],  # defaulter
    ]
)
_LOST_CALL_P = np.array([0.0, 0.35, 0.50, 0.15, 0.0, 0.0, 0.0])
_VISIT_P = np.array([0.35, 0.30, 0.0, 0.0, 0.12, 0.18, 0.05])
_SPLIT_P = np.array([0.01, 0.10, 0.15, 0.05, 0.0, 0.0, 0.10])  # instalment paid in two parts
_EXTRA_P = np.array([0.0, 0.08, 0.12, 0.0, 0.0, 0.0, 0.35])  # partial payment on the arrears
_HOLD_P = (0.32, 0.28, 0.10, 0.14, 0.04, 0.04, 0.08)  # in HOLD_KINDS order
_SUSPENDING = np.array([True, True, False, False, True, True, True])
_REMINDER_DPD = np.array([1, 3, 7, 14, 21, 28], dtype=np.int64)
_MAX_CALLS = 12  # per delinquency episode
_MONTH = 30.44
_NEVER = np.int64(1 << 40)
_EPOCH = date(1970, 1, 1)


def _pick(u: np.ndarray, probs: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Index drawn from ``probs`` for each uniform ``u``."""
    return np.searchsorted(np.cumsum(probs)[:-1], u, side="right")


def _pick_rows(u: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index drawn from ``table[i]`` (a row of probabilities) for each uniform ``u[i]``."""
    return (u[:, None] >= np.cumsum(table, axis=1)[:, :-1]).sum(axis=1)


# ---------------------------------------------------------------------------------------------
# Run-wide constants
# ---------------------------------------------------------------------------------------------


class _Static:
    def __init__(self, seed: int, as_of: date, fixed_n: int | None) -> None:
        self.seed = seed
        self.as_of = (as_of - _EPOCH).days
        self.fixed_n = fixed_n
        max_n = fixed_n or 24
        self.dates = _DateTable(
            self.as_of - int(2 * max_n * 31 + 1_300), self.as_of + int(max_n * 31 + 200)
        )
        self.birth_first = (date(1960, 1, 1) - _EPOCH).days
        self.birth_last = (date(2004, 12, 31) - _EPOCH).days
        self.birthdays = _DateTable(self.birth_first, self.birth_last)

        self.n_regions = len(REGIONS)
        weights = np.array([r.weight for r in REGIONS], dtype=np.float64)
        self.region_p = weights / weights.sum()
        self.region_codes = pa.array([r.code for r in REGIONS])
        self.region_code_digits = np.frombuffer(
            "".join(r.code for r in REGIONS).encode("ascii"), dtype=np.uint8
        ).reshape(-1, 6)
        self.region_names = pa.array([r.name for r in REGIONS])
        self.region_lat = np.array([r.lat for r in REGIONS])
        self.region_lon = np.array([r.lon for r in REGIONS])
        # degrees per km (math.cos once per region: no vectorised transcendental functions,
        # whose last bit may differ between CPUs, ever feeds the output)
        self.region_lon_per_km = np.array(
            [1.0 / (111.32 * math.cos(math.radians(r.lat))) for r in REGIONS]
        )
        self.region_coverage = np.array([FIELD_COVERAGES.index(r.field_coverage) for r in REGIONS])
        zones = sorted(TIME_ZONE_OFFSETS)
        self.region_tz = np.array([zones.index(r.time_zone) for r in REGIONS])
        self.tz_offsets = np.frombuffer(
            "".join(TIME_ZONE_OFFSETS[z] for z in zones).encode("ascii"), dtype=np.uint8
        ).reshape(-1, 6)
        streets: list[str] = []
        first, count = [], []
        for r in REGIONS:
            names = CITY_STREETS[r.city]
            first.append(len(streets))
            count.append(len(names))
            streets.extend(names)
        self.streets = pa.array(streets)
        self.street_first = np.array(first)
        self.street_count = np.array(count)
        self.surnames = pa.array(_SURNAMES)
        self.given = pa.array([*_GIVEN, ""])  # the last one: no second character
        self.phone_prefixes = _digit_matrix(np.array(_PHONE_PREFIXES), 3)


def _regions_table() -> pa.Table:
    return pa.table(
        {
            "region_code": [r.code for r in REGIONS],
            "name": [r.name for r in REGIONS],
            "time_zone": [r.time_zone for r in REGIONS],
            "field_coverage": [r.field_coverage for r in REGIONS],
        },
        schema=_schema("regions"),
    )


def _schema(name: str) -> pa.Schema:
    return pa.schema([(c, pa.string()) for c in COLUMNS[name]])


@dataclass
class _Cursor:
    borrowers: int = 0  # borrowers generated so far (ids are numbered across blocks)


# ---------------------------------------------------------------------------------------------
# One block of accounts
# ---------------------------------------------------------------------------------------------


Raw = dict[str, np.ndarray]


def _borrowers(st: _Static, rng: np.random.Generator, nb: int, first_id: int) -> Raw:
    """Numeric description of ``nb`` borrowers (turned into text by ``_borrower_table``)."""
    # jitter a few km around the centroid (sd 3 km, at most 9 km on each axis)
    reg = _pick(rng.random(nb), st.region_p)
    dy = np.clip(rng.normal(0.0, 3.0, nb), -9.0, 9.0)
    dx = np.clip(rng.normal(0.0, 3.0, nb), -9.0, 9.0)
    lat = st.region_lat[reg] + dy / 111.0
    lon = st.region_lon[reg] + dx * st.region_lon_per_km[reg]
    return {
        "id": first_id + 1 + np.arange(nb),
        "region": reg,
        "surname": _pick(rng.random(nb), _SURNAME_P),
        "given1": rng.integers(0, len(_GIVEN), nb),
        # index len(_GIVEN) is the empty string: a one-character given name
        "given2": np.where(rng.random(nb) < 0.65, rng.integers(0, len(_GIVEN), nb), len(_GIVEN)),
        "birth": rng.integers(st.birth_first, st.birth_last + 1, nb),
        "id_seq": rng.integers(1, 1000, nb),
        "phone_prefix": rng.integers(0, len(_PHONE_PREFIXES), nb),
        "phone_rest": rng.integers(0, 10**8, nb),
        "street": st.street_first[reg] + (rng.random(nb) * st.street_count[reg]).astype(np.int64),
        "house": rng.integers(1, 400, nb),
        "has_unit": rng.random(nb) < 0.7,
        "building": rng.integers(1, 31, nb),
        "unit": rng.integers(1, 5, nb),
        "room": rng.integers(1, 34, nb) * 100 + rng.integers(1, 7, nb),
        "lat": np.rint(lat * 1e6).astype(np.int64),
        "lon": np.rint(lon * 1e6).astype(np.int64),
        "english": rng.random(nb) < 0.05,
    }


def _borrower_table(st: _Static, b: Raw, _first_row: int) -> pa.Table:
    nb = b["id"].size
    name = pc.binary_join_element_wise(
        st.surnames.take(b["surname"]), st.given.take(b["given1"]), st.given.take(b["given2"]), ""
    )
    birth_text = st.birthdays.matrix(b["birth"])
    body = np.empty((nb, 17), dtype=np.uint8)
    body[:, :6] = st.region_code_digits[b["region"]]
    body[:, 6:10] = birth_text[:, 0:4]
    body[:, 10:12] = birth_text[:, 5:7]
    body[:, 12:14] = birth_text[:, 8:10]
    body[:, 14:17] = _digit_matrix(b["id_seq"], 3)
    check = _ID_CHECK[((body.astype(np.int64) - 48) @ _ID_WEIGHTS) % 11]
    national_id = np.concatenate([body, check[:, None]], axis=1)
    phone = np.empty((nb, 11), dtype=np.uint8)
    phone[:, :3] = st.phone_prefixes[b["phone_prefix"]]
    phone[:, 3:] = _digit_matrix(b["phone_rest"], 8)
    unit = pc.binary_join_element_wise(
        _integers(b["building"]),
        "栋",
        _integers(b["unit"]),
        "单元",
        _integers(b["room"]),
        "室",
        "",
    )
    unit = pc.if_else(pa.array(b["has_unit"]), unit, "")
    address = pc.binary_join_element_wise(
        st.region_names.take(b["region"]),
        st.streets.take(b["street"]),
        _integers(b["house"]),
        "号",
        unit,
        "",
    )
    # The email comes from digits the phone number already drew (no new draw, so every other
    # column stays as it was for a seed): the last two decide whether there is one (60 in 100),
    # the third from last picks the provider. The 8 drawn digits are independent and uniform.
    rest = b["phone_rest"]
    has_email = rest % 100 < _EMAIL_SHARE
    domain = (rest // 100) % len(_EMAIL_DOMAINS)
    email = pc.binary_join_element_wise(_fixed(phone), _lookup(_EMAIL_DOMAINS, domain), "@")
    email = pc.if_else(pa.array(has_email), email, pa.scalar(None, pa.string()))
    return pa.table(
        [
            _fixed(_ids("B", b["id"], 8)),
            name,
            _fixed(national_id),
            _fixed(phone),
            address,
            st.region_codes.take(b["region"]),
            _decimals(b["lat"], 6),
            _decimals(b["lon"], 6),
            _lookup(("zh", "en"), b["english"].astype(np.int64)),
            email,
        ],
        schema=_schema("borrowers"),
    )


def _due_dates(opened: np.ndarray, n: np.ndarray, width: int) -> np.ndarray:
    """Monthly due dates on the opening day-of-month, clamped to month end (NEVER past n)."""
    o = opened.astype("datetime64[D]")
    month = o.astype("datetime64[M]")
    day_of_month = (o - month.astype("datetime64[D]")).astype(np.int64)
    months = month[:, None] + np.arange(1, width + 1)
    start = months.astype("datetime64[D]").astype(np.int64)
    length = (months + 1).astype("datetime64[D]").astype(np.int64) - start
    due = start + np.minimum(day_of_month[:, None], length - 1)
    return np.where(np.arange(width) < n[:, None], due, _NEVER)


def _block(st: _Static, cur: _Cursor, block: int, first: int, size: int) -> dict[str, Raw]:
    """Numeric rows for accounts ``first .. first + size - 1`` (0-based), block ``block``."""
    rng = np.random.default_rng([st.seed, block])
    as_of = st.as_of
    a_n = size

    # --- borrowers: most hold one account, some two -------------------------------------
    per = 1 + (rng.random(a_n) < 0.12).astype(np.int64)
    cum_per = np.cumsum(per)
    nb = int(np.searchsorted(cum_per, a_n)) + 1
    per = per[:nb].copy()
    per[-1] -= cum_per[nb - 1] - a_n
    acc_bor = np.repeat(np.arange(nb), per)
    borrowers = _borrowers(st, rng, nb, cur.borrowers)
    reg = borrowers["region"][acc_bor]
    english = borrowers["english"][acc_bor]
    tz = st.region_tz[reg]

    # --- account terms ----------------------------------------------------------------------
    beh = _pick(rng.random(a_n), _BEHAVIOUR_P)
    prod = _pick(rng.random(a_n), _PRODUCT_P)
    prod[beh == LARGE] = INSTAL
    if st.fixed_n is not None:
        n = np.full(a_n, st.fixed_n, dtype=np.int64)
    else:
        u = rng.random(a_n)
        n = np.zeros(a_n, dtype=np.int64)
        for p, (terms, probs) in _TERMS.items():
            n = np.where(prod == p, np.array(terms)[_pick(u, probs)], n)
        n = np.where(beh == LARGE, np.array(_LARGE_TERMS[0])[_pick(u, _LARGE_TERMS[1])], n)

    # principal: the size is drawn log-uniformly, then fixed as integer cents
    u = rng.random(a_n)
    size_yuan = np.select(
        [prod == MICRO, prod == INSTAL], [_SIZE_MICRO(u), _SIZE_INSTAL(u)], _SIZE_CARD(u)
    )
    principal = np.where(
        prod == CARD,
        np.rint(size_yuan * 100).astype(np.int64),
        np.rint(size_yuan / 100).astype(np.int64) * 10_000,
    )
    big = np.rint(_SIZE_TAIL(rng.random(a_n))).astype(np.int64) * 100_000
    tail = (prod == INSTAL) & (beh != LARGE) & (rng.random(a_n) < 0.04)
    principal = np.where(tail, big, principal)
    large = np.rint(_SIZE_LARGE(rng.random(a_n))).astype(np.int64) * 100_000
    large = np.maximum(large, -(-n // 10) * _LARGE_OVERDUE)
    principal = np.where(beh == LARGE, large, principal)

    rate = np.zeros(a_n, dtype=np.int64)
    u = rng.random(a_n)
    for p, rates in _RATES_BP.items():
        rate = np.where(prod == p, np.array(rates)[(u * len(rates)).astype(np.int64)], rate)
    u = rng.random(a_n)
    fee = np.where(
        ((prod == INSTAL) & (u < 0.15)) | ((prod == CARD) & (u < 0.30)),
        rng.integers(5, 31, a_n) * 100,
        0,
    )
    auto_debit = rng.random(a_n) < 0.30

    # --- placing the schedule relative to as_of ----------------------------------------
    u1, u2, u3, u4 = (rng.random(a_n) for _ in range(4))
    nf = n.astype(np.float64)
    elapsed = np.floor(u1 * nf * _MONTH).astype(np.int64)  # on time / self cure: mid-schedule
    chronic_elapsed = 35 + np.floor(u1 * ((nf + 4) * _MONTH - 35)).astype(np.int64)
    elapsed = np.where(beh == CHRONIC, chronic_elapsed, elapsed)
    # stoppers pay `paid` instalments, then the next one falls due about `target_dpd` days ago
    bucket = _pick(u2, (0.35, 0.30, 0.35))
    dpd_lo = np.array([35, 91, 181])[bucket]
    dpd_hi = np.array([90, 180, 400])[bucket]
    target_dpd = dpd_lo + np.floor(u3 * (dpd_hi - dpd_lo + 1)).astype(np.int64)
    paid = np.floor(u4 * nf).astype(np.int64)
    base = principal // n
    need = np.minimum(-(-_LARGE_OVERDUE // base), n)  # overdue instalments for >= 30,000 yuan
    large_lo = np.maximum(35, np.ceil((need - 1) * _MONTH).astype(np.int64) + 6)
    large_hi = np.maximum(large_lo + 30, 400)
    target_dpd = np.where(
        beh == LARGE,
        large_lo + np.floor(u3 * (large_hi - large_lo + 1)).astype(np.int64),
        target_dpd,
    )
    paid = np.where(beh == LARGE, np.floor(u4 * (n - need + 1)).astype(np.int64), paid)
    stopper = (beh == LOST) | (beh == DEFAULTER) | (beh == LARGE)
    stop_elapsed = target_dpd + np.rint((paid + 1) * _MONTH).astype(np.int64)
    elapsed = np.where(stopper, stop_elapsed, elapsed)
    early_payoff = (beh == SETTLED) & (u2 < 0.4)
    matured = np.ceil(nf * _MONTH).astype(np.int64) + 15 + np.floor(u3 * 540).astype(np.int64)
    payoff_elapsed = 35 + np.floor(u1 * np.maximum(nf * _MONTH - 35, 1)).astype(np.int64)
    elapsed = np.where(beh == SETTLED, np.where(early_payoff, payoff_elapsed, matured), elapsed)
    opened = as_of - elapsed

    width = int(n.max())
    col = np.arange(width)
    valid = col < n[:, None]
    due = _due_dates(opened, n, width)

    # --- schedule amounts (integer cents) ------------------------------------------------
    last = col == (n - 1)[:, None]
    prin_due = np.where(
        valid, np.where(last, (principal - base * (n - 1))[:, None], base[:, None]), 0
    )
    remaining = principal[:, None] - base[:, None] * col
    int_due = np.where(valid, (remaining * rate[:, None] + 5_000) // 10_000, 0)
    fee_due = np.where(valid, fee[:, None], 0)
    total = prin_due + int_due + fee_due
    cum = np.zeros((a_n, width + 1), dtype=np.int64)
    np.cumsum(total, axis=1, out=cum[:, 1:])
    rows = np.arange(a_n)
    n_due = (due <= as_of).sum(axis=1)

    # --- when each instalment gets fully paid ------------------------------------------------
    r1 = rng.random((a_n, width))
    r2 = rng.random((a_n, width))
    early = -1 - np.floor(r2 * 5).astype(np.int64)
    # On-time payers are now and then a few days to three weeks late; self-curers are often late
    # and, one instalment in eight, late long enough to roll into the next bucket before they
    # catch up (26-70 days). Without those slips every short delinquency cured and every long
    # one never did, and a roll-rate model trained on the ledger (`score train --data ledger`)
    # would only have had to tell the two kinds of borrower apart.
    delay = np.where(
        r1 < 0.65,
        0,
        np.where(
            r1 < 0.92,
            early,
            np.where(r1 < 0.98, 1 + np.floor(r2 * 3), 1 + np.floor(r2 * 21)).astype(np.int64),
        ),
    )
    beh_col = beh[:, None]
    self_cure_late = np.where(r1 < 0.875, 1 + np.floor(r2 * 25), 26 + np.floor(r2 * 45))
    delay = np.where(
        beh_col == SELF_CURE,
        np.where(r1 < 0.3, 0, np.where(r1 < 0.45, early, self_cure_late.astype(np.int64))),
        delay,
    )
    steps = rng.integers(-25, 36, (a_n, width))
    walk = np.cumsum(steps, axis=1)
    lag = walk - np.minimum(np.minimum.accumulate(walk, axis=1), 0)  # Lindley: never below 0
    delay = np.where(beh_col == CHRONIC, lag + np.floor(r2 * 6).astype(np.int64), delay)
    before_stop = np.where(r1 < 0.75, 0, np.where(r1 < 0.85, early, 1 + np.floor(r2 * 10)))
    delay = np.where(stopper[:, None], before_stop.astype(np.int64), delay)
    delay = np.where(beh_col == SETTLED, np.where(r1 < 0.7, 0, early), delay)
    delay = np.where(auto_debit[:, None] & (delay < 0), 0, delay)
    delay = np.where((beh_col == ON_TIME) & auto_debit[:, None], 0, delay)
    full0 = np.where(valid, due + delay, _NEVER)
    full0 = np.where(stopper[:, None] & (col >= paid[:, None]), _NEVER, full0)
    full0 = np.maximum.accumulate(full0, axis=1)  # older instalments are paid first

    # early payoff: instalments 1..j on time, then one payment for everything left
    j = np.floor(u4 * (np.minimum(n_due, n - 1) + 1)).astype(np.int64)
    prev = np.where(j > 0, full0[rows, np.maximum(j - 1, 0)], opened)
    payoff_day = np.minimum(prev + 1 + np.floor(u3 * 25).astype(np.int64), as_of)
    payoff_cells = early_payoff[:, None] & valid & (col >= j[:, None])
    full0 = np.where(payoff_cells, payoff_day[:, None], full0)
    amount = np.where(
        payoff_cells,
        np.where(col == j[:, None], (cum[rows, n] - cum[rows, j])[:, None], 0),
        total,
    )

    paid_by = full0 <= as_of  # a prefix of each row: full0 is non-decreasing
    first_unpaid = paid_by.sum(axis=1)
    full = np.where(paid_by, full0, _NEVER)

    # some instalments are paid in two parts (the first part may be all there is by as_of)
    split_p = _SPLIT_P[beh][:, None]
    r3 = rng.random((a_n, width))
    part_day = np.maximum(full0 - rng.integers(3, 21, (a_n, width)), opened[:, None] + 1)
    part_amt = total * rng.integers(20, 81, (a_n, width)) // 100
    split = (
        valid
        & (full0 != _NEVER)
        & ~payoff_cells
        & (r3 < split_p)
        & (part_day <= as_of)
        & (paid_by | (col == first_unpaid[:, None]))
    )
    amount = np.where(split, total - part_amt, amount)

    fu = np.minimum(first_unpaid, width - 1)
    has_unpaid = first_unpaid < n
    due_fu = due[rows, fu]
    overdue = has_unpaid & (due_fu < as_of)
    dpd = np.where(overdue, as_of - due_fu, 0)

    # a partial payment on the arrears (never completes the oldest unpaid instalment)
    extra = overdue & ~split[rows, fu] & (rng.random(a_n) < _EXTRA_P[beh])
    extra_day = due_fu + 1 + np.floor(rng.random(a_n) * (as_of - due_fu)).astype(np.int64)
    extra_amt = total[rows, fu] * rng.integers(10, 51, a_n) // 100

    # --- payments -------------------------------------------------------------------------
    main = valid & paid_by & (amount > 0)
    ma, mk = np.nonzero(main)
    sa, sk = np.nonzero(split & (part_day <= as_of))
    ea = np.nonzero(extra)[0]
    p_acc = np.concatenate([ma, sa, ea])
    p_day = np.concatenate([full[ma, mk], part_day[sa, sk], extra_day[ea]])
    p_amt = np.concatenate([amount[ma, mk], part_amt[sa, sk], extra_amt[ea]])
    debit = np.concatenate(
        [auto_debit[ma] & (full[ma, mk] == due[ma, mk]), np.zeros(sa.size + ea.size, dtype=bool)]
    )
    p_sec = np.where(
        debit,
        6 * 3600 + rng.integers(0, 3 * 3600, p_acc.size),
        7 * 3600 + rng.integers(0, 17 * 3600, p_acc.size),
    )
    order = np.lexsort((p_sec, p_day, p_acc))
    p_acc, p_day, p_amt, p_sec = p_acc[order], p_day[order], p_amt[order], p_sec[order]

    # --- contacts: each instalment's delinquency window ---------------------------------------
    # instalment k is the oldest unpaid one from the day k-1 is paid until k is paid
    prev_full = np.concatenate([np.full((a_n, 1), -1, dtype=np.int64), full[:, :-1]], axis=1)
    win_start = np.maximum(due + 1, prev_full)
    win_end = np.minimum(full, as_of + 1)  # exclusive

    # reminders on DPD 1, 3, 7, 14, 21, 28 (sms / app / email, delivered)
    r_day = due[:, :, None] + _REMINDER_DPD
    r_mask = (r_day >= win_start[:, :, None]) & (r_day < win_end[:, :, None])
    ra, rk, _ = np.nonzero(r_mask)
    rd = r_day[r_mask]
    u = rng.random(ra.size)
    r_channel = np.where(
        english[ra],
        np.array([EMAIL, SMS, APP])[_pick(u, (0.4, 0.2, 0.4))],
        np.array([APP, SMS, EMAIL])[_pick(u, (0.5, 0.45, 0.05))],
    )

    # calls from DPD 8 or 31 on, denser towards the end of the episode
    call_from = np.where(rng.random(a_n) < 0.25, 8, 31)
    c_start = np.maximum(win_start, due + call_from[:, None])
    c_len = win_end - c_start
    gap = rng.integers(4, 11, a_n)
    n_calls = np.where(valid & (c_len > 0), np.minimum(_MAX_CALLS, -(-c_len // gap[:, None])), 0)
    wa, wk = np.nonzero(n_calls)
    counts = n_calls[wa, wk]
    rep = np.repeat(np.arange(wa.size), counts)
    nth = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
    frac = (nth + rng.random(rep.size)) / counts[rep]
    ca, ck = wa[rep], wk[rep]
    cd = c_start[ca, ck] + np.floor(c_len[ca, ck] * (1 - (1 - frac) ** 2)).astype(np.int64)
    c_out = 1 + _pick_rows(rng.random(rep.size), _CALL_P[beh[ca]])
    lost = beh[ca] == LOST
    lost_since = as_of - rng.integers(35, 151, a_n)  # no reached contact after this
    gone = lost & (cd > lost_since[ca])
    c_out = np.where(gone, 1 + _pick(rng.random(rep.size), _LOST_CALL_P), c_out)
    last_call = np.full(a_n, -1, dtype=np.int64)
    np.maximum.at(last_call, ca[lost], cd[lost])
    latest = lost & (cd == last_call[ca])  # the latest attempt found the number dead
    c_out = np.where(latest, np.where(rng.random(rep.size) < 0.7, UNREACHABLE, WRONG), c_out)

    # an occasional home visit for long, covered arrears
    visit = (
        overdue
        & (dpd >= 91)
        & ((beh == CHRONIC) | (beh == LARGE) | (beh == DEFAULTER))
        & (st.region_coverage[reg] != FIELD_COVERAGES.index("none"))
        & (rng.random(a_n) < 0.3)
    )
    va = np.nonzero(visit)[0]
    vd = due_fu[va] + 91 + np.floor(rng.random(va.size) * (dpd[va] - 90)).astype(np.int64)
    v_out = 1 + _pick(rng.random(va.size), _VISIT_P)

    k_acc = np.concatenate([ra, ca, va])
    k_inst = np.concatenate([rk, ck, fu[va]])
    k_day = np.concatenate([rd, cd, vd])
    k_channel = np.concatenate([r_channel, np.full(ca.size, CALL), np.full(va.size, VISIT)])
    k_out = np.concatenate([np.full(ra.size, DELIVERED), c_out, v_out])

    # --- holds --------------------------------------------------------------------------------
    held = overdue & (rng.random(a_n) < 0.012)
    ha = np.nonzero(held)[0]
    h_kind = _pick(rng.random(ha.size), _HOLD_P)
    declined = h_kind == HOLD_KINDS.index("visit_declined")
    h_since = np.where(
        declined,
        np.maximum(as_of - rng.integers(0, 30, ha.size), due_fu[ha] + 1),
        due_fu[ha] + 1 + np.floor(rng.random(ha.size) * dpd[ha]).astype(np.int64),
    )
    closed = (h_kind <= HOLD_KINDS.index("complaint")) & (rng.random(ha.size) < 0.2)
    h_until = np.where(closed, h_since + rng.integers(5, 41, ha.size), _NEVER)
    h_until = np.where(h_until > as_of, _NEVER, h_until)
    h_until = np.where(declined, h_since + 30, h_until)

    # no collection contact while a suspending hold is open, no visit under a visit hold
    acc_since = np.full(a_n, _NEVER)
    acc_until = np.full(a_n, _NEVER)
    acc_suspend = np.zeros(a_n, dtype=bool)
    acc_since[ha], acc_until[ha], acc_suspend[ha] = h_since, h_until, _SUSPENDING[h_kind]
    blocked = (k_day >= acc_since[k_acc]) & (k_day < acc_until[k_acc])
    keep = ~(blocked & (acc_suspend[k_acc] | (k_channel == VISIT)))
    k_acc, k_inst, k_day, k_channel, k_out = (
        k_acc[keep],
        k_inst[keep],
        k_day[keep],
        k_channel[keep],
        k_out[keep],
    )

    k_sec = 9 * 3600 + np.where(
        k_channel == CALL,
        rng.integers(0, 12 * 3600, k_acc.size),
        np.where(
            k_channel == VISIT,
            rng.integers(0, 9 * 3600, k_acc.size),
            rng.integers(0, 11 * 3600, k_acc.size),
        ),
    )
    order = np.lexsort((k_sec, k_day, k_acc))
    k_acc, k_inst, k_day, k_channel, k_out, k_sec = (
        k_acc[order],
        k_inst[order],
        k_day[order],
        k_channel[order],
        k_out[order],
        k_sec[order],
    )

    # promises to pay: the arrears at the time (or a round part of them), within ~10 days;
    # a promise that was kept carries the date the instalment was actually paid
    promise = k_out == PTP
    pa_, pk, pd = k_acc[promise], k_inst[promise], k_day[promise]
    fell_due = (due[pa_] < pd[:, None]).sum(axis=1)
    arrears = cum[pa_, fell_due] - cum[pa_, pk]
    part = np.minimum(np.maximum(arrears // 2 // 10_000 * 10_000, 10_000), arrears)
    ptp_amt = np.where(rng.random(pa_.size) < 0.7, arrears, part)
    ptp_day = pd + rng.integers(1, 11, pa_.size)
    kept = full[pa_, pk]
    ptp_day = np.where((kept != _NEVER) & (kept > pd) & (kept - pd <= 14), kept, ptp_day)
    k_ptp_amt = np.zeros(k_acc.size, dtype=np.int64)
    k_ptp_day = np.zeros(k_acc.size, dtype=np.int64)
    k_ptp_amt[promise], k_ptp_day[promise] = ptp_amt, ptp_day

    # --- rows ---------------------------------------------------------------------------------
    account_no = first + 1 + np.arange(a_n)
    ia, ik = np.nonzero(valid)
    cur.borrowers += nb
    return {
        "borrowers": borrowers,
        "accounts": {
            "account": account_no,
            "borrower": borrowers["id"][acc_bor],
            "product": prod,
            "opened": opened,
            "principal": principal,
            "auto_debit": auto_debit,
        },
        "instalments": {
            "account": account_no[ia],
            "seq": ik + 1,
            "due": due[ia, ik],
            "principal": prin_due[ia, ik],
            "interest": int_due[ia, ik],
            "fee": fee_due[ia, ik],
        },
        "payments": {
            "account": account_no[p_acc],
            "day": p_day,
            "second": p_sec,
            "zone": tz[p_acc],
            "amount": p_amt,
        },
        "contacts": {
            "account": account_no[k_acc],
            "day": k_day,
            "second": k_sec,
            "zone": tz[k_acc],
            "channel": k_channel,
            "outcome": k_out,
            "promise": promise,
            "ptp_amount": k_ptp_amt,
            "ptp_date": np.where(promise, k_ptp_day, as_of),
        },
        "holds": {
            "account": account_no[ha],
            "kind": h_kind,
            "since": h_since,
            "until": h_until,
        },
    }


def _account_table(st: _Static, a: Raw, _first_row: int) -> pa.Table:
    return pa.table(
        [
            _fixed(_ids("A", a["account"], 8)),
            _fixed(_ids("B", a["borrower"], 8)),
            _lookup(PRODUCTS, a["product"]),
            st.dates.dates(a["opened"]),
            _money(a["principal"]),
            _lookup(("CNY",), np.zeros(a["account"].size, dtype=np.int64)),
            _lookup(("false", "true"), a["auto_debit"].astype(np.int64)),
        ],
        schema=_schema("accounts"),
    )


def _instalment_table(st: _Static, i: Raw, _first_row: int) -> pa.Table:
    return pa.table(
        [
            _fixed(_ids("A", i["account"], 8)),
            _integers(i["seq"]),
            st.dates.dates(i["due"]),
            _money(i["principal"]),
            _money(i["interest"]),
            _money(i["fee"]),
        ],
        schema=_schema("instalments"),
    )


def _payment_table(st: _Static, p: Raw, first_row: int) -> pa.Table:
    return pa.table(
        [
            _fixed(_ids("P", first_row + 1 + np.arange(p["account"].size), 12)),
            _fixed(_ids("A", p["account"], 8)),
            st.dates.timestamps(p["day"], p["second"], st.tz_offsets[p["zone"]]),
            _money(p["amount"]),
        ],
        schema=_schema("payments"),
    )


def _contact_table(st: _Static, c: Raw, first_row: int) -> pa.Table:
    return pa.table(
        [
            _fixed(_ids("C", first_row + 1 + np.arange(c["account"].size), 12)),
            _fixed(_ids("A", c["account"], 8)),
            st.dates.timestamps(c["day"], c["second"], st.tz_offsets[c["zone"]]),
            _lookup(CHANNELS, c["channel"]),
            _lookup(OUTCOMES, c["outcome"]),
            _money(c["ptp_amount"], c["promise"]),
            st.dates.dates(c["ptp_date"], c["promise"]),
        ],
        schema=_schema("contacts"),
    )


def _hold_table(st: _Static, h: Raw, _first_row: int) -> pa.Table:
    closed = h["until"] != _NEVER
    return pa.table(
        [
            _fixed(_ids("A", h["account"], 8)),
            _lookup(HOLD_KINDS, h["kind"]),
            st.dates.dates(h["since"]),
            st.dates.dates(np.where(closed, h["until"], h["since"]), closed),
        ],
        schema=_schema("holds"),
    )


# table name -> text formatter(static, raw rows of one chunk, rows already written)
_FORMATTERS: dict[str, Callable[[_Static, Raw, int], pa.Table]] = {
    "borrowers": _borrower_table,
    "accounts": _account_table,
    "instalments": _instalment_table,
    "payments": _payment_table,
    "contacts": _contact_table,
    "holds": _hold_table,
}


# ---------------------------------------------------------------------------------------------
# Writers and the public entry point
# ---------------------------------------------------------------------------------------------


class _Writers:
    def __init__(self, out_dir: Path, fmt: str) -> None:
        self.fmt = fmt
        self.rows = dict.fromkeys(COLUMNS, 0)
        self._sinks: list[pa.NativeFile] = []
        self._writers: dict[str, pa_csv.CSVWriter | pq.ParquetWriter] = {}
        for name, columns in COLUMNS.items():
            if fmt == "csv":
                sink = pa.OSFile(str(out_dir / f"{name}.csv"), "wb")
                self._sinks.append(sink)
                sink.write((",".join(columns) + "\n").encode("utf-8"))
                self._writers[name] = pa_csv.CSVWriter(
                    sink,
                    _schema(name),
                    write_options=pa_csv.WriteOptions(include_header=False, quoting_style="none"),
                )
            else:
                self._writers[name] = pq.ParquetWriter(
                    str(out_dir / f"{name}.parquet"), _schema(name), compression="zstd"
                )

    def write(self, name: str, table: pa.Table) -> None:
        if table.num_rows:
            self._writers[name].write_table(table)
            self.rows[name] += table.num_rows

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        for sink in self._sinks:
            sink.close()


def last_closed_day(now: datetime, home_zone: str) -> date:
    """The latest day that has ended both in ``home_zone`` and in every region's zone: the as-of
    of a portfolio that can be imported at ``now`` (nothing in it lies after ``now``).

    Usually yesterday in ``home_zone``. But payments are stamped in their region's zone and
    Asia/Urumqi (+06:00) ends a day two hours after Asia/Shanghai: from 00:00 to 02:00 Shanghai
    time, Urumqi's yesterday is still running, so the answer is the day before yesterday."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    zones = {home_zone, *TIME_ZONE_OFFSETS}
    return min(now.astimezone(ZoneInfo(zone)).date() for zone in zones) - timedelta(days=1)


def generate_portfolio(
    out_dir: Path | str,
    *,
    accounts: int,
    seed: int = 42,
    as_of: date,
    fmt: str = "csv",
    instalments: int | None = None,
    chunk_size: int = 100_000,
    progress: Callable[[int, int], None] | None = None,
) -> GeneratedCounts:
    """Write a synthetic portfolio of ``accounts`` accounts into ``out_dir``.

    ``fmt`` is ``"csv"`` or ``"parquet"``. ``instalments=None`` gives product-typical terms
    (3/6/12/24); an int gives exactly that many instalments per account. ``progress`` is called
    after each chunk with ``(accounts_done, accounts_total)``. Output depends only on
    ``(accounts, seed, as_of, instalments)`` (and ``fmt``); see the module docstring for how
    ``chunk_size`` interacts with Parquet row groups.
    """
    if isinstance(accounts, bool) or not isinstance(accounts, int) or accounts < 0:
        raise ValueError("accounts must be a non-negative int")
    if accounts >= 10**8:
        raise ValueError("accounts must be below 100,000,000 (8-digit account ids)")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a non-negative int")
    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    if instalments is not None and (
        isinstance(instalments, bool)
        or not isinstance(instalments, int)
        or not 1 <= instalments <= MAX_INSTALMENTS
    ):
        raise ValueError(f"instalments must be None or between 1 and {MAX_INSTALMENTS}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise ValueError("chunk_size must be an int")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}")
    if isinstance(as_of, datetime) or not isinstance(as_of, date):
        raise TypeError("as_of must be a datetime.date (not a datetime)")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    static = _Static(seed, as_of, instalments)
    cursor = _Cursor()
    n_blocks = math.ceil(accounts / BLOCK_SIZE)
    blocks_per_chunk = math.ceil(chunk_size / BLOCK_SIZE)
    writers = _Writers(out, fmt)
    try:
        writers.write("regions", _regions_table())
        for chunk_start in range(0, n_blocks, blocks_per_chunk):
            chunk_end = min(chunk_start + blocks_per_chunk, n_blocks)
            blocks = []
            for b in range(chunk_start, chunk_end):
                first = b * BLOCK_SIZE
                size = min(BLOCK_SIZE, accounts - first)
                blocks.append(_block(static, cursor, b, first, size))
            # one table at a time, releasing its numeric rows as soon as they are written
            for name, formatter in _FORMATTERS.items():
                parts = [blk.pop(name) for blk in blocks]
                raw = {col: np.concatenate([part[col] for part in parts]) for col in parts[0]}
                del parts
                writers.write(name, formatter(static, raw, writers.rows[name]))
                del raw
            if progress is not None:
                progress(min(chunk_end * BLOCK_SIZE, accounts), accounts)
    finally:
        writers.close()
    return GeneratedCounts(**writers.rows)
