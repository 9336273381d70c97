// form_post response mode (idp/oidc/response_modes.py): send the authorization response at once.
document.addEventListener("DOMContentLoaded", function () {
  document.getElementById("form-post").submit();
});
