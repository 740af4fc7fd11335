/*! Portico in-frame messenger: tells the embedding page our height and what happened. */
(function () {
  "use strict";
  var root = document.documentElement, parentOrigin = root.getAttribute("data-parent-origin");
  if (!parentOrigin || window.parent === window) return;
  var last = 0;

  function send(type, extra) {
    var message = { type: type, height: root.scrollHeight };
    for (var key in extra) message[key] = extra[key];
    window.parent.postMessage(message, parentOrigin);
  }

  function resized() {
    var height = root.scrollHeight;
    if (height !== last) {
      last = height;
      send("portico:resize");
    }
  }

  addEventListener("load", function () {
    last = root.scrollHeight;
    send("portico:ready");
    var signup = document.querySelector("[data-portico-signup]");
    if (signup) {
      send("portico:signup", {
        signupId: signup.getAttribute("data-signup-id"),
        plan: signup.getAttribute("data-plan"),
        merchant: signup.getAttribute("data-merchant"),
        redirect: signup.getAttribute("data-redirect") || null
      });
    }
    var status = root.getAttribute("data-status");
    if (status && status !== "200") send("portico:error", { status: parseInt(status, 10) });
    var summary = document.querySelector("[data-error-summary]");
    if (summary) send("portico:scroll", { offset: summary.getBoundingClientRect().top });
  });
  if (window.ResizeObserver) new ResizeObserver(resized).observe(root);
  else addEventListener("resize", resized);
})();
