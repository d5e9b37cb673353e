/* mfa_oauth WebAuthn: register a security key or passkey, use it as a second factor, or sign in
 * with a passkey. No inline script (strict CSP): every element carries its URLs in data-*
 * attributes; options and results travel as JSON through the browser's own
 * PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON / toJSON. */
(function () {
  "use strict";

  // English defaults; the page's translations come from mfa_oauth/webauthn/_messages.html (data-*).
  var DEFAULTS = {
    notAllowed: "The request was cancelled or timed out. Try again.",
    invalidState: "This security key is already registered on your account.",
    security: "This page's address cannot use security keys (open the site at its own address).",
    notSupported: "This security key does not support what this site asks for.",
    abort: "The request was cancelled.",
    wrongOrigin: "Security keys and passkeys work only at this site's own address, {site} " +
      "(this page is open at {origin}). Open the site there and try again.",
    securitySite: "This page's address cannot use security keys. Open the site at {site} and try again.",
    generic: "Something went wrong.",
    server: "The server answered {status}.",
    unsupported: "This browser cannot use security keys or passkeys here.",
    prompt: "Follow your browser's prompt\u2026",
    done: "Done."
  };
  var BY_ERROR = {
    NotAllowedError: "notAllowed", InvalidStateError: "invalidState", SecurityError: "security",
    NotSupportedError: "notSupported", AbortError: "abort"
  };

  function t(key, values) {
    var translated = document.querySelector("[data-webauthn-messages]");
    var text = (translated && translated.dataset[key]) || DEFAULTS[key];
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }

  function message(root, error) {
    var site = root.dataset.siteAddress;
    if (error && error.name === "SecurityError" && site && site.indexOf(window.location.origin + "/") !== 0) {
      // The browser refuses keys on any origin but the site's own (WebAuthn L2 §13.4.9): name it.
      return t("wrongOrigin", { site: site, origin: window.location.origin + "/" });
    }
    if (error && error.name === "SecurityError" && site) {
      return t("securitySite", { site: site });
    }
    var key = error && BY_ERROR[error.name];
    return (key && t(key)) || (error && error.message) || t("generic");
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials &&
      PublicKeyCredential.parseCreationOptionsFromJSON && PublicKeyCredential.parseRequestOptionsFromJSON);
  }

  function status(root, text, isError) {
    var el = root.querySelector("[data-webauthn-status]");
    if (!el) { return; }
    el.textContent = text;
    el.hidden = !text;
    el.className = isError ? "mfa-error" : "mfa-info";
    el.setAttribute("role", isError ? "alert" : "status");
  }

  function post(root, url, body) {
    var token = root.querySelector("input[name=csrfmiddlewaretoken]");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var failure = new Error(data.error || t("server", { status: response.status }));
          failure.redirect = data.redirect;  // e.g. the login page, when the sign-in must start again
          throw failure;
        }
        return data;
      });
    });
  }

  function ceremony(root) {
    var kind = root.dataset.webauthn;
    var extra = { next: root.dataset.next || "" };
    var start = { level: Number(root.dataset.level || 0), device: root.dataset.device || "", next: extra.next };
    if (kind === "register") {
      var name = root.querySelector("input[name=name]");
      extra.name = name ? name.value : "";
    }
    return post(root, root.dataset.optionsUrl, start).then(function (options) {
      if (kind === "register") {
        return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
      }
      return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    }).then(function (credential) {
      extra.credential = credential.toJSON();
      return post(root, root.dataset.verifyUrl, extra);
    });
  }

  function bind(root) {
    if (root.dataset.webauthnBound) { return; }  // the script may be included once per credential
    root.dataset.webauthnBound = "1";
    var button = root.querySelector("[data-webauthn-start]");
    if (!supported()) {
      if (root.dataset.webauthn !== "passkey") {
        if (button) { button.disabled = true; }
        status(root, t("unsupported"), true);
      }
      return;
    }
    root.hidden = false;
    root.addEventListener("submit", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () {
      button.disabled = true;
      status(root, t("prompt"), false);
      ceremony(root).then(function (result) {
        status(root, t("done"), false);
        window.location.assign(result.redirect || "/");
      }).catch(function (error) {
        if (error && error.redirect) {
          window.location.assign(error.redirect);  // the page there says why
          return;
        }
        button.disabled = false;
        status(root, message(root, error), true);
      });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-webauthn]"), bind);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
