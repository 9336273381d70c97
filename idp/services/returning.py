"""The way back to the portal a self-service flow started from (seed 000 §1 and §5).

A person who clicks "Mot de passe oublié ?" or "Inscription" on a sign-in page reached from a
portal (eComms) finishes that flow on a page opened from an email, often in another tab or browser:
the IdP's pages for it keep the portal's brand and end with a link back to the portal, not on the
IdP's own account page.

What travels is only a client id, taken from the browser-bound interaction the flow started in
(never from a request parameter) and stored in the emailed link's server-side data; the way back
is then that registered client's own sign-in address (``clients.login_url``: its
``initiate_login_uri`` or its first registered post-logout URI). So nothing a request says can make
the IdP send a person anywhere a registered client did not register (no open redirect).

    client_of(uid)     the registered client of this browser's interaction, or None
    way_back(client)   (url, service name) of a registered client's sign-in, or None
"""

from __future__ import annotations

from idp.oidc import interaction as interactions
from idp.services import branding, clients

LINK_KEY = "return_client"  # the key of a link's data naming the portal the flow started from


def client_of(uid: str | None) -> str | None:
    """The client of the interaction ``uid`` when it belongs to this browser and names a registered
    client (the IdP's own sign-in names none)."""
    if not uid or len(uid) > 64:
        return None
    interaction = interactions.load(uid)
    if interaction is None or not interaction.client_id:
        return None
    return interaction.client_id if clients.get(interaction.client_id) is not None else None


def link_data(client_id: str | None) -> dict:
    return {LINK_KEY: client_id} if client_id else {}


def way_back(client_id: str | None) -> tuple[str, str] | None:
    """Where the person goes back to sign in at the portal, and the portal's name; None for no
    client, an unknown or a deleted one."""
    client = clients.get(client_id) if client_id else None
    if client is None:
        return None
    return clients.login_url(client), branding.brand_for(client).name
