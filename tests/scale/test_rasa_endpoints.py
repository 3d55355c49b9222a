"""What endpoints.yml gets from the settings: the tracker URL in Rasa's driver form, the lock store from REDIS_URL."""

from __future__ import annotations

import pytest

from desk.stack import ACTION_SERVER_WITHHELD, child_environment
from settings import Settings, rasa_database_url, rasa_lock_store


@pytest.mark.parametrize(("desk_url", "rasa_url"), [
    ("postgresql+psycopg://citydesk:pw@db:5432/citydesk", "postgresql+psycopg2://citydesk:pw@db:5432/citydesk"),
    ("postgresql://citydesk@db/citydesk", "postgresql+psycopg2://citydesk@db/citydesk"),
    ("postgres://citydesk@db/citydesk", "postgresql+psycopg2://citydesk@db/citydesk"),
    ("sqlite:////srv/citydesk/var/citydesk.db", "sqlite:////srv/citydesk/var/citydesk.db"),
])
def test_the_desks_database_url_becomes_rasas(desk_url, rasa_url):
    assert rasa_database_url(desk_url) == rasa_url


def test_redis_url_sets_the_lock_store_and_its_absence_keeps_it_in_memory():
    assert rasa_lock_store("redis://:s%40cret@cache:6380/3") == {
        "CITYDESK_RASA_LOCK_STORE": "redis", "CITYDESK_RASA_LOCK_HOST": "cache", "CITYDESK_RASA_LOCK_PORT": "6380",
        "CITYDESK_RASA_LOCK_DB": "3", "CITYDESK_RASA_LOCK_PASSWORD": "s@cret"}
    assert rasa_lock_store("redis://cache")["CITYDESK_RASA_LOCK_DB"] == "1"  # Rasa's default lock database
    assert rasa_lock_store(None)["CITYDESK_RASA_LOCK_STORE"] == "in_memory"
    with pytest.raises(ValueError):
        rasa_lock_store("http://cache:6379")


def test_the_child_environment_passes_them_on_and_the_action_server_gets_no_redis_password(tmp_path):
    env = child_environment(Settings(data_dir=tmp_path, database_url="postgresql+psycopg://u@db/citydesk",
                                     redis_url="redis://:pw@cache:6379/1"))
    assert env["CITYDESK_RASA_TRACKER_URL"] == "postgresql+psycopg2://u@db/citydesk"
    assert env["CITYDESK_RASA_TRACKER_DIALECT"] == "postgresql"
    assert (env["CITYDESK_RASA_LOCK_STORE"], env["CITYDESK_RASA_LOCK_PASSWORD"]) == ("redis", "pw")
    assert {"REDIS_URL", "CITYDESK_REDIS_URL", "CITYDESK_RASA_LOCK_PASSWORD"} <= set(ACTION_SERVER_WITHHELD)
