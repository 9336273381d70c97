"""The signed PDF deposit receipt (PAdES baseline B-B, pyHanko): one page listing every file of a
deposit with its SHA-256, the Strasbourg times of upload start and of deposit and the application
number, signed so that any PDF reader shows who signed it and that nothing changed since.

Signing material:
- development (default): generated on first start into ``keys/ecomms/receipts-pades-dev.pem`` —
  a self-signed CA and a signing certificate it issued, with the signing key, in one file written
  atomically (two processes starting at once keep the first one's). Its CA is the trust root a
  reader or ``pyhanko.sign.validation`` needs (served at ``/.well-known/receipt-ca.pem``).
- production: ``ECOMMS_RECEIPT_KEY`` (PEM private key), ``ECOMMS_RECEIPT_CERT`` (PEM signing
  certificate), ``ECOMMS_RECEIPT_CHAIN`` (PEM issuers up to the root), optional
  ``ECOMMS_RECEIPT_KEY_PASSPHRASE``; ``APP_ENV=production`` refuses to start without them or with
  the development certificate (``check_production``).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from shared.config import ConfigError
from shared.files import create_private, private_dir
from shared.timeutil import utcnow

T = TypeVar("T")
DEV_FILE = "receipts-pades-dev.pem"
DEV_ORGANISATION = "ECHR eComms development receipts (not for production)"
ENV_KEY, ENV_CERT, ENV_CHAIN, ENV_PASSPHRASE = ("ECOMMS_RECEIPT_KEY", "ECOMMS_RECEIPT_CERT", "ECOMMS_RECEIPT_CHAIN",
                                                "ECOMMS_RECEIPT_KEY_PASSPHRASE")


@dataclass(frozen=True)
class Material:
    key_pem: bytes
    cert_pem: bytes
    chain_pem: bytes  # the issuers, root last
    passphrase: bytes | None = None

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @property
    def trust_root_pem(self) -> bytes:
        return x509.load_pem_x509_certificates(self.chain_pem)[-1].public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANISATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def generate_development() -> bytes:
    """A self-signed CA (ten years) and a signing certificate it issued (five years), with the key:
    one PEM bundle (key, signing certificate, CA)."""
    now = utcnow()
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("eComms receipts development CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
          .not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    signer = (x509.CertificateBuilder().subject_name(_name("ECHR eComms — accusés de dépôt")).issuer_name(ca_name)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1825))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                           crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem + _pem(signer) + _pem(ca)


def _split(bundle: bytes) -> Material:
    certificates = x509.load_pem_x509_certificates(bundle)
    start = bundle.index(b"-----BEGIN PRIVATE KEY-----")
    end = bundle.index(b"-----END PRIVATE KEY-----") + len(b"-----END PRIVATE KEY-----")
    return Material(key_pem=bundle[start:end] + b"\n", cert_pem=_pem(certificates[0]),
                    chain_pem=b"".join(_pem(c) for c in certificates[1:]))


def configured(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get(ENV_KEY) and env.get(ENV_CERT) and env.get(ENV_CHAIN))


@cache
def material(keys_folder: str) -> Material:
    """The configured signing material, else the development one (generated on first use)."""
    if configured():
        passphrase = os.environ.get(ENV_PASSPHRASE)
        return Material(key_pem=Path(os.environ[ENV_KEY]).read_bytes(), cert_pem=Path(os.environ[ENV_CERT]).read_bytes(),
                        chain_pem=Path(os.environ[ENV_CHAIN]).read_bytes(),
                        passphrase=passphrase.encode() if passphrase else None)
    path = Path(keys_folder) / DEV_FILE
    if not path.exists():
        private_dir(path.parent)
        create_private(path, generate_development())  # another process may have been first: its file is read
    return _split(path.read_bytes())


def is_development(certificate: x509.Certificate) -> bool:
    return any(a.value == DEV_ORGANISATION for a in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))


def check_production(env: Mapping[str, str] | None = None) -> None:
    """Under APP_ENV=production: the receipts are signed with the Court's own certificate, never the
    development one (a reader would trust a receipt anyone with this repository could forge)."""
    env = os.environ if env is None else env
    if not configured(env):
        raise ConfigError(f"production mode refuses development defaults:\n- set {ENV_KEY}, {ENV_CERT} and {ENV_CHAIN} "
                          "(PEM files: the deposit receipts' signing key, its certificate and its issuers up to the "
                          "root); the generated development certificate is for development only")
    try:
        certificate = x509.load_pem_x509_certificate(Path(env[ENV_CERT]).read_bytes())
    except (OSError, ValueError) as error:
        raise ConfigError(f"production mode: {ENV_CERT} is not a readable PEM certificate ({error})") from None
    if is_development(certificate):
        raise ConfigError(f"production mode refuses development defaults:\n- {ENV_CERT} is the generated development "
                          "certificate: use the Court's own receipt-signing certificate")


def _signer(found: Material) -> signers.SimpleSigner:
    chain = load_certs_from_pemder_data(found.chain_pem)
    [certificate] = list(load_certs_from_pemder_data(found.cert_pem))
    return signers.SimpleSigner(signing_cert=certificate,
                                signing_key=load_private_key_from_pemder_data(found.key_pem, found.passphrase),
                                cert_registry=SimpleCertificateStore.from_certs(list(chain)))


def run_coroutine(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """pyHanko's signer and validator are coroutines (its sync wrappers call asyncio.run, which fails
    in a thread whose event loop already runs): run on this thread, or on a fresh one if it has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def sign(pdf: bytes, found: Material, reason: str, location: str = "Strasbourg") -> bytes:
    """PAdES B-B signature of ``pdf`` (an invisible signature field; the whole file is covered)."""
    meta = signers.PdfSignatureMetadata(field_name="AccuseDeDepot", md_algorithm="sha256", reason=reason,
                                        location=location, subfilter=fields.SigSeedSubFilter.PADES)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return run_coroutine(lambda: signers.async_sign_pdf(writer, meta, signer=_signer(found))).getvalue()


def trust_root(found: Material) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(x509.load_pem_x509_certificate(found.trust_root_pem)
                                      .public_bytes(serialization.Encoding.DER))
