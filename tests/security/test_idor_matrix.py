"""Insecure direct object references across the three portals, in one place.

For each portal an OWNER gets real objects (eComms: an application with a deposited document and a
staged upload; justice: an attached case with a document; e-services: a démarche of the owner's
organisation, behind the e-service page). Then every rule of the app's ``url_map`` that takes URL
variables is requested by other signed-in people (INTRUDERS) with the OWNER's ids — GET for GET
rules, POST/PUT with a valid CSRF token of the intruder's own session, so CSRF is not what refuses
it. It proves that:

* each such request is refused with 403 or 404 (401 on the bearer-token court API, where a cookie
  session is no credential at all): never 2xx, never a redirect after doing the action, and the
  answer never shows the owner's data;
* nothing of the owner's data changed after each request;
* the owner gets 200 on every exercised GET rule with the same ids (the ids are the right ones);
* a rule with URL variables that is neither exercised nor in the commented exemption list fails
  the test, so a route added later without an ownership check is caught (and a self-test shows a
  new route that forgets the check is reported).
"""

from __future__ import annotations

import importlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from shared.rp.testing import sign_in
from shared.timeutil import utcnow
from tests.portals.ecomms.conftest import make_pdf, stored_files
from tests.portals.justice.conftest import make_case, outbox
from tests.portals.justice.test_space import add

# Rules with URL variables that name no object anybody owns. Adding a rule here needs a reason.
COMMON_EXEMPT = {
    "static": "the portal's own static files: <filename> is a public asset path",
    "frame.static": "the shared frame's static files (/shared-static/<filename>): public assets",
    "frame.switch_language": "language switch: <code> is fr/en, only sets the language cookie",
}
PORTAL_EXEMPT: dict[str, dict[str, str]] = {
    # /receipts/verify (public receipt verification) and /.well-known/jwks.json take no URL variable.
    "ecomms": {
        "ecomms.close": "the registry's closing page: 403 to every applicant, the application's own included "
                        "(tests/portals/ecomms/test_closing.py)",
        "ecomms.people": "the registry's page of an application's people: 403 to every applicant and representative, "
                         "their own application's included (tests/portals/ecomms/test_registry_people.py)",
        "ecomms.application_zip": "the registry's ZIP of an application: 403 to every applicant and representative, "
                                  "their own application's included (tests/portals/ecomms/test_registry_queue.py)",
    },
    "justice": {
        "justice.calendar_feed": "a capability URL: the secret <token> is the authority (a calendar app holds no "
                                 "session); unknown and revoked tokens answer 404 (tests/portals/justice/"
                                 "test_court_feed.py)",
    },
    # /e-services/<eservice_id> is exercised, not exempt: the id is a catalogue key, and the owned
    # objects behind it are the owner organisation's démarches.
    "eservices": {},
}
# Blueprints authenticated by a bearer access token, never by the session cookie: their rules are
# exercised too, and 401 (no credential) is an acceptable refusal there.
BEARER_BLUEPRINTS = {"court_api": "court systems' feed, client credentials with scope court_feed"}
REFUSED = {403, 404}
METHODS_IGNORED = {"HEAD", "OPTIONS"}


@dataclass
class Scene:
    """One portal with an owner's objects and the people who must not reach them."""

    app: Flask
    owner: FlaskClient
    intruders: dict[str, FlaskClient]
    ids: dict[str, str]  # URL variable -> the owner's object id
    state: Callable[[], Any]  # everything of the owner's that a request could change
    marker: str  # text only the owner's pages show (must never appear in an intruder's answer)
    main_page: str  # the owner's main page, which shows ``marker``
    bodies: dict[tuple[str, str], Callable[[str], dict[str, Any]]] = field(default_factory=dict)


def build_app(name: str, tmp_path: Path, before_use: Callable[[Flask], None] | None = None) -> Flask:
    """The portal on its own migrated SQLite database and fakeredis, as tests/security/test_web_matrix does."""
    module = importlib.import_module(f"portals.{name}")
    folder = tmp_path / name
    folder.mkdir()
    url = f"sqlite:///{folder / 'db.sqlite'}"
    module.upgrade_database(url)
    app = module.create_app({"database_url": url, "instance_path": folder, "_quiet": True,
                             "raw": {"outbox": {"manual": True}}})
    if before_use:
        before_use(app)
    return app


def csrf_of(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    return unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))


def person(app: Flask, sub: str, **claims: Any) -> FlaskClient:
    client = app.test_client()
    sign_in(client, sub=sub, claims={"email": f"{sub}@example.org", "name": sub, **claims})
    return client


def form(token: str, **fields: Any) -> dict[str, Any]:
    return {"data": {"csrf_token": token, **fields}, "headers": {"X-CSRFToken": token}}


def pdf_form(token: str, **fields: Any) -> dict[str, Any]:
    request = form(token, file_1=(io.BytesIO(make_pdf("intruder")), "Intrusion.pdf"), type_1="letter", **fields)
    return {**request, "content_type": "multipart/form-data"}


# -- eComms ----------------------------------------------------------------------------------------

def ecomms_scene(tmp_path: Path, before_use: Callable[[Flask], None] | None = None) -> Scene:
    from portals.ecomms.models import Application, Document, OutboxMessage

    app = build_app("ecomms", tmp_path, before_use)
    with app.extensions["db"].session() as session:
        session.add(Application(id="owner-app", number="123/16", title="Owner c. Etat",
                                applicant_email="o@example.org", applicant_sub="owner", created_by="registry"))
        session.add(Application(id="intruder-app", number="77/21", title="Intruder c. Etat",
                                applicant_email="i@example.org", applicant_sub="intruder", created_by="registry"))
    owner = person(app, "owner")
    token = csrf_of(owner)
    sent = owner.post("/applications/owner-app/send", content_type="multipart/form-data", data={
        "csrf_token": token, "confirm": "yes", "file_1": (io.BytesIO(make_pdf("owner")), "Observations.pdf"),
        "type_1": "observations"})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    staged = owner.post("/applications/owner-app/uploads", data=make_pdf("staged"), headers={
        "X-CSRFToken": token, "X-File-Name": "Annexe.pdf", "Content-Type": "application/pdf"})
    assert staged.status_code == 201
    upload_key = f"ecomms:upload:{staged.get_json()['id']}"
    with app.extensions["db"].session() as session:
        document_id = session.scalars(select(Document.id)).one()
        party_id = session.get(Application, "owner-app").applicant.id  # the owner's attachment

    def state() -> Any:
        with app.extensions["db"].session() as session:
            applications = sorted((a.id, a.status, a.title, a.closed_at,
                                   sorted((p.id, p.email, p.sub, p.role, p.detached_at) for p in a.parties))
                                  for a in session.scalars(select(Application)))
            documents = sorted((d.id, d.application_id, d.direction, d.stored_name, d.sha256, d.sender_sub)
                               for d in session.scalars(select(Document)))
            mails = len(list(session.scalars(select(OutboxMessage.id))))
        with app.app_context():
            staged_upload = app.extensions["redis"].get(upload_key)
            uploads = sorted(app.extensions["redis"].keys("ecomms:upload:*"))
        return applications, documents, mails, stored_files(app), staged_upload, uploads

    return Scene(
        app=app, owner=owner,
        intruders={
            "another applicant": person(app, "intruder"),  # has an application of their own
            "a signed-in stranger": person(app, "stranger"),  # no application at all
        },
        ids={"application_id": "owner-app", "document_id": document_id, "upload_id": staged.get_json()["id"],
             "party_id": party_id},
        state=state, marker="Owner c. Etat", main_page="/applications/owner-app",
        bodies={
            ("ecomms.send", "POST"): lambda token: pdf_form(token, confirm="yes"),
            ("ecomms.court_sends", "POST"): pdf_form,
            ("ecomms.upload", "POST"): lambda token: {"data": make_pdf("intruder"), "headers": {
                "X-CSRFToken": token, "X-File-Name": "Intrusion.pdf", "Content-Type": "application/pdf"}},
        })


# -- justice ---------------------------------------------------------------------------------------

def justice_scene(tmp_path: Path, before_use: Callable[[Flask], None] | None = None) -> Scene:
    from portals.justice.models import Attachment, Case, Event, OutboxMessage, Party, PersonSettings

    app = build_app("justice", tmp_path, before_use)
    numbers = make_case(app, "RG-24-00001", document_days_ago=1, hearing_in_days=10,
                        parties=(("Demandeur", "DUBOIS", "Angela"), ("Défendeur", "ADVERSE", "Société")))
    [other_number] = make_case(app, "RG-24-00002", parties=(("Demandeur", "MARTIN", "Paul"),)).values()
    owner = person(app, "owner", given_name="Angela", family_name="DUBOIS")
    add(owner, app, numbers["Angela DUBOIS Demandeur"])
    co_party = person(app, "co-party", given_name="Société", family_name="ADVERSE")
    add(co_party, app, numbers["Société ADVERSE Défendeur"])
    other = person(app, "other-citizen", given_name="Paul", family_name="MARTIN")
    add(other, app, other_number)
    with app.extensions["db"].session() as session:
        attachment = session.scalars(select(Attachment).where(Attachment.sub == "owner")).one()
        cancelled = Event(case_id=attachment.party.case_id, kind="hearing", label="Audience annulée",
                          at=utcnow() + timedelta(days=20), status="cancelled", sequence=1)
        session.add(cancelled)
        session.flush()
        ids = {"attachment_id": attachment.id, "party_id": attachment.party_id,
               "event_id": next(e.id for e in attachment.party.case.events if e.kind == "document"),
               "hearing_id": cancelled.id,
               "reference": attachment.party.case.reference}

    def state() -> Any:
        with app.extensions["db"].session() as session:
            return (
                sorted((a.id, a.sub, a.party_id, a.alerts, a.detached_at) for a in session.scalars(select(Attachment))),
                sorted((p.id, p.case_id, p.consent_at, p.access_cut, p.identification_hash)
                       for p in session.scalars(select(Party))),
                sorted((c.id, c.state, c.state_label, c.updating, c.ended_at)
                       for c in session.scalars(select(Case))),
                sorted((e.id, e.case_id, e.kind, e.label, e.at) for e in session.scalars(select(Event))),
                sorted((s.sub, s.alerts) for s in session.scalars(select(PersonSettings))),
                len(list(session.scalars(select(OutboxMessage.id)))),
            )

    assert len(outbox(app, "sms")) == 3  # the three attachments went through the SMS code
    return Scene(
        app=app, owner=owner,
        intruders={
            "another citizen": other,  # has a case of their own
            "the other party of the same case": co_party,  # sees the case, through their own attachment only
            "a signed-in stranger": person(app, "stranger"),  # nothing attached
        },
        ids=ids, state=state, marker="RG-24-00001", main_page=f"/cases/{ids['attachment_id']}",
        bodies={
            ("court_api.put_case", "PUT"): lambda token: {"json": {"state": "finished", "state_label": "Clos"}},
            ("court_api.post_party", "POST"): lambda token: {"json": {"role": "Tiers", "last_name": "INTRUS"}},
            ("court_api.post_event", "POST"): lambda token: {"json": {"kind": "event", "label": "Intrusion",
                                                                       "at": "2030-01-01T10:00:00+01:00"}},
            ("court_api.post_consent", "POST"): lambda token: {"json": {}},
            ("court_api.post_access_cut", "POST"): lambda token: {"json": {}},
            ("court_api.close_case", "POST"): lambda token: {"json": {}},
        })


# -- e-services ------------------------------------------------------------------------------------

OWNER_ORG = {"id": "org-owner", "name": "Mairie de Lièpvre"}
OTHER_ORG = {"id": "org-other", "name": "Mairie de Sélestat"}


def fake_idp(app: Flask, answers: dict[tuple[str, str], dict[str, Any]]) -> None:
    """The IdP's answer (GET /api/management/acting-for), per (sub, organisation the session acts
    for), asked at every request (no cache): the portal's own rules decide what follows."""
    app.config["PERMISSION_CACHE_SECONDS"] = 0
    app.extensions["eservices_permissions"]._ask = lambda principal: answers.get(
        (principal.sub, (principal.claims.get("org") or {}).get("id")),
        {"org": None, "active": False, "org_role": None, "eservices": []})


def member(app: Flask, answers: dict, sub: str, organisation: dict | None, role: str = "user",
           eservices: tuple[str, ...] = ()) -> FlaskClient:
    if organisation is None:
        return person(app, sub)
    answers[(sub, organisation["id"])] = {"org": organisation, "active": True, "org_role": role,
                                          "eservices": list(eservices), "organisations": 1}
    return person(app, sub, org=organisation, org_role=role, eservices=list(eservices))


def demarches_of(app: Flask) -> list[tuple]:
    from portals.eservices.models import Demarche

    with app.extensions["db"].session() as session:
        return sorted((d.id, d.organisation_id, d.eservice_id, d.sub, d.title, d.details)
                      for d in session.scalars(select(Demarche)))


def civil_act(family_name: str) -> dict[str, str]:
    """The fields of the civil-registration e-service's form (its record is named by the family name)."""
    return {"operation": "transmission", "act_type": "naissance", "family_name": family_name, "given_names": "Léa",
            "act_date": "2026-01-02", "act_place": "Lièpvre"}


def eservices_scene(tmp_path: Path, before_use: Callable[[Flask], None] | None = None) -> Scene:
    from portals.eservices.models import OutboxMessage, SupportRequest

    app = build_app("eservices", tmp_path, before_use)
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    fake_idp(app, answers)
    owner = member(app, answers, "owner", OWNER_ORG, eservices=("etat-civil",))
    created = owner.post("/e-services/etat-civil", data={"csrf_token": csrf_of(owner), **civil_act("Acte de naissance Léa")})
    assert created.status_code == 302, created.get_data(as_text=True)
    assert len(demarches_of(app)) == 1
    reference = created.headers["Location"].rsplit("/", 1)[1]

    def state() -> Any:
        with app.extensions["db"].session() as session:
            requests = sorted((s.reference, s.sub) for s in session.scalars(select(SupportRequest)))
            mails = len(list(session.scalars(select(OutboxMessage.id))))
        return demarches_of(app), requests, mails

    return Scene(
        app=app, owner=owner,
        intruders={
            # the other organisation has not subscribed to the owner's e-service
            "an administrator of another organisation": member(app, answers, "other-admin", OTHER_ORG,
                                                               role="administrator"),
            "a user of another organisation": member(app, answers, "other-user", OTHER_ORG,
                                                     eservices=("listes-electorales",)),
            "a colleague without the grant": member(app, answers, "colleague", OWNER_ORG,
                                                    eservices=("listes-electorales",)),
            "a signed-in person acting for no organisation": member(app, answers, "nobody", None),
        },
        ids={"eservice_id": "etat-civil", "reference": reference},
        state=state, marker="Acte de naissance Léa", main_page="/e-services/etat-civil",
        bodies={("eservices.eservice", "POST"): lambda token: form(token, **civil_act("Intrusion"))})


SCENES: dict[str, Callable[..., Scene]] = {"ecomms": ecomms_scene, "justice": justice_scene,
                                           "eservices": eservices_scene}


# -- the matrix ------------------------------------------------------------------------------------

def rules_with_variables(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.arguments), key=lambda r: (r.rule, r.endpoint))


def exemptions(portal: str) -> dict[str, str]:
    return {**COMMON_EXEMPT, **PORTAL_EXEMPT[portal]}


def uncovered(portal: str, scene: Scene) -> list[str]:
    """Rules with variables that are neither exempt nor fillable with the owner's ids."""
    exempt = exemptions(portal)
    return [f"{rule.rule} ({rule.endpoint}): no owner id for {sorted(set(rule.arguments) - set(scene.ids))}"
            for rule in rules_with_variables(scene.app)
            if rule.endpoint not in exempt and set(rule.arguments) - set(scene.ids)]


def exercised_rules(portal: str, scene: Scene) -> list[Rule]:
    exempt = exemptions(portal)
    return [r for r in rules_with_variables(scene.app)
            if r.endpoint not in exempt and set(r.arguments) <= set(scene.ids)]


def methods(rule: Rule) -> list[str]:
    return sorted(set(rule.methods or ()) - METHODS_IGNORED)


def path_for(app: Flask, rule: Rule, ids: dict[str, str], method: str) -> str:
    """The rule's path with the owner's ids, checked to route to this very rule (not a routing 404)."""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: quote(ids[m.group(1)], safe=""), rule.rule)
    endpoint, values = app.url_map.bind("localhost").match(path, method=method)
    assert endpoint == rule.endpoint and values == {k: ids[k] for k in rule.arguments}, (path, endpoint, values)
    return path


def request_for(scene: Scene, rule: Rule, method: str, token: str) -> dict[str, Any]:
    body = scene.bodies.get((rule.endpoint, method))
    if body:
        return body(token)
    return {} if method == "GET" else form(token)


def walk(portal: str, scene: Scene) -> tuple[list[str], int]:
    """Every exercised rule and method, as every intruder; the failures and how many requests were made."""
    failures, count = [], 0
    for who, client in scene.intruders.items():
        token = csrf_of(client)
        for rule in exercised_rules(portal, scene):
            accepted = REFUSED | ({401} if rule.endpoint.split(".")[0] in BEARER_BLUEPRINTS else set())
            for method in methods(rule):
                path = path_for(scene.app, rule, scene.ids, method)
                before = scene.state()
                answer = client.open(path, method=method, **request_for(scene, rule, method, token))
                count += 1
                where = f"{portal}: {method} {rule.rule} ({rule.endpoint}) as {who}"
                if answer.status_code not in accepted:
                    failures.append(f"{where} answered {answer.status_code} {answer.headers.get('Location', '')}")
                elif scene.marker in answer.get_data(as_text=True):
                    failures.append(f"{where} refused but showed the owner's data")
                if scene.state() != before:
                    failures.append(f"{where} changed the owner's data")
    return failures, count


def check_owner_sees(portal: str, scene: Scene) -> int:
    """The owner gets 200 on every exercised GET rule with the same ids; their main page shows their data."""
    seen = 0
    for rule in exercised_rules(portal, scene):
        if "GET" in methods(rule):
            answer = scene.owner.get(path_for(scene.app, rule, scene.ids, "GET"))
            assert answer.status_code == 200, f"{portal}: the owner gets {answer.status_code} on {rule.rule}"
            seen += 1
    assert scene.marker in scene.owner.get(scene.main_page).get_data(as_text=True), portal
    return seen


@pytest.mark.parametrize("portal", list(SCENES))
def test_nobody_reaches_the_owners_objects_by_their_ids(portal: str, tmp_path: Path) -> None:
    scene = SCENES[portal](tmp_path)
    endpoints = {r.endpoint for r in scene.app.url_map.iter_rules()}
    stale = sorted(set(exemptions(portal)) - endpoints)
    assert not stale, f"{portal}: exemptions for rules that no longer exist: {stale}"
    missing = uncovered(portal, scene)
    assert not missing, f"{portal}: rules with URL variables neither exercised nor exempted: {missing}"
    assert check_owner_sees(portal, scene) >= 1
    failures, count = walk(portal, scene)
    assert not failures, "\n".join(failures)
    assert count >= len(scene.intruders) * len(exercised_rules(portal, scene))
    check_owner_sees(portal, scene)  # and still does, with everything as it was


def test_a_new_route_that_forgets_the_ownership_check_is_caught(tmp_path: Path) -> None:
    """The matrix's own guard: a route with a known variable but no check fails the walk, and a
    route with a variable nobody declared fails the coverage check."""
    from portals.ecomms.models import Application

    def forgetful_routes(app: Flask) -> None:
        def title(application_id: str) -> str:
            with app.extensions["db"].session() as session:
                return session.get(Application, application_id).title

        app.add_url_rule("/applications/<application_id>/title", "forgetful_title", title)
        app.add_url_rule("/parcels/<parcel_id>", "parcel", lambda parcel_id: parcel_id)

    scene = ecomms_scene(tmp_path, forgetful_routes)
    assert uncovered("ecomms", scene) == ["/parcels/<parcel_id> (parcel): no owner id for ['parcel_id']"]
    failures, _count = walk("ecomms", scene)
    assert failures and all("/applications/<application_id>/title" in f for f in failures), failures
    assert len(failures) == len(scene.intruders) and all("answered 200" in f for f in failures), failures


def test_another_organisation_with_the_same_eservice_sees_and_writes_only_its_own(tmp_path: Path) -> None:
    """/e-services/<eservice_id> names no organisation: the organisation is the signed token's. An
    administrator of another organisation that uses the same e-service gets their own page, never
    the owner organisation's démarches, and what they create is their organisation's."""
    app = build_app("eservices", tmp_path)
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    fake_idp(app, answers)
    owner = member(app, answers, "owner", OWNER_ORG, eservices=("etat-civil",))
    owner.post("/e-services/etat-civil", data={"csrf_token": csrf_of(owner), **civil_act("Acte de naissance Léa")})
    other = member(app, answers, "other-admin", OTHER_ORG, role="administrator", eservices=("etat-civil",))
    page = other.get("/e-services/etat-civil")
    assert page.status_code == 200 and "Acte de naissance Léa" not in page.get_data(as_text=True)
    created = other.post("/e-services/etat-civil", data={"csrf_token": csrf_of(other), **civil_act("DURAND Paulette")})
    assert created.status_code == 302
    assert {(row[1], row[4]) for row in demarches_of(app)} == {("org-owner", "Acte de naissance Léa"),
                                                                 ("org-other", "DURAND Paulette")}
    assert "DURAND Paulette" not in owner.get("/e-services/etat-civil").get_data(as_text=True)
