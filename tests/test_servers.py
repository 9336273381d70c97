import psycopg
import redis

from tests.servers import create_database


def test_real_redis_answers(real_redis_url):
    client = redis.Redis.from_url(real_redis_url)
    client.set("k", "v", ex=10)
    assert client.get("k") == b"v"
    assert 0 < client.ttl("k") <= 10


def test_real_postgres_answers(postgres_server_url):
    url = create_database(postgres_server_url, "smoke")
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1 + 1").fetchone()[0] == 2
