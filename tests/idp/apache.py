"""Apache httpd with mod_auth_openidc (Debian's ``apache2`` and ``libapache2-mod-auth-openidc``),
started on loopback in a temp folder as a relying party of a live IdP: what integrators deploy.

Prefork with several processes, as a site runs it: mod_auth_openidc takes no lock across its
processes, so concurrent requests of one session refresh with the same refresh token. Without
Apache or the module the tests skip locally and FAIL under CI (``CI`` set; .ci/run installs both).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.servers import missing, wait_for_port

MODULES = Path("/usr/lib/apache2/modules")
CONFIG = """\
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/httpd.pid"
DefaultRuntimeDir "{root}"
Mutex file:{root} default
ErrorLog "{root}/error.log"
LogLevel warn auth_openidc:info
{user}
LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule headers_module {modules}/mod_headers.so
LoadModule dir_module {modules}/mod_dir.so
DirectoryIndex index.html
LoadModule auth_openidc_module {modules}/mod_auth_openidc.so
StartServers 8
MinSpareServers 8
MaxSpareServers 16
MaxRequestWorkers 16
DocumentRoot "{root}/htdocs"
<Directory "/">
    AllowOverride None
</Directory>

OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {client_secret}
OIDCRedirectURI {redirect_uri}
OIDCCryptoPassphrase {passphrase}
OIDCScope "openid email offline_access"
OIDCPKCEMethod S256
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCSessionType server-cache
OIDCCacheType shm
OIDCSSLValidateServer Off
# every request refreshes (the access token lives 600 s); a failed refresh ends the session, so a
# page served is a refresh that worked
OIDCRefreshAccessTokenBeforeExpiry 3600 logout_on_error

<Location /protected/>
    AuthType openid-connect
    Require valid-user
    Header always set X-Access-Token "expr=%{{reqenv:OIDC_access_token}}"
</Location>
"""


def redirect_uri(port: int) -> str:
    return f"http://127.0.0.1:{port}/protected/redirect_uri"


def binaries() -> str:
    apache = shutil.which("apache2") or ("/usr/sbin/apache2" if Path("/usr/sbin/apache2").exists() else None)
    if not apache or not (MODULES / "mod_auth_openidc.so").exists():
        missing("apache2 with mod_auth_openidc (Debian: apache2 libapache2-mod-auth-openidc)")
    return apache


@contextmanager
def mod_auth_openidc(issuer: str, client_id: str, client_secret: str, port: int):
    """Yields (base URL, error log path) of an Apache on ``port`` protecting ``/protected/``; its
    redirect URI is :func:`redirect_uri` of the port (register it for the client first)."""
    apache = binaries()
    root = Path(tempfile.mkdtemp(prefix="apache-"))
    (root / "htdocs" / "protected").mkdir(parents=True)
    (root / "htdocs" / "protected" / "index.html").write_text("<p>protected page</p>\n")
    user = ""
    if os.geteuid() == 0:  # the children drop root, as a site runs them
        user = "User www-data\nGroup www-data"
        shutil.chown(root, "www-data", "www-data")
    for path in (root, root / "htdocs", root / "htdocs" / "protected"):
        os.chmod(path, 0o755)
    os.chmod(root / "htdocs" / "protected" / "index.html", 0o644)
    conf = root / "httpd.conf"
    conf.write_text(CONFIG.format(root=root, port=port, user=user, modules=MODULES, issuer=issuer,
                                  redirect_uri=redirect_uri(port),
                                  client_id=client_id, client_secret=client_secret,
                                  passphrase=secrets.token_urlsafe(24)))
    # its own process group: at shutdown prefork signals its whole group, which would be ours
    process = subprocess.Popen([apache, "-f", str(conf), "-DFOREGROUND"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        try:
            wait_for_port(port, timeout=20)
        except TimeoutError:
            process.kill()
            log = (root / "error.log").read_text() if (root / "error.log").exists() else ""
            raise AssertionError(f"apache did not start: {process.stdout.read()}\n{log}") from None
        yield f"http://127.0.0.1:{port}", root / "error.log"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
