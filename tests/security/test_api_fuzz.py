"""Schemathesis against every OpenAPI-described API (provisioning, management, court feed), with
valid tokens: whatever the generated input, no server error; valid input gets a status the spec
documents, invalid input a clean 4xx. Schemathesis's strategies are driven by Hypothesis here,
without its pytest plugin (disabled in pyproject: its session-finish hook crashes pytest's
assertion rewriting on Python 3.11)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings

from tests.idp.helpers import api_token, make_client, start_idp
from tests.servers import LiveServer, free_port

REPO = Path(__file__).resolve().parents[2]
SPECS = {"provisioning": REPO / "idp/api/provisioning.yaml", "management": REPO / "idp/api/management.yaml",
         "court_feed": REPO / "portals/justice/court_feed.yaml", "support": REPO / "idp/api/support.yaml"}
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))


def client_token(idp, scope: str) -> str:
    return api_token(idp, scope)


def justice_support_token(idp) -> str:
    """The justice space's own token for the support desk (api_token would pick e-services, whose
    registration the management API's token needs as it is)."""
    import requests

    _client, secret = make_client(idp.app, [], client_id="justice", grant_types=["client_credentials"],
                                  scope="support", first_party=True)
    answer = requests.post(f"{idp.url}/token", data={"grant_type": "client_credentials", "scope": "support"},
                           auth=("justice", secret), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from portals.justice import create_app, upgrade_database

    folder = tmp_path_factory.mktemp("fuzz")
    idp = start_idp(f"sqlite:///{folder / 'idp.db'}", raw={"outbox": {"manual": True}})
    database = f"sqlite:///{folder / 'justice.db'}"
    upgrade_database(database)
    (folder / "justice").mkdir()
    justice = LiveServer(create_app({"database_url": database, "issuer": idp.url, "_quiet": True,
                                     "instance_path": folder / "justice", "raw": {"outbox": {"manual": True}}}),
                         free_port()).start()
    yield {"support": (idp.url, justice_support_token(idp)),
           "provisioning": (idp.url, client_token(idp, "provisioning")),
           "management": (idp.url, client_token(idp, "management")),
           "court_feed": (justice.url, client_token(idp, "court_feed"))}
    justice.stop()
    idp.stop()


def base_path(name: str) -> str:
    from urllib.parse import urlsplit

    servers = yaml.safe_load(SPECS[name].read_text()).get("servers") or [{"url": "/"}]
    return urlsplit(servers[0]["url"]).path.rstrip("/")


def schema_for(name: str):
    raw = yaml.safe_load(SPECS[name].read_text())
    raw.pop("servers", None)
    return schemathesis.openapi.from_dict(raw)


OPERATIONS = [(name, result.ok()) for name in SPECS for result in schema_for(name).get_all_operations()]


def call(case, stack, name: str, mode) -> None:
    base_url, token = stack[name]
    response = case.call(base_url=base_url + base_path(name), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    if case.method.upper() != case.operation.method.upper():  # schemathesis also tries other methods
        assert response.status_code == 405 or (case.method.upper() == "OPTIONS" and response.status_code == 200), \
            (case.method, case.path, response.status_code)
        return
    if mode is schemathesis.GenerationMode.NEGATIVE:  # input outside the spec: refused, cleanly
        assert 400 <= response.status_code < 500 or response.status_code in (200, 201), \
            (case.method, case.path, response.status_code, response.text[:200])
        return
    documented = set(case.operation.definition.raw.get("responses", {}))
    assert str(response.status_code) in documented or "default" in documented, \
        (case.method, case.path, response.status_code, sorted(documented), response.text[:200])


def has_input(operation) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody") or "{" in operation.path)


CASES = [(name, op, mode) for name, op in OPERATIONS
         for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
         if mode is schemathesis.GenerationMode.POSITIVE or has_input(op)]  # nothing to make invalid otherwise


@pytest.mark.parametrize(("name", "operation", "mode"), CASES,
                         ids=[f"{n} {op.method.upper()} {op.path} {m.value}" for n, op, m in CASES])
def test_api_operation(stack, name, operation, mode):
    @FUZZ
    @given(operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        call(case, stack, name, mode)

    fuzz()
