/* A stand-in for Office.js in the add-in's browser tests (served in place of Microsoft's address).
 *
 * What the pane uses of Office.js, shaped as Microsoft documents it: Office.onReady, Office.EventType,
 * Office.context.mailbox.item (read mode: from/to/cc as EmailAddressDetails, organizer and attendees for
 * an appointment; compose mode: Recipients objects with getAsync), mailbox.addHandlerAsync(ItemChanged),
 * mailbox.getUserIdentityTokenAsync (AsyncResult with status and value). The test sets the items and the
 * token before the pane loads (window.__relsyncItems, window.__relsyncToken) and moves to another item
 * with window.__relsyncSelect(index), which fires ItemChanged as a pinned pane sees it.
 */
(function () {
  "use strict";
  var handlers = [];
  var ready = [];
  var isReady = false;

  function result(value) { return { status: "succeeded", value: value, error: null, asyncContext: null }; }

  function recipients(list) {
    return { getAsync: function (a, b) { var cb = typeof a === "function" ? a : b; cb(result(list.slice())); } };
  }

  function build(spec) {
    if (!spec) return null;
    var item = { itemType: spec.itemType || "message" };
    var fields = ["from", "to", "cc", "organizer", "requiredAttendees", "optionalAttendees"];
    fields.forEach(function (f) {
      if (spec[f] === undefined) return;
      var v = spec[f];
      if (spec.compose) {
        item[f] = recipients(Array.isArray(v) ? v : (v ? [v] : []));
      } else {
        item[f] = v;
      }
    });
    return item;
  }

  var mailbox = {
    item: null,
    userProfile: { emailAddress: "" },
    addHandlerAsync: function (type, handler, options, cb) {
      handlers.push({ type: type, handler: handler });
      var done = typeof options === "function" ? options : cb;
      if (done) done(result(undefined));
    },
    getUserIdentityTokenAsync: function (a, b) {
      var cb = typeof a === "function" ? a : b;
      window.__relsyncTokenCalls = (window.__relsyncTokenCalls || 0) + 1;
      cb(result(window.__relsyncToken || ""));
    }
  };

  window.Office = {
    EventType: { ItemChanged: "olkItemSelectedChanged", SelectedItemsChanged: "olkSelectedItemsChanged" },
    MailboxEnums: { ItemType: { Message: "message", Appointment: "appointment" } },
    context: { mailbox: mailbox, requirements: { isSetSupported: function () { return true; } } },
    onReady: function (cb) {
      if (isReady) { cb({ host: "Outlook", platform: "OfficeOnline" }); } else { ready.push(cb); }
      return Promise.resolve({ host: "Outlook", platform: "OfficeOnline" });
    }
  };

  window.__relsyncSelect = function (index) {
    mailbox.item = build((window.__relsyncItems || [])[index]);
    handlers.forEach(function (h) {
      if (h.type === window.Office.EventType.ItemChanged) h.handler({ type: h.type });
    });
  };

  function start() {
    mailbox.item = build((window.__relsyncItems || [])[0]);
    isReady = true;
    ready.splice(0).forEach(function (cb) { cb({ host: "Outlook", platform: "OfficeOnline" }); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    setTimeout(start, 0);
  }
})();
