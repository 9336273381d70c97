"""Discovery (OIDC Discovery 1.0) and RFC 8414 metadata advertise exactly what works: every key
and value of the document is listed here with the test that exercises it; a key added, removed
or changed without its test fails here. Authlib's metadata models validate both documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata

from tests.idp.helpers import start_idp

ROOT = Path(__file__).resolve().parents[2]
SPA = "tests/idp/test_public_spa.py::test_oidc_client_ts_signs_in_reads_userinfo_refreshes_revokes_and_signs_out"
ASSERTIONS = "tests/idp/test_client_assertions.py::test_private_key_jwt_with_inline_keys_through_code_refresh_revocation"
SECRET_JWT = "tests/idp/test_client_assertions.py::test_client_secret_jwt"
INTEROP = "tests/idp/test_oic_interop.py::test_discovery_code_pkce_userinfo_refresh_and_logout"
UNSUPPORTED = "tests/idp/test_step_up.py::test_unsupported_parameters_are_refused_not_ignored"
INTROSPECTION = "tests/idp/test_introspection.py::test_the_court_feeds_resource_server_introspects_its_tokens_and_only_it"
PAR = "tests/idp/test_par.py::test_a_par_required_client_signs_in_through_a_pushed_request"
PAR_JWT = "tests/idp/test_par.py::test_push_with_private_key_jwt"
ALGS = ["RS256", "PS256", "ES256", "HS256"]  # RS256 and HS256 signed by Authlib's clients in the tests
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"]

# key: (value, test that exercises it); "{issuer}" stands for the issuer
EXERCISED = {
    "issuer": ("{issuer}", INTEROP),
    "authorization_endpoint": ("{issuer}/authorize", INTEROP),
    "token_endpoint": ("{issuer}/token", INTEROP),
    "userinfo_endpoint": ("{issuer}/userinfo", SPA),
    "jwks_uri": ("{issuer}/jwks", INTEROP),
    "end_session_endpoint": ("{issuer}/logout", SPA),
    "revocation_endpoint": ("{issuer}/revoke", "tests/idp/test_revocation.py::test_revoking_the_refresh_token_ends_the_grant"),
    "introspection_endpoint": ("{issuer}/introspect", INTROSPECTION),
    "pushed_authorization_request_endpoint": ("{issuer}/par", PAR),
    "registration_endpoint": ("{issuer}/register",
                              "tests/idp/test_registration.py::test_openid_client_registers_and_the_client_signs_a_person_in"),
    "require_pushed_authorization_requests": (False, PAR),  # per client: policy.require_par
    "scopes_supported": (["birth", "email", "offline_access", "openid", "organisation", "profile", "roles",
                          "provisioning", "management", "court_feed", "support"],
                         "tests/security/test_scope_escalation.py::test_the_named_clients_reach_their_own_api_only"),
    "response_types_supported": (["code"], INTEROP),
    "response_modes_supported": (["query", "form_post"], "tests/idp/test_form_post.py::test_the_code_comes_in_a_form_post"),
    "grant_types_supported": (["authorization_code", "refresh_token", "client_credentials"], INTROSPECTION),
    "code_challenge_methods_supported": (["S256"], "tests/idp/test_protocol_errors.py::test_plain_pkce_is_refused"),
    "subject_types_supported": (["pairwise"], "tests/idp/test_protocol_errors.py::test_pairwise_subjects_differ_per_client"),
    "id_token_signing_alg_values_supported": (["RS256", "ES256"],
                                              "tests/idp/test_oic_interop.py::test_es256_client_gets_es256_id_tokens"),
    "token_endpoint_auth_methods_supported": (AUTH_METHODS, ASSERTIONS),  # basic, post (INTEROP), jwt, none (SPA)
    "token_endpoint_auth_signing_alg_values_supported": (ALGS, SECRET_JWT),
    "revocation_endpoint_auth_methods_supported": (AUTH_METHODS, SPA),
    "revocation_endpoint_auth_signing_alg_values_supported": (ALGS, ASSERTIONS),
    "introspection_endpoint_auth_methods_supported": (AUTH_METHODS[:4], ASSERTIONS),
    "introspection_endpoint_auth_signing_alg_values_supported": (ALGS, PAR_JWT),
    "dpop_signing_alg_values_supported": (["RS256", "PS256", "ES256"],
                                          "tests/idp/test_dpop.py::test_openid_client_with_private_key_jwt_par_and_dpop"),
    "claims_supported": (None, "tests/idp/test_step_up.py::test_claims_without_a_value_are_omitted_not_null"),
    "acr_values_supported": (["pwd", "mfa", "phr", "eidas1", "eidas2", "eidas3"],  # phr: tests/idp/passkeys/test_phishing_resistant.py
                             "tests/idp/test_step_up.py::test_mfa_without_a_second_factor_is_a_clear_error_not_a_loop"),
    "prompt_values_supported": (["none", "login", "consent"],
                                "tests/security/test_browser_binding.py::test_consent_covers_the_scopes_shown_and_nothing_more"),
    "ui_locales_supported": (["fr", "en"], "tests/idp/test_step_up.py::test_ui_locales_chooses_the_sign_in_pages_language"),
    "claims_parameter_supported": (False, INTEROP),
    "request_parameter_supported": (False, UNSUPPORTED),
    "request_uri_parameter_supported": (False, UNSUPPORTED),  # PAR's own request_uri only
    "authorization_response_iss_parameter_supported": (True, "tests/idp/test_protocol_errors.py::test_missing_pkce_is_refused_with_iss"),
    "backchannel_logout_supported": (True, "tests/idp/test_protocol_errors.py::test_backchannel_logout_reaches_the_rp_with_a_valid_token"),
    "backchannel_logout_session_supported": (True, "tests/idp/test_protocol_errors.py::test_backchannel_logout_reaches_the_rp_with_a_valid_token"),
    "frontchannel_logout_supported": (False, INTEROP),
}


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('metadata') / 'idp.db'}")
    yield server
    server.stop()


def expected(value, issuer: str):
    return value.replace("{issuer}", issuer) if isinstance(value, str) else value


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"])
def test_the_document_says_exactly_what_the_tests_exercise(idp, path):
    document = requests.get(idp.url + path).json()
    assert sorted(document) == sorted(EXERCISED)
    for key, (value, _test) in EXERCISED.items():
        if value is not None:
            assert document[key] == expected(value, idp.url), key


def test_each_named_test_exists():
    for key, (_value, test) in EXERCISED.items():
        file, name = test.split("::")
        assert re.search(rf"^def {name}\(", (ROOT / file).read_text(), re.MULTILINE), f"{key}: {test} is gone"


def test_authlibs_metadata_models_accept_both_documents(idp, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test issuer is http on loopback
    OpenIDProviderMetadata(requests.get(f"{idp.url}/.well-known/openid-configuration").json()).validate()
    AuthorizationServerMetadata(requests.get(f"{idp.url}/.well-known/oauth-authorization-server").json()).validate()
