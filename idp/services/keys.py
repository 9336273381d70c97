"""Signing keys: generated on first start into ``keys/idp/``, rotated by ``idp keys rotate``.

One active key per algorithm (RS256, ES256) signs; every non-retired key is published in the
JWKS so tokens signed before a rotation still verify. State lives in ``keys/idp/state.json``
and is re-read when it changes, so a rotation by the CLI reaches running processes.
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
        return {"active": {}, "keys": {}, "retired": []}

    def _write_state(self, state: dict) -> None:
        write_private(self.state_file, json.dumps(state, indent=2))  # atomic, 0600 from the start

    def _new_key(self, alg: str, state: dict) -> str:
        kid = f"{alg.lower()}-{secrets.token_hex(6)}"
        key = _generate(alg, kid)
        path = self.folder / f"{kid}.pem"
        create_private(path, key.as_pem(private=True))
        state["keys"][kid] = alg
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
                state["active"][alg] = self._new_key(alg, state)
            self._write_state(state)
        self._reload(force=True)
        return dict(state["active"])

    def retire(self, kid: str) -> None:
        with self._lock:
            state = self._read_state()
            if kid in state["active"].values():
                raise ValueError("an active signing key cannot be retired; rotate first")
            if kid not in state["keys"]:
                raise ValueError(f"unknown key {kid}")
            if kid not in state["retired"]:
                state["retired"].append(kid)
            self._write_state(state)
        self._reload(force=True)

    def describe(self) -> dict:
        self._reload()
        return {"active": self._state["active"], "published": sorted(self._keys), "retired": self._state["retired"]}
