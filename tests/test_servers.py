"""The throwaway servers of tests/servers.py: they start, answer, go away and come back."""

from __future__ import annotations

import socket

import pytest
import redis
import sqlalchemy as sa

from servers import PostgresServer, RedisServer, ServerError


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def test_sql_server_query_stop_start_keeps_data(sql_server):
    url = sql_server.create_database("kept_" + sql_server.name)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES (42)"))
        port = sql_server.port
        sql_server.stop()
        sql_server.stop()  # repeatable
        assert not sql_server.running
        assert refused(port)
        engine.dispose()
        with pytest.raises(sa.exc.OperationalError), engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        sql_server.start()
        sql_server.start()
        assert sql_server.port == port
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM t")).scalar() == 42
    finally:
        engine.dispose()
        sql_server.drop_database("kept_" + sql_server.name)


def test_database_uri_is_fresh_and_empty(database_uri):
    engine = sa.create_engine(database_uri)
    try:
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 1
    finally:
        engine.dispose()


def test_drop_database_with_a_connection_still_open(sql_server):
    name = "busy_" + sql_server.name
    engine = sa.create_engine(sql_server.create_database(name))
    conn = engine.connect()
    conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    conn.execute(sa.text("INSERT INTO t VALUES (1)"))  # transaction left open, table locked
    try:
        sql_server.drop_database(name)
        assert name not in sql_server.list_databases()
    finally:
        conn.invalidate()
        engine.dispose()


def test_redis_stop_start_keeps_data(redis_server, redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        client.set("k", "v")
        redis_server.stop()
        assert refused(redis_server.port)
        with pytest.raises(redis.ConnectionError):
            client.get("k")
        redis_server.start()
        assert client.get("k") == b"v"
    finally:
        client.close()
        redis_server.start()


def test_redis_url_is_flushed(redis_server, redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0
        client.set("left", "behind")
    finally:
        client.close()


def test_own_instance_closes_and_removes_its_dir():
    if RedisServer.missing():
        pytest.skip(RedisServer.missing())
    with RedisServer() as server:
        folder, port = server.dir, server.port
        assert folder.is_dir()
        assert server.url == f"redis://127.0.0.1:{port}/0"
    assert not server.running
    assert not folder.exists()
    assert refused(port)
    server.close()  # idempotent


def test_failed_start_reports_the_log_tail(monkeypatch):
    if PostgresServer.missing():
        pytest.skip(PostgresServer.missing())

    class Broken(PostgresServer):
        def command(self) -> list[str]:
            return [*super().command(), "-c", "no_such_setting=1"]

    with pytest.raises(ServerError, match="no_such_setting") as info:
        Broken()
    assert "exited with" in str(info.value)
