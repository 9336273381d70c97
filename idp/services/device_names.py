"""What the account page says about a device and a place, from what the IdP saw: a readable name
from the browser's User-Agent (ua-parser, the Browserscope rules) and the network an address
belongs to. There is no geolocation database here, so the place is the address's network
(IPv4 /24, IPv6 /48), never a guessed town; an address we do not know is said to be unknown."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from flask_babel import gettext as _
from ua_parser import parse


@lru_cache(maxsize=512)
def _parsed(user_agent: str) -> tuple[str | None, str | None, str | None]:
    result = parse(user_agent[:500])
    browser = result.user_agent.family.removeprefix("Headless") if result.user_agent else None
    if browser and result.user_agent.major:
        browser = f"{browser} {result.user_agent.major}"
    system = result.os.family if result.os else None
    if system and result.os.major:
        system = f"{system} {result.os.major}"
    device = result.device.family if result.device and result.device.family not in ("Other", "Spider") else None
    return browser, system, device


def device_name(user_agent: str) -> str:
    """e.g. "Chrome 156 sur Linux", "Mobile Safari 17 sur iOS 17 (iPhone)", or "Appareil inconnu"."""
    browser, system, device = _parsed(user_agent or "")
    if not browser and not system:
        return _("Appareil inconnu")
    name = _("%(browser)s sur %(system)s", browser=browser, system=system) if browser and system \
        else (browser or system)
    return f"{name} ({device})" if device and device not in name else name


def network_of(ip: str | None) -> str:
    """The address's network, honestly approximate: "réseau 192.0.2.0/24", "ce poste (boucle locale)"."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return _("inconnu")
    if address.is_loopback:
        return _("cet ordinateur (boucle locale)")
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    if address.is_private:
        return _("réseau privé %(network)s", network=network)
    return _("réseau %(network)s", network=network)
