/* case monitor — follow a dossier or an import while it is worked on, without reloading the page.
 *
 * Progressive enhancement: the page works without this script (its Refresh link reloads it).
 * With it, the page is fetched again every few seconds (the section's data-progress-every), the
 * new state replaces #progress-body, and the text of the live region #progress-status is updated
 * only when it changes, so a screen reader announces each new state once instead of the whole
 * page starting over. It stops when the state is final (no data-progress-every any more), and
 * falls back to the Refresh link when the page cannot be fetched (offline, logged out).
 * No inline code and nothing from elsewhere: the CSP's script-src 'self' allows it.
 */
(function () {
  "use strict";

  var section = document.getElementById("progress");
  if (!section || !window.fetch || !window.DOMParser) {
    return;
  }
  var MAX_WAIT = 30000;
  // The page gives these in its own language (data-progress-updating, data-progress-stopped);
  // the English here is for a page that does not.
  var UPDATING =
    section.getAttribute("data-progress-updating") ||
    "This page updates itself as the work goes on; you can also ";
  var STOPPED =
    section.getAttribute("data-progress-stopped") ||
    "This page could not update itself: to see how far it got, ";
  var failures = 0;

  function seconds(element) {
    var value = parseFloat(element.getAttribute("data-progress-every"));
    return value > 0 ? value : 0;
  }

  function hint(text) {
    var element = section.querySelector("[data-progress-hint]");
    if (element) {
      element.textContent = text;
    }
  }

  function replace(target, source) {
    if (target && source) {
      target.replaceChildren.apply(
        target,
        Array.prototype.map.call(source.childNodes, function (node) {
          return document.importNode(node, true);
        })
      );
    }
  }

  function apply(fresh) {
    var heading = document.getElementById("state-heading");
    replace(heading, fresh.querySelector("#state-heading"));
    replace(document.getElementById("progress-body"), fresh.querySelector("#progress-body"));
    var status = document.getElementById("progress-status");
    var next = fresh.querySelector("#progress-status");
    if (status && next && status.textContent !== next.textContent) {
      status.textContent = next.textContent;
    }
    var every = seconds(fresh);
    if (every) {
      section.setAttribute("data-progress-every", String(every));
      hint(UPDATING);
    } else {
      section.removeAttribute("data-progress-every");
    }
    return every;
  }

  function poll() {
    fetch(window.location.href, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
      redirect: "error"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("progress");
        if (!fresh) {
          throw new Error("no progress on the page");
        }
        failures = 0;
        var every = apply(fresh);
        if (every) {
          window.setTimeout(poll, every * 1000);
        }
      })
      .catch(function () {
        failures += 1;
        if (failures >= 5) {
          hint(STOPPED);
          return;
        }
        window.setTimeout(poll, Math.min(MAX_WAIT, seconds(section) * 1000 * Math.pow(2, failures)));
      });
  }

  var every = seconds(section);
  if (every) {
    hint(UPDATING);
    window.setTimeout(poll, every * 1000);
  }
})();
