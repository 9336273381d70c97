"""The help pages' questions and answers (seed 001's FAQ), grouped in sections; each section ends
with "Avez-vous trouvé la réponse à votre question ?". Kept as data so the page template stays a
loop and every sentence is in the catalogue once."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Question:
    question: object
    answer: tuple


@dataclass(frozen=True)
class Bullets:
    bullets: tuple


@dataclass(frozen=True)
class Section:
    id: str
    title: object
    questions: tuple
    links: tuple = ()


SECTIONS = (
    Section("espace", _l("Comment fonctionne mon espace personnel ?"), (
        Question(_l("Comment fonctionne mon espace personnel ?"), (
            _l("Cliquez sur « Accéder à votre espace personnel » ; une authentification via FranceConnect vous est "
               "proposée par plusieurs fournisseurs d'identité (impots.gouv.fr, ameli.fr, la Poste Identité "
               "numérique). Vous devez posséder un compte chez l'un d'eux."),)),
    )),
)
SECTION_IDS = frozenset(section.id for section in SECTIONS)
