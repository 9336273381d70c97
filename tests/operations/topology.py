"""The production topology, started for real: a throw-away CA and certificate, the shipped nginx
configuration (deploy/nginx/, only its @NAME@ placeholders filled), two IdP instances and each
portal under gunicorn with config/gunicorn.conf.py and APP_ENV=production, on PostgreSQL and Redis.
Used by tests/operations/test_topology.py."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.servers import create_database, free_port, missing, wait_until_answering

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "nginx"
PORTALS = {"ecomms": "portals.ecomms", "justice": "portals.justice", "eservices": "portals.eservices"}


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class Authority:
    """A CA made for one test run, and certificates it issues."""

    folder: Path
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def __post_init__(self):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Civic topology test CA")])
        now = datetime.now(UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
                     .not_valid_after(now + timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                    critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.ca_file = self.folder / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, stem: str, common_name: str, dns: list[str] = (), ips: list[str] = (),
              usage=ExtendedKeyUsageOID.SERVER_AUTH, organisation: str | None = None,
              rsa_key: bool = False) -> tuple[Path, Path, str]:
        """(certificate file, key file, Chromium's SPKI pin of the key) for one leaf. An RSA key
        for TLS, so that the weak RSA key exchange is possible unless nginx refuses it."""
        key = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if organisation:
            attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
        now = datetime.now(UTC)
        builder = (x509.CertificateBuilder().subject_name(x509.Name(attributes)).issuer_name(self.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        names = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        cert_file, key_file = self.folder / f"{stem}.pem", self.folder / f"{stem}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(_pem_key(key))
        spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return cert_file, key_file, base64.b64encode(hashlib.sha256(spki).digest()).decode()


class Gunicorn:
    """One app instance under gunicorn (config/gunicorn.conf.py, as the systemd units run it), in a
    process group of its own so that the whole instance can be killed at once."""

    def __init__(self, target: str, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", target],
            cwd=REPO, env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": "1",
                           "GUNICORN_THREADS": "8"},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self) -> None:
        try:
            wait_until_answering(self.url, self.process, timeout=180)
        except (RuntimeError, TimeoutError) as error:
            self.log.flush()
            raise AssertionError(f"{error}:\n" + Path(self.log.name).read_text(errors="replace")[-3000:]) from None

    def kill(self) -> None:
        """SIGKILL to the master and its workers: a crashed machine, not a graceful stop."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


class Nginx:
    """nginx with the shipped configuration: the test writes only the main file around it."""

    def __init__(self, folder: Path, values: dict[str, str]):
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if not binary:
            missing("nginx")
        self.folder = folder
        conf = folder / "conf"
        conf.mkdir(parents=True)
        (folder / "logs").mkdir()
        values = {**values, "CONF_DIR": str(conf), "LOG_DIR": str(folder / "logs")}
        for name in ("civic-idp.conf", "civic-proxy.conf"):
            text = (SHIPPED / name).read_text()
            for key, value in values.items():
                text = text.replace(f"@{key}@", value)
            assert "@" not in "".join(line for line in text.splitlines() if not line.lstrip().startswith("#")), \
                f"a placeholder of {name} is left unfilled"
            (conf / name).write_text(text)
        user = "user root root;" if os.geteuid() == 0 else ""  # workers need the temp folders below
        (conf / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy; fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    include {conf}/civic-idp.conf;
}}
""")
        command = [binary, "-p", str(folder), "-c", str(conf / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                        stderr=(folder / "logs" / "stderr.log").open("ab"))

    @property
    def access_log(self) -> Path:
        return self.folder / "logs" / "civic-access.log"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@dataclass
class Topology:
    ca_file: Path
    spki_pin: str
    idp_url: str  # the public (https, through nginx) addresses
    portal_urls: dict[str, str]
    http_url: str
    idps: list[Gunicorn]
    portals: dict[str, Gunicorn]
    nginx: Nginx
    database_urls: dict[str, str]
    secrets: dict[str, str]

    def stop(self) -> None:
        self.nginx.stop()
        for server in [*self.idps, *self.portals.values()]:
            server.stop()


def _database(server_url: str, name: str) -> str:
    return create_database(server_url, f"{name}_topology_{secrets.token_hex(3)}")


def start(folder: Path, postgres_url: str, redis_url: str, smtp_url: str, seed) -> Topology:
    """Everything up and answering. ``seed(idp_app, urls)`` registers clients and people in the
    IdP's database before the instances start, and returns the portals' client secrets."""
    import idp as idp_package

    authority = Authority(folder)
    cert, key, pin = authority.issue("tls", "localhost", dns=["localhost"], ips=["127.0.0.1"], rsa_key=True)
    receipts_cert, receipts_key, _ = authority.issue("receipts", "receipts", usage=ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                                     organisation="Cour européenne des droits de l'homme")
    listen = {name: free_port() for name in ("http", "idp", *PORTALS)}
    idp_url = f"https://localhost:{listen['idp']}"
    portal_urls = {name: f"https://localhost:{listen[name]}" for name in PORTALS}
    redis_base = redis_url.rsplit("/", 1)[0]

    databases = {"idp": _database(postgres_url, "idp"), **{name: _database(postgres_url, name) for name in PORTALS}}
    idp_package.upgrade_database(databases["idp"])
    for name, module in PORTALS.items():
        __import__(module, fromlist=["upgrade_database"]).upgrade_database(databases[name])
    (folder / "instance").mkdir()
    seed_app = idp_package.create_app({"database_url": databases["idp"], "redis_url": f"{redis_base}/10",
                                       "issuer": idp_url, "instance_path": folder / "instance", "_quiet": True,
                                       "raw": {"outbox": {"manual": True}}})
    client_secrets = seed(seed_app, {"idp": idp_url, **portal_urls})

    common = {k: v for k, v in os.environ.items() if not k.startswith(("ARGON2_", "PYTEST", "COV_"))}
    common.update({
        "APP_ENV": "production", "ISSUER": idp_url, "TRUSTED_PROXIES": "127.0.0.1",
        "INSTANCE_PATH": str(folder / "instance"), "KEYS_DIR": os.environ["KEYS_DIR"],
        "SMTP_URL": smtp_url, "MAIL_FROM_ADDRESS": "no-reply@services.example",
        "SMS_GATEWAY_URL": "https://sms.gateway.invalid/v1/messages",
        "LETTER_GATEWAY_URL": "https://letters.gateway.invalid/v1/letters",
        "REQUESTS_CA_BUNDLE": str(authority.ca_file), "SSL_CERT_FILE": str(authority.ca_file),
        "METRICS_TOKEN": secrets.token_urlsafe(24), "PYTHONUNBUFFERED": "1",
        "ECOMMS_RECEIPT_KEY": str(receipts_key), "ECOMMS_RECEIPT_CERT": str(receipts_cert),
        "ECOMMS_RECEIPT_CHAIN": str(authority.ca_file),
        **{f"{name.upper()}_PUBLIC_URL": url for name, url in portal_urls.items()},
        **{f"{name.upper()}_CLIENT_SECRET": secret for name, secret in client_secrets.items()},
    })
    keys = {"SECRET_KEY": secrets.token_urlsafe(48), **{f"{n.upper()}_SECRET_KEY": secrets.token_urlsafe(48)
                                                        for n in PORTALS}}
    logs = folder / "logs"
    logs.mkdir()
    idp_env = {**common, "DATABASE_URL": databases["idp"], "REDIS_URL": f"{redis_base}/10",
               "SECRET_KEY": keys["SECRET_KEY"]}
    idps = [Gunicorn("idp:create_app()", idp_env, logs / f"idp-{n}.log") for n in (1, 2)]
    portals = {name: Gunicorn(f"{module}:create_app()", {
        **common, f"{name.upper()}_DATABASE_URL": databases[name], "REDIS_URL": f"{redis_base}/{11 + i}",
        f"{name.upper()}_SECRET_KEY": keys[f"{name.upper()}_SECRET_KEY"]}, logs / f"{name}.log")
        for i, (name, module) in enumerate(PORTALS.items())}
    servers = [*idps, *portals.values()]
    try:
        for server in servers:
            server.wait()
        nginx = Nginx(folder / "nginx", {
            "HTTP_LISTEN": f"127.0.0.1:{listen['http']}", "TLS_CERT": str(cert), "TLS_KEY": str(key),
            "IDP_1": f"127.0.0.1:{idps[0].port}", "IDP_2": f"127.0.0.1:{idps[1].port}",
            "IDP_LISTEN": f"127.0.0.1:{listen['idp']}", "IDP_HOST": "localhost",
            **{f"{name.upper()}_LISTEN": f"127.0.0.1:{listen[name]}" for name in PORTALS},
            **{f"{name.upper()}_HOST": "localhost" for name in PORTALS},
            **{name.upper(): f"127.0.0.1:{server.port}" for name, server in portals.items()}})
    except BaseException:
        for server in servers:
            server.stop()
        raise
    topology = Topology(authority.ca_file, pin, idp_url, portal_urls, f"http://127.0.0.1:{listen['http']}", idps,
                        portals, nginx, databases, {**keys, "METRICS_TOKEN": common["METRICS_TOKEN"]})
    deadline = time.monotonic() + 30
    while True:  # nginx answers on every site
        try:
            if all(requests.get(f"{url}/healthz", verify=authority.ca_file, timeout=5).ok
                   for url in (idp_url, *portal_urls.values())):
                return topology
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or nginx.process.poll() is not None:
            topology.stop()
            raise RuntimeError("nginx did not answer: " + (nginx.folder / "logs" / "error.log").read_text()[-2000:])
        time.sleep(0.2)
