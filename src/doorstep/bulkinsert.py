"""Many new rows of one model in few statements, for the nightly run's tens of thousands.

Django's bulk_create prepares every value through the compiler's generic path (pre_save,
get_db_prep_save, a placeholder per value): at 27,000 proposed visits of 40 columns that was 12 of
the night's seconds. `insert_objects` chooses one converter per column once, passes plain text,
numbers and NULLs through untouched, and hands the rows to the driver: COPY on PostgreSQL (a
pipelined executemany is still one INSERT per row there, about 4 of the 5 s the in-place night spent
proposing 27,000 visits with their transitions), executemany on SQLite. Like bulk_create it sends
no signals and calls no save(); unlike it, it returns no primary keys, so an auto-numbered table's
rows must not be needed back.
"""

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from operator import attrgetter

from django.db import connection, models
from django.db.models.base import ModelState

# Columns whose Python value is already what the database driver takes.
_AS_IS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.BooleanField,
)
ROWS_PER_STATEMENT = 5_000


def insert_objects(objects: Sequence[models.Model]) -> int:
    """INSERT `objects` (unsaved instances of one model, defaults filled by their __init__) and
    return how many. Auto-numbered primary keys are left to the database."""
    if not objects:
        return 0
    model = type(objects[0])
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField | models.BigAutoField))
    ]
    # Every column's value in one C call (a tuple, even of one column); only the columns that
    # need it are converted.
    names = [field.attname for field in fields]
    values = attrgetter(*names) if len(names) > 1 else lambda obj: (getattr(obj, names[0]),)
    converted = [
        (index, convert)
        for index, convert in enumerate(_converter(field) for field in fields)
        if convert is not _as_is
    ]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)

    def as_row(obj) -> tuple:
        row = list(values(obj))
        for index, convert in converted:
            row[index] = convert(row[index])
        return tuple(row)

    rows = (as_row(obj) for obj in objects)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - model names
            while chunk := list(islice(rows, ROWS_PER_STATEMENT)):
                cursor.executemany(sql, chunk)
    return len(objects)


def _converter(field: models.Field) -> Callable:
    if isinstance(field, _AS_IS) and not isinstance(field, models.JSONField):
        return _as_is
    if isinstance(field, models.ForeignKey):
        return _converter(field.target_field)

    last = [None, None]  # the value last converted and its conversion: a batch shares its `at`

    def prepared(value, field=field):
        if value is None:
            return None
        if value is not last[0]:
            last[:] = value, field.get_db_prep_save(value, connection)
        return last[1]

    return prepared


def _as_is(value):
    return value


def new_instances(model: type[models.Model], rows: Iterable[dict]) -> list[models.Model]:
    """Unsaved instances of `model` from dicts of field attnames (account_id, not account), every
    other field at its default, as `model(**row)` makes them, for `insert_objects`.

    Model.__init__ works out each field's default again for every instance: 27,000 proposed visits
    of 40 columns spent over a second there. Here a constant default is worked out once and a
    callable one (dict, uuid) called for each row that lacks the field. No signals are sent (no
    model of doorstep listens to pre_init or post_init)."""
    fields = model._meta.concrete_fields
    attnames = {field.attname for field in fields}
    per_row = [field for field in fields if field.has_default() and callable(field.default)]
    constant = {field.attname: field.get_default() for field in fields if field not in per_row}
    made = []
    for row in rows:
        if unknown := row.keys() - attnames:
            raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
        instance = model.__new__(model)
        instance.__dict__.update(constant)
        for field in per_row:
            if field.attname not in row:
                instance.__dict__[field.attname] = field.get_default()
        instance.__dict__.update(row)
        instance._state = ModelState()
        made.append(instance)
    return made
