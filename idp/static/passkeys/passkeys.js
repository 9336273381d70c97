// Passkeys in the browser (WebAuthn): the server sends the options as JSON, this script asks the
// authenticator and puts its answer, as JSON, in the form's hidden "response" field, then submits
// the form. Every check happens on the server; every message comes from the page, in its language.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("[data-passkey-needs]").forEach(function (el) { el.hidden = true; });
    return;
  }

  function toBytes(value) {
    var text = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    var o = JSON.parse(json);
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  function requestOptions(json) {
    var o = JSON.parse(json);
    o.challenge = toBytes(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  function serialise(credential) {
    var r = credential.response, response = {clientDataJSON: toText(r.clientDataJSON)};
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: response, clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || null});
  }

  function showError(form, error) {
    var box = form.querySelector("[data-passkey-error]");
    if (!box) return;
    box.textContent = error && error.name === "InvalidStateError" ? box.dataset.duplicate : box.dataset.cancelled;
    box.hidden = false;
    box.focus();
  }

  function submitWith(form, credential) {
    form.querySelector("input[name=response]").value = serialise(credential);
    form.submit();
  }

  function optionsOf(form) {
    var inline = form.dataset.optionsFrom && document.getElementById(form.dataset.optionsFrom);
    if (inline) return Promise.resolve(inline.textContent);
    var body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    return fetch(form.dataset.optionsUrl, {method: "POST", body: body, credentials: "same-origin"})
      .then(function (answer) {
        if (!answer.ok) throw Object.assign(new Error("options"), {name: "OptionsRefused"});
        return answer.text();
      });
  }

  var pending = null;  // the conditional (autofill) request, aborted when the button asks instead

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.querySelector("input[name=response]").value) return;
      event.preventDefault();
      if (pending) pending.abort();
      var nameField = form.querySelector("input[name=name]");
      if (nameField && !nameField.value.trim()) { form.submit(); return; }  // the server says what is missing
      optionsOf(form).then(function (json) {
        return form.dataset.passkey === "register"
          ? navigator.credentials.create({publicKey: creationOptions(json)})
          : navigator.credentials.get({publicKey: requestOptions(json)});
      }).then(function (credential) { submitWith(form, credential); }, function (error) { showError(form, error); });
    });
  });

  var conditional = document.querySelector("form[data-passkey-conditional]");
  if (conditional && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) return;
      pending = new AbortController();
      optionsOf(conditional).then(function (json) {
        return navigator.credentials.get({publicKey: requestOptions(json), mediation: "conditional",
                                          signal: pending.signal});
      }).then(function (credential) { if (credential) submitWith(conditional, credential); }, function () {});
    });
  }
})();
