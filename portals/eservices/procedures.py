"""What each e-service of the catalogue asks (its own fields), and the check of one submission.

One table per e-service (``PROCEDURES``): the fields of its form in order, which two of them the
organisation's list shows, and the prefix of its records' references (``EC-2026-4F3A9C``). A
submission is checked whole against its e-service's table: each field gets one error code
(``required``, ``too_long``, ``choice``, ``date``, ``future``, ``past``, ``amount``, ``format``) or
its cleaned value; nothing is stored unless every field is right. The wording of labels and errors
lives here too (lazy, so each request speaks its own language).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

FORBIDDEN = ("Cc", "Cf", "Zl", "Zp")


@dataclass(frozen=True)
class Field:
    name: str
    label: object                    # lazy string
    kind: str = "text"               # text, textarea, choice, date, amount
    required: bool = True
    choices: tuple[tuple[str, object], ...] = ()
    max_length: int = 200
    hint: object | None = None
    when: str | None = None          # dates: "past" (today or before) or "future" (after today)
    pattern: str | None = None       # text: a format the value must match (after upper-casing)
    maximum: int = 100_000_000       # amounts, in whole euros

    def label_of(self, value: str) -> str:
        return str(dict(self.choices).get(value, value))


@dataclass(frozen=True)
class Procedure:
    eservice_id: str
    prefix: str
    intro: object
    fields: tuple[Field, ...]
    listed: tuple[str, ...]          # the two fields the organisation's list shows
    summary: str = field(default="")  # the field whose value names a record

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


PROCEDURES: dict[str, Procedure] = {p.eservice_id: p for p in (
    Procedure("etat-civil", "EC", _l("Transmettez un acte de naissance, de mariage ou de décès à un autre service, ou "
                                    "demandez la vérification d'un acte reçu."), (
        Field("operation", _l("Démarche"), "choice", choices=(("transmission", _l("Transmettre un acte")),
                                                            ("verification", _l("Faire vérifier un acte")))),
        Field("act_type", _l("Type d'acte"), "choice", choices=(("naissance", _l("Acte de naissance")),
                                                              ("mariage", _l("Acte de mariage")),
                                                              ("deces", _l("Acte de décès")))),
        Field("family_name", _l("Nom de la personne concernée")),
        Field("given_names", _l("Prénoms de la personne concernée")),
        Field("act_date", _l("Date de l'acte"), "date", when="past"),
        Field("act_place", _l("Commune où l'acte a été dressé")),
        Field("act_number", _l("Numéro de l'acte"), required=False, max_length=20, hint=_l("Facultatif")),
    ), listed=("act_type", "family_name"), summary="family_name"),
    Procedure("listes-electorales", "LE", _l("Signalez une inscription ou une radiation sur la liste électorale de "
                                            "la commune."), (
        Field("movement", _l("Mouvement"), "choice", choices=(("inscription", _l("Inscription")),
                                                            ("radiation", _l("Radiation")))),
        Field("family_name", _l("Nom de l'électeur")),
        Field("given_names", _l("Prénoms de l'électeur")),
        Field("birth_date", _l("Date de naissance"), "date", when="past"),
        Field("reason", _l("Motif"), "choice", choices=(("arrivee", _l("Arrivée dans la commune")),
                                                      ("majorite", _l("Majorité (inscription d'office)")),
                                                      ("depart", _l("Départ de la commune")),
                                                      ("deces", _l("Décès")),
                                                      ("decision", _l("Décision de justice")))),
    ), listed=("movement", "family_name"), summary="family_name"),
    Procedure("subventions", "SU", _l("Déposez une demande de subvention pour un projet de l'organisation ; elle "
                                     "est ensuite instruite par le financeur."), (
        Field("project", _l("Intitulé du projet")),
        Field("amount", _l("Montant demandé (euros)"), "amount", hint=_l("En euros, sans centimes : 15000")),
        Field("start_date", _l("Date de début du projet"), "date"),
        Field("description", _l("Description du projet"), "textarea", max_length=5000),
    ), listed=("project", "amount"), summary="project"),
    Procedure("urbanisme", "UR", _l("Enregistrez une demande de permis ou une déclaration préalable reçue en "
                                   "mairie, pour son instruction."), (
        Field("request_type", _l("Type de demande"), "choice", choices=(("pc", _l("Permis de construire")),
                                                                     ("dp", _l("Déclaration préalable")),
                                                                     ("pa", _l("Permis d'aménager")),
                                                                     ("pd", _l("Permis de démolir")))),
        Field("applicant", _l("Nom du demandeur")),
        Field("site_address", _l("Adresse du terrain")),
        Field("parcel", _l("Référence cadastrale"), max_length=12, pattern=r"^[0-9]{0,3} ?[A-Z]{1,2} ?[0-9]{1,4}$",
              hint=_l("Section et numéro de parcelle, par exemple AB 123")),
        Field("filed_on", _l("Date de dépôt en mairie"), "date", when="past"),
    ), listed=("request_type", "applicant"), summary="applicant"),
    Procedure("marches-publics", "MP", _l("Publiez une consultation : son objet, sa procédure et la date limite de "
                                         "remise des offres."), (
        Field("subject", _l("Objet de la consultation")),
        Field("procedure", _l("Procédure"), "choice", choices=(("adaptee", _l("Procédure adaptée")),
                                                             ("ouvert", _l("Appel d'offres ouvert")),
                                                             ("restreint", _l("Appel d'offres restreint")))),
        Field("deadline", _l("Date limite de remise des offres"), "date", when="future"),
        Field("estimate", _l("Montant estimé hors taxes (euros)"), "amount", required=False, hint=_l("Facultatif")),
    ), listed=("subject", "deadline"), summary="subject"),
)}


def messages() -> dict[str, object]:
    return {"required": _l("ce champ est obligatoire."), "too_long": _l("ce champ est trop long."),
            "control": _l("ce champ tient sur une seule ligne, sans caractères invisibles ou de contrôle."),
            "choice": _l("choisissez une des possibilités proposées."),
            "date": _l("indiquez une date valide (jour, mois et année)."),
            "past": _l("cette date ne peut pas être dans le futur."),
            "future": _l("cette date doit être postérieure à aujourd'hui."),
            "amount": _l("indiquez un montant en euros, un nombre entier positif (sans centimes)."),
            "format": _l("le format n'est pas celui attendu : voir l'exemple.")}


def _clean(value: str | None, multiline: bool) -> str:
    value = unicodedata.normalize("NFC", value or "").strip()
    return value.replace("\r\n", "\n") if multiline else value


def check_value(spec: Field, raw: str | None, today: date) -> tuple[str | None, str]:
    """(error code or None, cleaned value) for one field."""
    value = _clean(raw, spec.kind == "textarea")
    if not value:
        return ("required" if spec.required else None), ""
    forbidden = [c for c in value if unicodedata.category(c) in FORBIDDEN and not (spec.kind == "textarea" and c == "\n")]
    if forbidden:
        return "control", value
    if len(value) > spec.max_length:
        return "too_long", value
    if spec.kind == "choice":
        return (None if value in dict(spec.choices) else "choice"), value
    if spec.kind == "date":
        try:
            moment = date.fromisoformat(value)
        except ValueError:
            return "date", value
        if spec.when == "past" and moment > today:
            return "past", value
        if spec.when == "future" and moment <= today:
            return "future", value
        return None, moment.isoformat()
    if spec.kind == "amount":
        digits = value.replace(" ", "").replace("\u202f", "").replace("\xa0", "")
        if not digits.isdigit() or not 0 < int(digits) <= spec.maximum:
            return "amount", value
        return None, str(int(digits))
    if spec.pattern:
        value = " ".join(value.upper().split())
        if not re.match(spec.pattern, value):
            return "format", value
    return None, value


def check(procedure: Procedure, form: dict[str, str], today: date) -> tuple[dict[str, str], dict[str, str]]:
    """(field → error code, field → cleaned value) for a whole submission."""
    errors, values = {}, {}
    for spec in procedure.fields:
        code, value = check_value(spec, form.get(spec.name), today)
        values[spec.name] = value
        if code:
            errors[spec.name] = code
    return errors, values


def shown(procedure: Procedure, name: str, value: str, locale: str) -> str:
    """A stored value as the pages show it: the label of a choice, a date as dd/mm/yyyy, an amount with €."""
    spec = procedure.field(name)
    if not value:
        return "—"
    if spec.kind == "choice":
        return spec.label_of(value)
    if spec.kind == "date":
        moment = date.fromisoformat(value)
        return moment.isoformat() if locale == "en" else moment.strftime("%d/%m/%Y")
    if spec.kind == "amount":
        return (f"€{int(value):,}" if locale == "en" else f"{int(value):,} €".replace(",", "\u202f"))
    return value
