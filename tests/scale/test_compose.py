"""compose.yml (which cannot run here: no Docker) read as YAML and checked against what the code reads: every
variable endpoints.yml needs reaches Rasa, each engine is switched on by its setting, nothing published beyond the
host's loopback, and every build target exists in the Dockerfile."""

from __future__ import annotations

import re

import yaml

from settings import PROJECT_ROOT, Settings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_engines_and_the_three_processes_are_services():
    assert set(SERVICES) == {"postgres", "redis", "elasticsearch", "desk", "actions", "rasa"}
    assert SERVICES["elasticsearch"]["image"].split(":")[-1].startswith("8.")


def test_rasa_gets_every_variable_endpoints_yml_reads():
    lines = (PROJECT_ROOT / "endpoints.yml").read_text().splitlines()
    wanted = {name for line in lines if not line.lstrip().startswith("#") for name in re.findall(r"\$\{(\w+)\}", line)}
    assert "CITYDESK_RASA_LOCK_STORE" in wanted
    assert wanted <= set(SERVICES["rasa"]["environment"])
    environment = SERVICES["rasa"]["environment"]
    assert environment["CITYDESK_RASA_LOCK_STORE"] == "redis" and environment["CITYDESK_RASA_LOCK_HOST"] == "redis"
    assert environment["CITYDESK_RASA_TRACKER_URL"].startswith("postgresql+psycopg2://citydesk:")


def test_each_engine_is_switched_on_by_its_setting():
    desk = SERVICES["desk"]["environment"]
    settings = Settings(database_url=desk["DATABASE_URL"], elasticsearch_url=desk["ELASTICSEARCH_URL"],
                        desk_workers=int(desk["CITYDESK_DESK_WORKERS"].split(":-")[-1].rstrip("}")))
    assert settings.resolved_database_url.startswith("postgresql+psycopg://citydesk:")
    assert "@postgres:5432/citydesk" in settings.resolved_database_url
    assert settings.elasticsearch_options["elasticsearch_url"].endswith("@elasticsearch:9200")
    assert settings.effective_desk_workers == 2
    # Rasa's tracker store is the desk's database, in Rasa's driver form
    assert SERVICES["rasa"]["environment"]["CITYDESK_RASA_TRACKER_URL"] == settings.rasa_tracker_url


def test_only_the_desk_is_published_and_only_on_the_hosts_loopback():
    published = {name: service.get("ports", []) for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"desk": ["127.0.0.1:8000:8000"]}
    # Rasa and the action server live in the desk's network namespace: they listen on its loopback
    assert SERVICES["rasa"]["network_mode"] == SERVICES["actions"]["network_mode"] == "service:desk"
    assert "127.0.0.1" in SERVICES["actions"]["command"]


def test_every_build_target_is_in_the_dockerfile():
    stages = set(re.findall(r"^FROM \S+ AS (\w+)$", (PROJECT_ROOT / "Dockerfile").read_text(), re.MULTILINE))
    targets = {service["build"]["target"] for service in SERVICES.values() if "build" in service}
    assert targets == {"desk", "rasa"} and targets <= stages
