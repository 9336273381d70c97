"""Signing keys: generated on first start into ``keys/idp/``, rotated by ``idp keys rotate``.

One active key per algorithm (RS256, ES256) signs; every non-retired key is published in the
JWKS so tokens signed before a rotation still verify. State lives in ``keys/idp/state.json``
and is re-read when it changes, so a rotation by the CLI reaches running processes.

A rotation in two steps (the operators' console): ``publish_next`` adds a new key per algorithm
to the JWKS without signing with it; ``activate_next`` makes them sign once they have been
published for ``publish_before_use`` seconds (the JWKS's cache lifetime), so no client meets a
token whose key its cached JWKS does not hold yet. ``rotate`` (the CLI) does both at once.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import ECKey, KeySet, RSAKey

from shared.files import create_private, private_dir, write_private

ALGORITHMS = ("RS256", "ES256")


def _generate(alg: str, kid: str):
    params = {"kid": kid, "use": "sig", "alg": alg}
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=params, private=True)
    return ECKey.generate_key("P-256", parameters=params, private=True)


def _load(alg: str, kid: str, pem: bytes):
    params = {"kid": kid, "use": "sig", "alg": alg}
    cls = RSAKey if alg == "RS256" else ECKey
    return cls.import_key(pem, parameters=params)


class StillVerifying(ValueError):
    """Tokens this key signed are still valid: it stays published ``seconds`` more."""

    def __init__(self, seconds: float):
        super().__init__(f"tokens it signed are still valid: retire it in {int(seconds) + 1} s")
        self.seconds = int(seconds) + 1


class TooEarly(ValueError):
    """The next keys were published too recently: clients may still hold a JWKS without them."""

    def __init__(self, seconds: float):
        super().__init__(f"published too recently: wait {int(seconds) + 1} s")
        self.seconds = int(seconds) + 1


@dataclass
class KeyRing:
    folder: Path

    def __post_init__(self):
        private_dir(self.folder)
        self._lock = threading.Lock()
        self._mtime = -1.0
        self._keys: dict[str, object] = {}
        self._state: dict = {}
        self.ensure()

    @property
    def state_file(self) -> Path:
        return self.folder / "state.json"

    def ensure(self) -> None:
        """Create the first key of each algorithm when missing."""
        with self._lock:
            state = self._read_state()
            changed = False
            for alg in ALGORITHMS:
                if alg not in state["active"]:
                    state["active"][alg] = self._new_key(alg, state)
                    changed = True
            if changed:
                self._write_state(state)
        self._reload(force=True)

    def _read_state(self) -> dict:
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {"active": {}, "keys": {}, "retired": [], "created": {}, "next": {}}

    def _write_state(self, state: dict) -> None:
        write_private(self.state_file, json.dumps(state, indent=2))  # atomic, 0600 from the start

    def _new_key(self, alg: str, state: dict) -> str:
        kid = f"{alg.lower()}-{secrets.token_hex(6)}"
        key = _generate(alg, kid)
        path = self.folder / f"{kid}.pem"
        create_private(path, key.as_pem(private=True))
        state["keys"][kid] = alg
        state.setdefault("created", {})[kid] = time.time()
        return kid

    def _reload(self, force: bool = False) -> None:
        # A rotation by the CLI (another process) shows within a second; no stat per signature.
        now = time.monotonic()
        if not force and self._mtime is not None and now - getattr(self, "_checked", 0.0) < 1.0:
            return
        self._checked = now
        mtime = self.state_file.stat().st_mtime
        if not force and mtime == self._mtime:
            return
        state = self._read_state()
        keys = {}
        for kid, alg in state["keys"].items():
            if kid in state["retired"]:
                continue
            keys[kid] = _load(alg, kid, (self.folder / f"{kid}.pem").read_bytes())
        self._keys, self._state, self._mtime = keys, state, mtime

    def readable(self) -> bool:
        """The key files can be read now, from disk rather than memory (readiness)."""
        self._reload(force=True)
        return all(kid in self._keys for kid in self._state["active"].values())

    def signing_key(self, alg: str = "RS256"):
        self._reload()
        return self._keys[self._state["active"][alg]]

    def verification_keys(self) -> KeySet:
        self._reload()
        return KeySet(list(self._keys.values()))

    def jwks(self) -> dict:
        self._reload()
        return {"keys": [key.as_dict(private=False) for key in self._keys.values()]}

    def rotate(self, algorithms: tuple[str, ...] = ALGORITHMS) -> dict[str, str]:
        with self._lock:
            state = self._read_state()
            for alg in algorithms:
                self._stopped_signing(state, state["active"].get(alg))
                state["active"][alg] = self._new_key(alg, state)
                state.get("next", {}).pop(alg, None)
            self._write_state(state)
        self._reload(force=True)
        return dict(state["active"])

    @staticmethod
    def _stopped_signing(state: dict, kid: str | None) -> None:
        if kid:
            state.setdefault("stopped", {})[kid] = time.time()

    def retire(self, kid: str, tokens_live_for: float = 0.0) -> None:
        """Stop publishing ``kid``. Refused for the key that signs, for a published key waiting to sign
        (activation would then rotate one algorithm only), and for a key that stopped signing less than
        ``tokens_live_for`` seconds ago: tokens it signed are still valid and must verify (outside review)."""
        with self._lock:
            state = self._read_state()
            if kid in state["active"].values():
                raise ValueError("an active signing key cannot be retired; rotate first")
            if kid not in state["keys"]:
                raise ValueError(f"unknown key {kid}")
            if kid in state.get("next", {}).values():
                raise ValueError("this key is published to sign next: activate it, or publish again later")
            wait = state.get("stopped", {}).get(kid, 0.0) + tokens_live_for - time.time()
            if wait > 0:
                raise StillVerifying(wait)
            if kid not in state["retired"]:
                state["retired"].append(kid)
            state["next"] = {alg: next_kid for alg, next_kid in state.get("next", {}).items() if next_kid != kid}
            self._write_state(state)
        self._reload(force=True)

    def publish_next(self, algorithms: tuple[str, ...] = ALGORITHMS) -> dict[str, str]:
        """A new key per algorithm, in the JWKS from now on, signing nothing yet."""
        with self._lock:
            state = self._read_state()
            next_keys = state.setdefault("next", {})
            for alg in algorithms:
                if alg not in next_keys:
                    next_keys[alg] = self._new_key(alg, state)
            self._write_state(state)
        self._reload(force=True)
        return dict(next_keys)

    def seconds_until_usable(self, publish_before_use: float, now: float | None = None) -> float:
        """How long the published next keys must still wait before they may sign (0: now)."""
        state = self._read_state()
        now = time.time() if now is None else now
        created = [state.get("created", {}).get(kid, 0.0) for kid in state.get("next", {}).values()]
        return max([0.0, *(published + publish_before_use - now for published in created)])

    def activate_next(self, publish_before_use: float) -> dict[str, str]:
        """The published next keys sign from now on (the old ones stay published to verify)."""
        with self._lock:
            if not self._read_state().get("next"):
                raise ValueError("no published key waits to sign: publish new keys first")
            if self.seconds_until_usable(publish_before_use) > 0:
                raise TooEarly(self.seconds_until_usable(publish_before_use))
            state = self._read_state()
            for alg in state["next"]:
                self._stopped_signing(state, state["active"].get(alg))
            state["active"].update(state.pop("next"))
            state["next"] = {}
            self._write_state(state)
        self._reload(force=True)
        return dict(state["active"])

    def listing(self) -> list[dict]:
        """Every key: kid, alg, created (epoch seconds; the file's time for keys made before this
        was recorded), state (active, next, published, retired), newest first."""
        state = self._read_state()
        active, upcoming = set(state["active"].values()), set(state.get("next", {}).values())
        rows = []
        for kid, alg in state["keys"].items():
            created = state.get("created", {}).get(kid)
            if created is None:
                pem = self.folder / f"{kid}.pem"
                created = pem.stat().st_mtime if pem.exists() else 0.0
            status = ("retired" if kid in state["retired"] else "active" if kid in active
                      else "next" if kid in upcoming else "published")
            rows.append({"kid": kid, "alg": alg, "created": created, "state": status})
        return sorted(rows, key=lambda row: row["created"], reverse=True)

    def describe(self) -> dict:
        self._reload()
        return {"active": self._state["active"], "published": sorted(self._keys), "retired": self._state["retired"]}
