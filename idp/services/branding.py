"""Per-client branding of the IdP's pages (as Keycloak themes and Auth0 per-application branding do).

The pages a person reaches from a portal carry that portal's name, logo, colour and help and terms
links; pages reached from nowhere (the IdP's own sign-in, the account pages) or from an unknown
client carry the IdP's neutral brand. Branding comes from the operators' registration of the client
(``config/clients.toml``, ``[<client>.branding]``) and the IdP's own defaults (``config/idp.toml``,
``[branding]``), never from a request: a client cannot make the IdP's pages show another's name.

    brand_for(client)   the brand of a registered client (its registered name at least), or neutral
    Brand.label(key)    a button's or link's words as the portal's manual names them (LABELS)
    neutral()           the IdP's own brand
    Brand.css()         the stylesheet that sets the brand's colour (served at /branding/<id>.css)
    mail_identity(id)   the name an IdP email is sent and signed in, and what it calls the account
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask_babel import gettext

from idp.services import clients
from shared.config import load_toml, public_url_of

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text: the colour carries white text and links on white
PORTALS = ("ecomms", "justice", "eservices")

# The words a portal's user manual gives some of the IdP's buttons and links, so the page says what
# the manual tells the person to click (seed 000: "Cliquez sur Reset password", "Continuer"). Each
# key has the IdP's default first, then the other wordings an operator may choose: all in the
# catalogues (idp/translations/branding), so a choice is translated like the rest of the page and
# nothing else can be shown.
LABELS = {
    "terms": ("Conditions d'utilisation", "Conditions générales d'utilisation"),
    "recovery_button": ("Envoyer le lien", "Continuer"),
    "reset_button": ("Enregistrer le mot de passe", "Reset password"),
    "activate_button": ("Activer mon compte", "Reset password"),
}
# The local time a portal's pages show in their header (seed 000: "l'heure locale de Strasbourg est
# affichée"), with its words; the IdP's pages reached from that portal show it too.
LOCAL_TIMES = {"strasbourg": "Heure locale de Strasbourg :"}


@dataclass(frozen=True)
class Brand:
    """What an IdP page shows of the service the person is signing in to."""

    key: str                  # "neutral" or the client_id
    name: str                 # the service's name (header, title, sign-in heading)
    account: str              # what the person's account is called there ("ECHR Services")
    colour: str               # #rrggbb, at least 4.5:1 against white
    logo: str | None = None   # a file under shared/static/ (CSP: images from the IdP itself only)
    help_url: str | None = None
    terms_url: str | None = None
    home_url: str | None = None
    federation_first: bool = False  # the FranceConnect-style choice is the way in (no password form)
    registration_path: str = "/registration"  # the IdP's form where this portal's people create an account
    labels: tuple[tuple[str, str], ...] = ()  # LABELS key → the chosen wording's message id
    local_time: str | None = None   # a LOCAL_TIMES key: the header shows that time

    def label(self, key: str):
        """The words of a button or link: the portal's manual's when configured, else the IdP's."""
        return gettext(dict(self.labels).get(key, LABELS[key][0]))  # noqa: INT001 - a message id of LABELS

    @property
    def local_time_label(self) -> str | None:
        return gettext(LOCAL_TIMES[self.local_time]) if self.local_time else None  # noqa: INT001 - LOCAL_TIMES

    @property
    def neutral(self) -> bool:
        return self.key == "neutral"

    def css(self) -> str:
        return f":root {{ --brand: {self.colour}; --brand-ink: #ffffff; }}\n"


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def check_colour(colour: str, where: str) -> str:
    """A brand colour the pages can use: ``#rrggbb`` that white text on it (and it on white) reads."""
    if not HEX_COLOUR.match(colour or ""):
        raise ValueError(f"{where}: colour {colour!r} is not #rrggbb")
    if contrast_with_white(colour) < MIN_CONTRAST:
        raise ValueError(f"{where}: colour {colour} has a contrast of {contrast_with_white(colour):.2f}:1 with "
                         f"white, below {MIN_CONTRAST}:1 (WCAG AA)")
    return colour.lower()


def _check_logo(logo: str | None, where: str) -> str | None:
    if logo is None:
        return None
    if not re.match(r"^[a-z0-9_-]+(/[a-z0-9_.-]+)*\.(svg|png)$", logo) or ".." in logo:
        raise ValueError(f"{where}: logo {logo!r} must be a .svg or .png file under shared/static/")
    return logo


def _check_path(path: str | None, where: str) -> str:
    """The sign-in page's "Inscription": a page of the IdP itself (never another site)."""
    if path is None:
        return "/registration"
    if not re.match(r"^/[a-z0-9_-]+(/[a-z0-9_-]+)*$", path):
        raise ValueError(f"{where}: registration_path {path!r} must be a path of the IdP, such as /registration")
    return path


def _check_labels(labels: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(labels, dict):
        raise ValueError(f"{where}: labels must be a table")
    for key, text in labels.items():
        choices = list(LABELS.get(key, ()))
        if text not in choices:
            raise ValueError(f"{where}: label {key} = {text!r} is not one of {choices or sorted(LABELS)}")
    return tuple(sorted(labels.items()))


def _check_local_time(zone: str | None, where: str) -> str | None:
    if zone is not None and zone not in LOCAL_TIMES:
        raise ValueError(f"{where}: local_time {zone!r} is not one of {sorted(LOCAL_TIMES)}")
    return zone


def _check_url(url: str | None, where: str) -> str | None:
    if url is not None and not re.match(r"^https?://[^\s\"'<>]+$", url):
        raise ValueError(f"{where}: {url!r} is not an absolute http(s) URL")
    return url


@lru_cache(maxsize=1)
def _public_urls() -> dict[str, str]:
    return {name: public_url_of(name) for name in PORTALS}


def _expand(value: str | None) -> str | None:
    if value is None:
        return None
    for key, url in _public_urls().items():
        value = value.replace("{" + key + "}", url)
    return value


def _brand(key: str, entry: dict[str, Any], name: str, fallback: Brand | None) -> Brand:
    where = f"branding of {key}"
    return Brand(
        key=key,
        name=str(entry.get("name") or name),
        account=str(entry.get("account") or (fallback.account if fallback else name)),
        colour=check_colour(entry["colour"], where) if "colour" in entry else (fallback.colour if fallback else "#000091"),
        logo=_check_logo(entry.get("logo"), where) if "logo" in entry else (fallback.logo if fallback else None),
        help_url=_check_url(_expand(entry.get("help_url")), where),
        terms_url=_check_url(_expand(entry.get("terms_url")), where),
        home_url=_check_url(_expand(entry.get("home_url")), where),
        federation_first=bool(entry.get("federation_first", False)),
        registration_path=_check_path(entry.get("registration_path"), where),
        labels=_check_labels(entry.get("labels", {}), where),
        local_time=_check_local_time(entry.get("local_time"), where),
    )


@lru_cache(maxsize=1)
def neutral() -> Brand:
    entry = dict(load_toml("idp.toml").get("branding", {}))
    return _brand("neutral", entry, entry.get("name", "Civic ID"), None)


@lru_cache(maxsize=1)
def registered() -> dict[str, dict[str, Any]]:
    """client_id → its ``branding`` table in config/clients.toml (checked once, at first use)."""
    found = {}
    for key, entry in load_toml("clients.toml").items():
        if isinstance(entry, dict) and isinstance(entry.get("branding"), dict):
            client_id = entry.get("client_id", key)
            _brand(client_id, entry["branding"], entry.get("name", key), neutral())  # fail fast on a bad entry
            found[client_id] = entry["branding"]
    return found


def brand_for(client) -> Brand:
    """The brand of a registered client: its registered name, with its configured look if any; an
    absent or unknown client gets the IdP's neutral brand."""
    if client is None:
        return neutral()
    return _brand(client.client_id, registered().get(client.client_id, {}), client.name, neutral())


@dataclass(frozen=True)
class MailIdentity:
    name: str     # the sender's display name and the signature: the portal the flow started from
    account: str  # what the email calls the person's account


def mail_identity(client_id: str | None) -> MailIdentity:
    """Who an IdP email speaks for: the portal ``client_id`` names (its brand), else the IdP's own.
    A portal whose way in is the FranceConnect-style choice calls its account after the upstream
    provider ("FranceConnect"); an email about an account held here names it as the IdP does."""
    brand = brand_for(clients.get(client_id)) if client_id else neutral()
    return MailIdentity(name=brand.name, account=neutral().account if brand.federation_first else brand.account)


def styled(key: str) -> Brand | None:
    """The brand a stylesheet URL names: the neutral one or a configured client's (colours only)."""
    if key == "neutral":
        return neutral()
    entry = registered().get(key)
    return _brand(key, entry, key, neutral()) if entry is not None else None


def stylesheet_key(brand: Brand) -> str:
    return brand.key if brand.key in registered() else "neutral"


def check_configuration() -> None:
    """Every configured brand is usable (colours readable, logos local, links absolute)."""
    neutral()
    registered()
