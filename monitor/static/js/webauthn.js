// Passkeys for case monitor: the browser's side of the WebAuthn ceremonies.
//
// A form marked data-webauthn="register" or "login" carries the server's options as JSON (in
// data-options, base64url for the binary fields). On submit this script asks the browser for a
// credential, puts the answer (JSON) in the form's hidden "credential" field and submits the form
// as usual, so the server checks it and answers with an ordinary page. Without this script, or
// in a browser without WebAuthn, the forms stay hidden. No inline script, so the CSP holds.
(function () {
  "use strict";

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBinaryIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = withBinaryIds(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = withBinaryIds(json.allowCredentials);
    return options;
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var answer = { clientDataJSON: toBase64url(response.clientDataJSON) };
    if (response.attestationObject) {
      answer.attestationObject = toBase64url(response.attestationObject);
      answer.transports = response.getTransports ? response.getTransports() : [];
    } else {
      answer.authenticatorData = toBase64url(response.authenticatorData);
      answer.signature = toBase64url(response.signature);
      if (response.userHandle) { answer.userHandle = toBase64url(response.userHandle); }
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: answer,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    });
  }

  function showError(form, message) {
    var box = form.parentNode.querySelector("[data-webauthn-error]");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  function start(form) {
    var kind = form.getAttribute("data-webauthn");
    var json = JSON.parse(form.getAttribute("data-options"));
    var ask = kind === "register"
      ? navigator.credentials.create({ publicKey: creationOptions(json) })
      : navigator.credentials.get({ publicKey: requestOptions(json) });
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    ask.then(function (credential) {
      form.querySelector("input[name=credential]").value = credentialJSON(credential);
      form.submit();
    }).catch(function (error) {
      if (button) { button.disabled = false; }
      showError(form, "Your browser did not give a passkey (" + error.name + "). Try again, or use another way.");
    });
  }

  function setUp() {
    if (!window.PublicKeyCredential || !navigator.credentials) { return; }
    var forms = document.querySelectorAll("form[data-webauthn]");
    Array.prototype.forEach.call(forms, function (form) {
      if (!form.getAttribute("data-options")) { return; }
      form.hidden = false;
      var unsupported = form.parentNode.querySelector("[data-webauthn-unsupported]");
      if (unsupported) { unsupported.hidden = true; }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        start(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
