"""Reads and writes of rows by their key or one column, and queries of fixed SQL, built once.

Building a statement with the ORM costs far more than running it. Reading a job by its key
took 0.6 ms of CPU, of which executing the SQL took 0.03 ms. Locking it with its process
took 1.1 ms, and saving four of its fields 0.4 ms. A job's own row is read and written about
eight times on its way from execute request to result, on the database thread every job
goes through. `Rows` keeps the ORM's own SELECT and its result converters after the first
use. It writes INSERT and UPDATE statements from the model's metadata, and values go through
the fields' own `pre_save` and `get_db_prep_save`. So rows read and written here equal the
ORM's, a test holds it to that.

`CompiledQuery` keeps a whole query the ORM compiled, parameters included, per set of the
arguments it was built from: the scheduler's look for sessions with free slots, and for the
waiting jobs of the processes those sessions provide.

What the ORM would add and these do not: model signals (this project connects none to the
models read here) and expressions such as `F()` as values.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, NotSupportedError, connections
from django.db.models import Field, Model, QuerySet
from django.db.models.fields import AutoFieldMixin
from django.db.transaction import TransactionManagementError

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Select[M: Model]:
    """A SELECT of all of a model's concrete fields, with its parameters, as the ORM compiled it."""

    model: type[M]
    sql: str
    params: tuple[Any, ...]
    # (position in the row, the converters of that column, the column expression they take)
    converters: list[tuple[int, list[Converter], Any]]
    for_update: bool
    # The names of the annotations the row ends with, set on the instance as the ORM does.
    annotations: tuple[str, ...] = ()

    @classmethod
    def compile(cls, queryset: QuerySet[M], using: str) -> _Select[M]:
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        expressions = [expression for expression, _, _ in compiler.select]
        fields = [field.attname for field in queryset.model._meta.concrete_fields]
        names = [getattr(getattr(expression, "target", None), "attname", None) for expression in expressions]
        annotations = tuple(sorted(compiler.annotation_col_map, key=compiler.annotation_col_map.get))
        if names[: len(fields)] != fields or len(expressions) != len(fields) + len(annotations):
            raise TypeError(
                f"{queryset.model.__name__}: only selects of all the concrete fields, then annotations"
            )
        converters = [
            (position, converters, expression)
            for position, (converters, expression) in compiler.get_converters(expressions).items()
        ]
        for_update = queryset.query.select_for_update
        return cls(queryset.model, sql, tuple(params), converters, for_update, annotations)

    def run(self, connection, params: Sequence[Any]) -> list[M]:
        self._lock_check(connection)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        return [self._instance(connection, list(row)) for row in rows]

    def stream(self, connection, chunk_size: int) -> Iterator[M]:
        """Like `QuerySet.iterator(chunk_size)`: rows fetched as they are taken, through a
        server-side cursor where the database has them (PostgreSQL)."""
        self._lock_check(connection)
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(self.sql, self.params)
            while rows := cursor.fetchmany(chunk_size):
                for row in rows:
                    yield self._instance(connection, list(row))
        finally:
            cursor.close()

    def _lock_check(self, connection) -> None:
        if self.for_update and connection.features.has_select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")

    def _instance(self, connection, values: list[Any]) -> M:
        for position, converters, expression in self.converters:
            for convert in converters:
                values[position] = convert(values[position], expression, connection)
        # All concrete fields, in their order: from_db needs no names.
        fields = len(values) - len(self.annotations)
        instance = self.model.from_db(connection.alias, None, values[:fields])
        for name, value in zip(self.annotations, values[fields:], strict=True):
            setattr(instance, name, value)
        return instance


class CompiledQuery[M: Model]:
    """A query the ORM compiles at its first run with the same arguments, kept (the scheduler's
    look for free sessions, on the path of every job). `build(*args)` gives the queryset; its
    arguments are hashable, and few distinct ones are expected: MAX_KEPT at most are kept."""

    MAX_KEPT = 64

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self._build = build
        self._selects: dict[tuple[str, tuple[Hashable, ...]], _Select[M]] = {}

    def __call__(self, *args: Hashable, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        select = self._select(args, using)
        return select.run(connections[using], select.params)

    def stream(self, *args: Hashable, chunk_size: int, using: str = DEFAULT_DB_ALIAS) -> Iterator[M]:
        """The rows as they are taken, `chunk_size` at a time (see `_Select.stream`); close
        the iterator when done with it early, to end its cursor."""
        return self._select(args, using).stream(connections[using], chunk_size)

    def _select(self, args: tuple[Hashable, ...], using: str) -> _Select[M]:
        key = (using, args)
        select = self._selects.get(key)  # the database threads share it: one lookup
        if select is None:  # two threads may both build it: the same result
            if len(self._selects) >= self.MAX_KEPT:
                self._selects.clear()
            select = self._selects[key] = _Select.compile(self._build(*args), using)
        return select


class Rows[M: Model]:
    """Rows of `model` by their key or by one column (declared once per use, shared by threads).

    `annotations()` gives expressions as for `QuerySet.annotate` (built when first needed: models
    may not be ready when the rows are declared); they are read with each row, in the same
    statement, and set on the instances under their names.
    """

    def __init__(self, model: type[M], annotations: Callable[[], dict[str, Any]] | None = None) -> None:
        self.model = model
        self._annotations = annotations or dict
        self._selects: dict[tuple[str, str, bool], _Select[M]] = {}
        self._updates: dict[tuple[str, tuple[str, ...]], str] = {}
        self._inserts: dict[tuple[str, bool, int, bool, str], str] = {}

    def get(self, pk: Any, *, for_update: bool = False, using: str = DEFAULT_DB_ALIAS) -> M | None:
        """Like `objects.filter(pk=pk).first()`, with `select_for_update()` if `for_update`."""
        found = self._where(self.model._meta.pk, pk, for_update=for_update, using=using)
        return found[0] if found else None

    def where(self, field_name: str, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        """Like `objects.filter(**{field_name: value})` with `value` not None, in no order."""
        return self._where(self.model._meta.get_field(field_name), value, for_update=False, using=using)

    def _where(self, field: Field, value: Any, *, for_update: bool, using: str) -> list[M]:
        connection = connections[using]
        key = (using, field.name, for_update)
        if key not in self._selects:  # two threads may both build it: the same result
            self._selects[key] = self._select_compile(using, field, for_update)
        select = self._selects[key]
        return select.run(connection, [*select.params, self._prep(field, value, connection)])

    def update(
        self,
        instance: M,
        fields: Sequence[str],
        *,
        using: str = DEFAULT_DB_ALIAS,
        inserting: tuple[Rows[Any], Sequence[Model]] | None = None,
    ) -> None:
        """Like `instance.save(update_fields=fields)`: `auto_now` fields listed are set.

        `inserting` (rows, instances): new rows written with the update, in one INSERT, their
        automatic keys left to the database and not learnt (the instances keep `pk` None: for
        rows read back by another column). On PostgreSQL the INSERT goes in the UPDATE's own
        statement (a data-modifying WITH): a round trip less.
        """
        connection = connections[using]
        columns = [self.model._meta.get_field(name) for name in fields]
        values = [self._value(field, instance, connection, add=False) for field in columns]
        sql = self._update_sql(using, tuple(fields), columns)
        params = [*values, self._prep(self.model._meta.pk, instance.pk, connection)]
        if inserting is not None and inserting[1]:
            rows, instances = inserting
            insert_sql, insert_params = rows._insert_many_statement(instances, using)
            if connection.vendor == "postgresql":
                sql, params = f"WITH inserted AS ({insert_sql}) {sql}", [*insert_params, *params]
            else:  # SQLite has no INSERT in a WITH
                _execute(using, insert_sql, insert_params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.rowcount != 1:
                raise DatabaseError(f"{self.model.__name__} {instance.pk} was not updated (gone?).")
        if inserting is not None:
            self._inserted(inserting[1], using)

    def update_returning(
        self,
        instance: M,
        fields: Sequence[str],
        *,
        keep: Sequence[str] = (),
        where: tuple[str, Sequence[Any]] = ("TRUE", ()),
        inserting: tuple[Rows[Any], Sequence[Model]] | None = None,
        then: Callable[[str], tuple[str, Sequence[Any]]] | None = None,
        using: str = DEFAULT_DB_ALIAS,
    ) -> tuple[M, list[M]] | None:
        """PostgreSQL: `update(instance, fields, inserting=…)` of the row if `where` (SQL on the
        row, with its parameters) holds, in one statement; the row as written, or None if it
        was not (nothing written). Of `fields`, those in `keep` are only written where NULL.

        `then(returning)`: SQL and parameters of further CTEs of the statement; the last,
        `then_rows`, returns rows of the model with the columns `returning` lists, which come
        with the row written. They run whether or not the row is written: to write only with
        it, they read it (`updated`)."""
        connection = connections[using]
        if connection.vendor != "postgresql":
            raise NotSupportedError("update_returning needs PostgreSQL's data-modifying WITH")
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        returning = ", ".join(f"{table}.{quote(field.column)}" for field in self.model._meta.concrete_fields)
        sql, params = self._update_returning_sql(instance, fields, keep, where, returning, connection)
        rows, instances = inserting or (None, ())
        # Each row written only with the update. One INSERT each: the values of a UNION of
        # them would be typed as text, not as their columns.
        for index, inserted in enumerate(instances):
            insert_sql, insert_params = rows._insert_many_statement(
                [inserted], using, select_tail="FROM updated"
            )
            sql, params = f"{sql}, inserted_{index} AS ({insert_sql})", [*params, *insert_params]
        select = "SELECT 0, * FROM updated"
        if then is not None:
            then_sql, then_params = then(returning)
            sql, params = f"{sql}, {then_sql}", [*params, *then_params]
            select += " UNION ALL SELECT 1, * FROM then_rows"
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} {select}", params)
            found = cursor.fetchall()
        written = [list(row[1:]) for row in found if row[0] == 0]
        if not written:
            return None
        self._inserted(instances, using)
        plain = self._plain_select(using)
        return plain._instance(connection, written[0]), [
            plain._instance(connection, list(row[1:])) for row in found if row[0] == 1
        ]

    def _update_returning_sql(
        self,
        instance: M,
        fields: Sequence[str],
        keep: Sequence[str],
        where: tuple[str, Sequence[Any]],
        returning: str,
        connection,
    ) -> tuple[str, list[Any]]:
        """`WITH updated AS (UPDATE … RETURNING …)` of `update_returning`, with its parameters."""
        quote = connection.ops.quote_name
        columns = [self.model._meta.get_field(name) for name in fields]
        assignments = ", ".join(
            f"{quote(c.column)} = COALESCE({quote(c.column)}, %s)"
            if c.name in keep
            else f"{quote(c.column)} = %s"
            for c in columns
        )
        table, pk = quote(self.model._meta.db_table), quote(self.model._meta.pk.column)
        update = f"UPDATE {table} SET {assignments} WHERE {pk} = %s AND ({where[0]}) RETURNING {returning}"
        params = [
            *(self._value(field, instance, connection, add=False) for field in columns),
            self._prep(self.model._meta.pk, instance.pk, connection),
            *where[1],
        ]
        return f"WITH updated AS ({update})", params

    def _plain_select(self, using: str) -> _Select[M]:
        """The ORM's SELECT of all the concrete fields, for its converters of each column."""
        key = (using, "", False)
        if key not in self._selects:
            self._selects[key] = _Select.compile(self.model._base_manager.using(using).order_by(), using)
        return self._selects[key]

    def _insert_many_statement(
        self, instances: Sequence[M], using: str, *, select_tail: str = ""
    ) -> tuple[str, list[Any]]:
        """One INSERT of `instances`, keys left to the database, none returned (with a
        `select_tail`, one instance, written as `INSERT … SELECT values <select_tail>`)."""
        if not isinstance(self.model._meta.pk, AutoFieldMixin) or any(i.pk is not None for i in instances):
            name = self.model.__name__
            raise ValueError(
                f"Rows inserts these with keys of the database's: {name}'s must be automatic, unset"
            )
        connection = connections[using]
        fields = self._insert_fields(chosen=True)
        params = [
            self._value(field, instance, connection, add=True) for instance in instances for field in fields
        ]
        sql = self._insert_sql(
            using, True, fields, rows=len(instances), returning=False, select_tail=select_tail
        )
        return sql, params

    @staticmethod
    def _inserted(instances: Sequence[Model], using: str) -> None:
        for instance in instances:
            instance._state.adding = False
            instance._state.db = using

    def insert(
        self,
        instance: M,
        *,
        using: str = DEFAULT_DB_ALIAS,
        condition: tuple[str, Sequence[Any]] | None = None,
    ) -> bool:
        """Like `instance.save(force_insert=True)`: an auto-incremented key left unset is the
        database's choice, and the instance learns it.

        `condition` (SQL, parameters; with the key set): the row is only written if it holds,
        in the INSERT's own statement; False if it did not (nothing written)."""
        connection = connections[using]
        chosen = instance.pk is None
        if chosen and not isinstance(self.model._meta.pk, AutoFieldMixin):
            raise ValueError(
                f"Rows.insert needs the primary key set; {self.model.__name__} has no automatic one."
            )
        sql, params = self._insert_statement(instance, connection, chosen=chosen, condition=condition)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if condition is not None and cursor.rowcount == 0:
                return False
            if chosen:
                instance.pk = self._inserted_key(connection, cursor)
        self._inserted([instance], using)
        return True

    def insert_statement(
        self, instance: M, *, condition: tuple[str, Sequence[Any]], using: str = DEFAULT_DB_ALIAS
    ) -> tuple[str, list[Any]]:
        """The SQL and parameters of `insert(instance, condition=…)` (key set), to run with others
        (`ums_site.round_trip`); once the statement wrote the row, call `written(instance)`."""
        return self._insert_statement(instance, connections[using], chosen=False, condition=condition)

    def written(self, instance: M, using: str = DEFAULT_DB_ALIAS) -> None:
        """The instance is stored now, as after `insert` (for an `insert_statement` run elsewhere)."""
        self._inserted([instance], using)

    def _insert_statement(
        self, instance: M, connection, *, chosen: bool, condition: tuple[str, Sequence[Any]] | None
    ) -> tuple[str, list[Any]]:
        if instance.pk is None and condition is not None:
            raise ValueError("Rows.insert writes on a condition only rows with their key set")
        fields = self._insert_fields(chosen=chosen)
        values = [self._value(field, instance, connection, add=True) for field in fields]
        where, where_params = condition or ("", ())
        tail = f"WHERE {where}" if where else ""
        sql = self._insert_sql(connection.alias, chosen, fields, rows=1, returning=chosen, select_tail=tail)
        return sql, [*values, *where_params]

    def _insert_fields(self, *, chosen: bool) -> list[Field]:
        """The columns an INSERT writes: all but an automatic key the database `chosen`."""
        pk = self.model._meta.pk
        return [field for field in self.model._meta.concrete_fields if not (chosen and field is pk)]

    def _insert_sql(
        self,
        using: str,
        chosen: bool,
        fields: list[Field],
        *,
        rows: int,
        returning: bool,
        select_tail: str = "",
    ) -> str:
        """INSERT of `rows` rows; with `returning`, it returns the key the database chose.
        `select_tail` (one row): the row is written as `SELECT values <select_tail>`, which
        decides whether it is (kept per text: callers pass a fixed one, values as parameters)."""
        key = (using, chosen, rows, returning, select_tail)
        if key not in self._inserts:
            connection = connections[using]
            quote = connection.ops.quote_name
            columns = ", ".join(quote(field.column) for field in fields)
            placeholders = ", ".join(["%s"] * len(fields))
            table = quote(self.model._meta.db_table)
            if select_tail:
                sql = f"INSERT INTO {table} ({columns}) SELECT {placeholders} {select_tail}"
            else:
                values = ", ".join([f"({placeholders})"] * rows)
                sql = f"INSERT INTO {table} ({columns}) VALUES {values}"
            if returning and connection.features.can_return_columns_from_insert:
                columns_sql, _ = connection.ops.returning_columns([self.model._meta.pk])
                sql = f"{sql} {columns_sql}"
            self._inserts[key] = sql
        return self._inserts[key]

    def _inserted_key(self, connection, cursor) -> Any:
        if connection.features.can_return_columns_from_insert:
            return cursor.fetchone()[0]
        return connection.ops.last_insert_id(cursor, self.model._meta.db_table, self.model._meta.pk.column)

    def _select_compile(self, using: str, field: Field, for_update: bool) -> _Select[M]:
        """The ORM's SELECT of the whole table, with a condition on one column (and a lock)."""
        queryset = self.model._base_manager.using(using)
        if queryset.query.where:
            raise TypeError(f"{self.model.__name__}'s base manager filters its rows; Rows reads the table")
        annotations = self._annotations()
        if any(expression.contains_aggregate for expression in annotations.values()):
            raise TypeError(
                f"Rows reads rows one by one: no aggregate annotations ({', '.join(annotations)})"
            )
        select = _Select.compile(queryset.annotate(**annotations).order_by(), using)
        connection = connections[using]
        quote = connection.ops.quote_name
        sql = f"{select.sql} WHERE {quote(self.model._meta.db_table)}.{quote(field.column)} = %s"
        if for_update and connection.features.has_select_for_update:
            sql = f"{sql} {connection.ops.for_update_sql()}"
        return replace(select, sql=sql, for_update=for_update)

    def _update_sql(self, using: str, names: tuple[str, ...], columns: list[Field]) -> str:
        key = (using, names)
        if key not in self._updates:
            quote = connections[using].ops.quote_name
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
            table, pk = quote(self.model._meta.db_table), quote(self.model._meta.pk.column)
            self._updates[key] = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"
        return self._updates[key]

    @staticmethod
    def _prep(field: Field, value: Any, connection) -> Any:
        if value is None:  # `= NULL` would match nothing, where the ORM writes IS NULL
            raise ValueError(f"Rows cannot look {field.name} up as None")
        if isinstance(value, Model):  # a related instance stands for its key, as in the ORM
            value = value.pk
        return field.get_db_prep_value(value, connection, prepared=False)

    @staticmethod
    def _value(field: Field, instance: Model, connection, *, add: bool) -> Any:
        return field.get_db_prep_save(field.pre_save(instance, add), connection)


def _execute(using: str, sql: str, params: list[Any]) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
