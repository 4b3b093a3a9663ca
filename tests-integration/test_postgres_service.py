"""The PostgreSQL server fs-sqlalchemy's tests use is real and writable (services/postgres.sh)."""

from __future__ import annotations

import psycopg


def test_postgres_answers_and_keeps_what_is_committed(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS service_probe (n int)")
        conn.execute("INSERT INTO service_probe VALUES (42)")
        with conn.cursor() as cur:
            cur.execute(
                "SELECT current_setting('server_version_num')::int >= 130000, count(*)"
                " FROM service_probe"
            )
            assert cur.fetchone() == (True, 1)
        conn.execute("DROP TABLE service_probe")
