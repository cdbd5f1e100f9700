"""The stores of server-side sessions: Redis, cachelib (and its file system cache), SQLAlchemy.

Each imports its client library only when it is built, so an app that keeps the cookie
sessions never imports redis, cachelib or SQLAlchemy. Values are the serializer's bytes;
the stores never pickle (a cachelib cache gets a bytes-only serializer).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from .server import ServerSideSessionInterface, SessionStoreUnavailable, _log

__all__ = [
    "CacheLibSessionInterface",
    "FileSystemSessionInterface",
    "RedisSessionInterface",
    "SqlAlchemySessionInterface",
]


def _seconds(lifetime: timedelta) -> int:
    return max(1, int(lifetime.total_seconds()))


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis import exceptions
    except ImportError:  # pragma: no cover - redis is a dependency
        return ()
    return (exceptions.ConnectionError, exceptions.TimeoutError, exceptions.ReadOnlyError)


class RedisSessionInterface(ServerSideSessionInterface):
    """Sessions in Redis, one key per session (``SESSION_KEY_PREFIX`` + id) with a TTL of
    ``PERMANENT_SESSION_LIFETIME``. ``client`` is a ``redis.Redis`` or a URL; the default
    client talks to 127.0.0.1:6379 and retries a failed command once, without waiting
    (redis-py's own default retries for seconds, holding the request meanwhile)."""

    def __init__(self, app: Any = None, client: Any = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        options: dict[str, Any] = {
            "retry": Retry(NoBackoff(), 1), "socket_timeout": 5, "socket_connect_timeout": 2,
        }  # fmt: skip
        if client is None:
            client = redis.Redis(host="127.0.0.1", port=6379, **options)
        elif isinstance(client, str):
            client = redis.Redis.from_url(client, **options)
        self.client = client
        self.store_errors = (*self.store_errors, *_redis_errors())

    def _load(self, store_id: str) -> bytes | None:
        return self.client.get(store_id)  # type: ignore[no-any-return]

    def _save(self, store_id: str, value: bytes, lifetime: timedelta) -> None:
        self.client.set(store_id, value, ex=_seconds(lifetime))

    def _touch(self, store_id: str, value: bytes, lifetime: timedelta) -> None:
        # EXPIRE, not SET: a request that only read the session must not overwrite what a
        # concurrent request wrote; the key may have expired since the load: write it again
        if not self.client.expire(store_id, _seconds(lifetime)):
            self._save(store_id, value, lifetime)

    def _delete(self, store_id: str) -> None:
        self.client.delete(store_id)


_INT = b"erlen-int:"  # cachelib's own integers (FileSystemCache's file count)


def _bytes_only_serializer() -> Any:
    from cachelib.serializers import BaseSerializer

    class BytesOnlySerializer(BaseSerializer):
        """Stores the bytes it is given and returns the bytes it finds: no pickle either
        way (cachelib's serializers unpickle what they read, whoever wrote it). Integers,
        which cachelib stores for itself, are written as text."""

        def dumps(self, value: Any, *args: Any, **kwargs: Any) -> bytes:
            if type(value) is int:
                return _INT + str(value).encode()
            return bytes(value)

        def loads(self, bvalue: Any) -> Any:
            if isinstance(bvalue, bytes) and bvalue.startswith(_INT):
                try:
                    return int(bvalue[len(_INT) :])
                except ValueError:
                    return None
            return bvalue

        def dump(self, value: Any, f: Any, *args: Any, **kwargs: Any) -> None:
            f.write(self.dumps(value))

        def load(self, f: Any) -> Any:
            return self.loads(f.read())

    return BytesOnlySerializer()


class CacheLibSessionInterface(ServerSideSessionInterface):
    """Sessions in a cachelib cache (``SESSION_CACHELIB``; default a ``FileSystemCache`` in
    ``./flask_session``, as Flask-Session). The cache gets a bytes-only serializer, so give
    it a cache of its own; a cache without a serializer (memcached, whose client may
    unpickle) is refused."""

    def __init__(self, app: Any = None, client: Any = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        if client is None:
            import os

            from cachelib.file import FileSystemCache

            client = FileSystemCache(os.path.join(os.getcwd(), "flask_session"), threshold=500)
        if not hasattr(client, "serializer"):
            raise ValueError(
                f"SESSION_CACHELIB: {type(client).__name__} has no serializer to replace, so "
                "its client may unpickle stored values; use SimpleCache, FileSystemCache, "
                "RedisCache or another cache with a serializer."
            )
        client.serializer = _bytes_only_serializer()
        if hasattr(client, "_update_count") and hasattr(client, "_list_dir"):
            # a FileSystemCache counted its files with the pickle serializer: count again
            client._update_count(value=len(list(client._list_dir())))
        self.cache = client
        self.store_errors = (*self.store_errors, OSError, *_redis_errors())

    def _load(self, store_id: str) -> bytes | None:
        value = self.cache.get(store_id)
        return value if isinstance(value, bytes) else None

    def _save(self, store_id: str, value: bytes, lifetime: timedelta) -> None:
        if not self.cache.set(store_id, value, timeout=_seconds(lifetime)):
            raise SessionStoreUnavailable(f"{type(self.cache).__name__} refused the write")

    def _delete(self, store_id: str) -> None:
        self.cache.delete(store_id)


class FileSystemSessionInterface(CacheLibSessionInterface):
    """Sessions in files: cachelib's ``FileSystemCache`` in ``SESSION_FILE_DIR``
    (``SESSION_FILE_THRESHOLD`` files at most, mode ``SESSION_FILE_MODE``, 0600)."""

    def __init__(
        self,
        app: Any = None,
        cache_dir: str | None = None,
        threshold: int = 500,
        mode: int = 0o600,
        **kwargs: Any,
    ) -> None:
        import os

        from cachelib.file import FileSystemCache

        directory = cache_dir or os.path.join(os.getcwd(), "flask_session")
        cache = FileSystemCache(directory, threshold=threshold, mode=mode)
        super().__init__(app, client=cache, **kwargs)


class SqlAlchemySessionInterface(ServerSideSessionInterface):
    """Sessions in a table (``SESSION_SQLALCHEMY_TABLE``, Flask-Session's columns: ``id``,
    ``session_id`` unique, ``data`` binary, ``expiry`` naive UTC).

    ``client`` is the app's Flask-SQLAlchemy-style object (``erlen.db.SQLAlchemy``): only its
    ``engine``/``engines`` and ``metadata``/``metadatas`` are used, so the table is in the
    app's metadata (``create_all`` and migrations see it) and each operation runs in a
    transaction of its own on the engine, never committing or rolling back the app's
    ``db.session``. A plain SQLAlchemy ``Engine`` works too. SQL has no TTL: expired rows
    are ignored and deleted when read; ``delete_expired()`` (CLI ``session_cleanup``, or
    ``SESSION_CLEANUP_N_REQUESTS``) removes the rest.
    """

    def __init__(
        self,
        app: Any = None,
        client: Any = None,
        table: str = "sessions",
        sequence: str | None = None,
        schema: str | None = None,
        bind_key: str | None = None,
        cleanup_n_requests: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        import sqlalchemy as sa

        if client is None:
            raise ValueError(
                "SESSION_SQLALCHEMY must be the app's SQLAlchemy object (erlen.db.SQLAlchemy) "
                "or an SQLAlchemy engine."
            )
        self.client = client
        self.bind_key = bind_key
        self.cleanup_n_requests = cleanup_n_requests
        if isinstance(client, sa.engine.Engine):
            metadata = sa.MetaData()
        else:
            metadata = client.metadatas[bind_key] if bind_key else client.metadata
        found = metadata.tables.get(f"{schema}.{table}" if schema else table)
        if found is None:
            id_column = (
                sa.Column("id", sa.Integer, sa.Sequence(sequence), primary_key=True)
                if sequence
                else sa.Column("id", sa.Integer, primary_key=True)
            )
            found = sa.Table(
                table, metadata, id_column,
                sa.Column("session_id", sa.String(255), unique=True),
                sa.Column("data", sa.LargeBinary),
                sa.Column("expiry", sa.DateTime),
                schema=schema,
            )  # fmt: skip
        self.table = found
        exc = sa.exc
        self.store_errors = (
            *self.store_errors, exc.OperationalError, exc.InterfaceError, exc.TimeoutError,
        )  # fmt: skip
        if app is not None:
            with app.app_context():
                self.table.create(bind=self.engine, checkfirst=True)
            if cleanup_n_requests:
                app.before_request(self._cleanup_n_requests)
            elif getattr(app, "cli", None) is not None:
                app.cli.command("session_cleanup")(self._cleanup_command)

    @property
    def engine(self) -> Any:
        import sqlalchemy as sa

        client = self.client
        if isinstance(client, sa.engine.Engine):
            return client
        return client.engines[self.bind_key] if self.bind_key else client.engine

    def _run(self, operation: Any) -> Any:
        """Run ``operation(connection)`` in a transaction of its own; once more when the
        pool's connection turned out dead (the server restarted since it was opened)."""
        import sqlalchemy as sa

        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    return operation(conn)
            except sa.exc.DBAPIError as e:
                if attempt or not e.connection_invalidated:
                    raise
        return None  # pragma: no cover

    @staticmethod
    def _now() -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as Flask-Session stores

    def _load(self, store_id: str) -> bytes | None:
        t = self.table

        def load(conn: Any) -> bytes | None:
            row = conn.execute(
                t.select().with_only_columns(t.c.data, t.c.expiry).where(t.c.session_id == store_id)
            ).first()
            if row is None:
                return None
            if row.expiry is None or row.expiry <= self._now():
                conn.execute(t.delete().where(t.c.session_id == store_id))
                return None
            return bytes(row.data) if row.data is not None else None

        return self._run(load)  # type: ignore[no-any-return]

    def _save(self, store_id: str, value: bytes, lifetime: timedelta) -> None:
        import sqlalchemy as sa

        t = self.table
        values = {"data": value, "expiry": self._now() + lifetime}

        def update(conn: Any) -> int:
            done = conn.execute(t.update().where(t.c.session_id == store_id).values(**values))
            return int(done.rowcount)

        if self._run(update):
            return
        try:
            self._run(lambda conn: conn.execute(t.insert().values(session_id=store_id, **values)))
        except sa.exc.IntegrityError:  # a concurrent request inserted it first
            self._run(update)

    def _touch(self, store_id: str, value: bytes, lifetime: timedelta) -> None:
        t = self.table
        expiry = self._now() + lifetime

        def touch(conn: Any) -> int:
            done = conn.execute(t.update().where(t.c.session_id == store_id).values(expiry=expiry))
            return int(done.rowcount)

        if not self._run(touch):
            self._save(store_id, value, lifetime)

    def _delete(self, store_id: str) -> None:
        t = self.table
        self._run(lambda conn: conn.execute(t.delete().where(t.c.session_id == store_id)))

    def delete_expired(self) -> int:
        """Delete the expired rows; returns how many."""
        t = self.table
        now = self._now()
        return int(
            self._run(lambda conn: conn.execute(t.delete().where(t.c.expiry <= now))).rowcount
        )

    def _cleanup_n_requests(self) -> None:
        if self.cleanup_n_requests and random.randrange(self.cleanup_n_requests) == 0:
            try:
                self.delete_expired()
            except self.store_errors as e:  # cleanup can wait for a later request
                _log.warning("Expired session cleanup skipped (%s).", type(e).__name__)

    def _cleanup_command(self) -> None:
        """Delete expired sessions from the session table."""
        print(f"Deleted {self.delete_expired()} expired sessions.")
