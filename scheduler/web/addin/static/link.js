/* /addin/link: the pane passes the Exchange identity token in the URL fragment (never sent to a server
   or written to a log); put it in the form, then drop it from the address bar. */
(function () {
  "use strict";
  var token = decodeURIComponent((window.location.hash || "").slice(1));
  document.getElementById("token").value = token;
  if (window.history && window.history.replaceState) window.history.replaceState(null, "", window.location.pathname);
})();
