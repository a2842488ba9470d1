"""A query's results as plain rows.

peewee's type stubs give `.tuples()` and `.dicts()` the type of the query itself, whose rows
are model instances; these say what the rows are.
"""

from typing import cast

import peewee as pw


def tuples(query: pw.BaseQuery) -> list[tuple]:
    """Every row of the query, each a tuple of the selected columns."""
    return cast(list[tuple], list(query.tuples()))


def dicts(query: pw.BaseQuery) -> list[dict]:
    """Every row of the query, each a dict of the selected columns by name."""
    return cast(list[dict], list(query.dicts()))
