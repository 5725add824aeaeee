/* relsync's relationship card in Outlook's task pane.
 *
 * Follows the selected message or meeting (ItemChanged, for a pinned pane), reads its people (from, to,
 * cc, organizer, attendees; in compose mode through getAsync), asks relsync's API for their cards with a
 * Bearer token, and renders them with textContent only (nothing from the store is parsed as HTML).
 * Tokens: on Microsoft 365 an Entra token for relsync's API (Office.auth.getAccessToken, which Outlook
 * answers through its own sign-in, no second password); on Exchange Server the Exchange identity token
 * (getUserIdentityTokenAsync). Which one comes from the page's data-auth attribute (set from the config).
 */
(function () {
  "use strict";
  var root = document.getElementById("relsync");
  var AUTH = root.getAttribute("data-auth"); // "entra", "exchange" or "both"
  var generation = 0; // a newer item's render wins over a slower older one

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function clear() { while (root.firstChild) root.removeChild(root.firstChild); }

  function asPromise(fn) {
    return new Promise(function (resolve) {
      try {
        fn(function (result) {
          resolve(result && result.status === "succeeded" ? result.value : null);
        });
      } catch (e) { resolve(null); }
    });
  }

  function addressOf(x) {
    if (!x) return null;
    if (typeof x === "string") return x;
    return x.emailAddress === undefined ? null : x.emailAddress;
  }

  // One field of the item: an array/object in read mode, a Recipients/From object with getAsync in compose.
  function field(item, name) {
    var v = item[name];
    if (v === undefined || v === null) return Promise.resolve([]);
    if (typeof v.getAsync === "function") {
      return asPromise(function (cb) { v.getAsync(cb); }).then(function (got) {
        return Array.isArray(got) ? got : (got ? [got] : []);
      });
    }
    return Promise.resolve(Array.isArray(v) ? v : [v]);
  }

  function peopleOf(item) {
    var names = ["from", "sender", "organizer", "to", "cc", "requiredAttendees", "optionalAttendees"];
    return Promise.all(names.map(function (n) { return field(item, n); })).then(function (lists) {
      var out = [];
      lists.forEach(function (list) { list.forEach(function (x) { out.push(addressOf(x)); }); });
      return out;
    });
  }

  // Microsoft 365: nested app authentication (MSAL.js, brokered by Outlook) when relsync serves MSAL.js and
  // names the add-in's app registration; otherwise Office's own SSO (Office.auth.getAccessToken).
  var naa = null;
  function entraToken() {
    var clientId = root.getAttribute("data-client-id"), scope = root.getAttribute("data-scope");
    if (clientId && window.msal && window.msal.createNestablePublicClientApplication) {
      if (!naa) {
        naa = window.msal.createNestablePublicClientApplication({
          auth: { clientId: clientId, authority: "https://login.microsoftonline.com/common" }
        });
      }
      return naa.then(function (pca) {
        var request = { scopes: [scope] };
        return pca.acquireTokenSilent(request).catch(function () { return pca.acquireTokenPopup(request); });
      }).then(function (r) { return r && r.accessToken ? r.accessToken : null; }).catch(function () { return null; });
    }
    if (Office.auth && Office.auth.getAccessToken) {
      return Office.auth.getAccessToken({ allowSignInPrompt: true, forMSGraphAccess: false })
        .catch(function () { return null; });
    }
    return Promise.resolve(null);
  }

  function token() {
    var mailbox = Office.context.mailbox;
    var exchange = function () {
      return asPromise(function (cb) { mailbox.getUserIdentityTokenAsync(cb); });
    };
    if (AUTH === "exchange") return exchange();
    return AUTH === "both" ? entraToken().then(function (t) { return t || exchange(); }) : entraToken();
  }

  function api(path, body, method) {
    return token().then(function (t) {
      if (!t) return { status: 401, data: {} };
      var verb = method || "POST";
      return fetch(path, {
        method: verb, credentials: "omit",
        headers: { "Authorization": "Bearer " + t, "Content-Type": "application/json" },
        body: verb === "POST" ? JSON.stringify(body || {}) : undefined
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) { return { status: r.status, data: d }; });
      });
    });
  }

  function signInNeeded() {
    clear();
    root.appendChild(el("h1", "relsync"));
    var p = el("p", "relsync does not know who you are yet.", "error");
    root.appendChild(p);
    if (AUTH !== "entra") {
      root.appendChild(el("p", "On Exchange Server, link this Outlook to your relsync sign-in once:"));
      var b = el("button", "Link Outlook to relsync", "primary");
      b.onclick = function () {
        asPromise(function (cb) { Office.context.mailbox.getUserIdentityTokenAsync(cb); }).then(function (t) {
          window.open("/addin/link#" + encodeURIComponent(t || ""), "_blank");
        });
      };
      root.appendChild(b);
    }
  }

  function fact(dl, label, value) {
    if (value === null || value === undefined || value === "") return;
    dl.appendChild(el("dt", label));
    dl.appendChild(el("dd", value));
  }

  function day(iso) { return iso ? String(iso).slice(0, 10) : ""; }
  function when(iso) { return iso ? String(iso).slice(0, 16).replace("T", " ") : ""; }

  function renderCard(entry) {
    var c = entry.card;
    var box = el("section", null, "card");
    box.setAttribute("data-relationship", c.id);
    box.appendChild(el("h2", c.name));
    var dl = el("dl", null, "facts");
    if (c.organisation) fact(dl, "Organisation", c.organisation);
    fact(dl, "Group", c.group);
    fact(dl, "Type", c.type);
    fact(dl, "Status", c.status);
    if (c.tier || (c.value_percent !== null && c.value_percent !== undefined)) {
      var t = el("dd", (c.tier || "") + (c.value_percent !== null && c.value_percent !== undefined
        ? " (" + Number(c.value_percent).toFixed(1) + " % of value)" : ""), "tier");
      t.setAttribute("data-field", "tier");
      dl.appendChild(el("dt", "Tier"));
      dl.appendChild(t);
    }
    var signals = c.potential_signals || [];
    fact(dl, "Potential", c.potential ? c.potential + (signals.length ? " (" + signals.join(", ") + ")" : "") : null);
    var owner = el("dd", c.owner || "nobody yet");
    owner.setAttribute("data-field", "owner");
    dl.appendChild(el("dt", "Owner"));
    dl.appendChild(owner);
    var k = c.key_dates;
    fact(dl, "First contact", day(k.first_contact_at));
    fact(dl, "Last contact", day(k.latest_interaction_at));
    fact(dl, "Last purchase", day(k.latest_transaction_on));
    box.appendChild(dl);
    (c.overrides || []).forEach(function (o) {
      var line = el("p", o.dimension + " set by hand to " + o.value + " by " + o.set_by + " ", "muted");
      var rm = el("button", "Remove");
      rm.onclick = function () { act("/addin/api/relationships/" + c.id + "/override/" + o.dimension, null, "DELETE"); };
      line.appendChild(rm);
      box.appendChild(line);
    });
    var more = el("details");
    more.appendChild(el("summary", "Set type, tier or owner by hand"));
    var dim = el("select");
    dim.setAttribute("aria-label", "What to set");
    ["type", "tier", "owner"].forEach(function (d) { var o = el("option", d); o.value = d; dim.appendChild(o); });
    var val = el("input");
    val.setAttribute("aria-label", "Value");
    var set = el("button", "Set");
    set.onclick = function () {
      act("/addin/api/relationships/" + c.id + "/override", { dimension: dim.value, value: val.value });
    };
    more.appendChild(dim);
    more.appendChild(val);
    more.appendChild(set);
    box.appendChild(more);
    if (entry.what_matters) {
      box.appendChild(el("h3", "What matters to them"));
      box.appendChild(el("p", entry.what_matters));
    }
    (entry.pending_duplicates || []).forEach(function (d) {
      var w = el("div", "Possible duplicate " + d.kind + " (score " + Number(d.score).toFixed(2) + ")", "warn");
      var b = el("button", "Not the same");
      b.onclick = function () { act("/addin/api/duplicates/" + d.candidate_id + "/not-the-same", {}); };
      w.appendChild(b);
      box.appendChild(w);
    });
    var f = entry.open_follow_up;
    box.appendChild(el("h3", "Open follow-up"));
    if (f) {
      var fp = el("p", f.subject + " - due " + f.due + (f.mine ? "" : " (" + f.owner + ")"));
      fp.setAttribute("data-field", "follow-up");
      box.appendChild(fp);
      if (f.mine) {
        var note = el("textarea");
        note.rows = 2;
        note.placeholder = "Note (what was done)";
        note.setAttribute("aria-label", "Note for the follow-up");
        note.setAttribute("data-follow-up", String(f.id));
        var done = el("button", "Mark done", "primary");
        done.onclick = function () { act("/addin/api/followups/" + f.id + "/done", { note: note.value }); };
        box.appendChild(note);
        box.appendChild(done);
      }
    } else {
      box.appendChild(el("p", "None open.", "muted"));
    }
    // What to offer next: what similar customers buy that this one has not, with its support (issue 16).
    box.appendChild(el("h3", "What to offer next"));
    var offers = entry.next_offer || [];
    var offer;
    if (offers.length) {
      offer = el("ul", null, "offers");
      offers.forEach(function (o) { offer.appendChild(el("li", o.line)); });
    } else {
      offer = el("p", "Nothing to suggest: customers like this one buy nothing it lacks yet.", "muted");
    }
    offer.setAttribute("data-field", "next-offer");
    box.appendChild(offer);
    box.appendChild(el("h3", "Last interactions (" + (c.interactions_total === null
      ? "more than 10,000" : c.interactions_total.toLocaleString("en")) + " in all)"));
    var ul = el("ul");
    ul.setAttribute("data-field", "timeline");
    c.timeline.forEach(function (i) {
      ul.appendChild(el("li", when(i.occurred_at) + " - " + (i.subject || "(no subject)") + " - " + i.kind + ", "
        + (i.mailboxes.length ? i.mailboxes.join(", ") : "no mailbox")));
    });
    box.appendChild(ul);
    return box;
  }

  // A note being typed survives a new render of the pane (after an action on another card, or the same
  // item selected again): the notes are kept by follow-up id and put back into the same follow-up's box.
  function typedNotes() {
    var typed = {};
    root.querySelectorAll("textarea[data-follow-up]").forEach(function (t) {
      if (t.value) typed[t.getAttribute("data-follow-up")] = t.value;
    });
    return typed;
  }

  function restoreNotes(typed) {
    root.querySelectorAll("textarea[data-follow-up]").forEach(function (t) {
      var kept = typed[t.getAttribute("data-follow-up")];
      if (kept && !t.value) t.value = kept;
    });
  }

  function render() {
    var mine = ++generation;
    var item = Office.context.mailbox.item;
    if (!item) { clear(); root.appendChild(el("p", "Select a message or meeting.", "empty")); return; }
    var type = item.itemType === "appointment" ? "appointment" : "message";
    peopleOf(item).then(function (addresses) {
      return api("/addin/api/card", { item_type: type, addresses: addresses });
    }).then(function (res) {
      if (mine !== generation) return;
      if (res.status === 401) { signInNeeded(); return; }
      var typed = typedNotes();
      clear();
      root.appendChild(el("h1", "relsync"));
      if (res.status !== 200) { root.appendChild(el("p", res.data.error || "relsync cannot answer now.", "error")); return; }
      var d = res.data;
      d.cards.forEach(function (entry) { root.appendChild(renderCard(entry)); });
      if (d.more_cards) root.appendChild(el("p", d.more_cards + " more relationships on this item.", "muted"));
      if (d.unknown.length) {
        var u = el("section", null, "card unknown");
        u.appendChild(el("h2", "Not in relsync yet"));
        var list = el("ul");
        d.unknown.slice(0, 10).forEach(function (a) { list.appendChild(el("li", a)); });
        u.appendChild(list);
        if (d.unknown.length > 10) u.appendChild(el("p", (d.unknown.length - 10) + " more.", "muted"));
        u.appendChild(el("p", d.unknown_hint, "muted"));
        root.appendChild(u);
      }
      if (d.empty) root.appendChild(el("p", d.empty, "empty"));
      restoreNotes(typed);
      var t = d.triage;
      if (t.more || t.cut) root.appendChild(el("p", "Only the first " + t.looked_up + " outside addresses are shown.", "muted"));
    }).catch(function () {
      if (mine !== generation) return;
      clear();
      root.appendChild(el("p", "relsync cannot be reached right now.", "error"));
    });
  }

  function act(path, body, method) {
    api(path, body, method).then(function (res) {
      if (res.status === 401) { signInNeeded(); return; }
      if (res.status !== 200) {
        var p = el("p", res.data.error || "That did not work.", "error");
        p.setAttribute("role", "alert");
        root.insertBefore(p, root.firstChild);
        return;
      }
      render();
    });
  }

  Office.onReady(function () {
    var mailbox = Office.context.mailbox;
    if (mailbox && mailbox.addHandlerAsync) {
      mailbox.addHandlerAsync(Office.EventType.ItemChanged, render);
    }
    render();
  });
})();
