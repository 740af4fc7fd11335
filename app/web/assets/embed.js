/*! Portico embed loader: <div data-portico-order="shop" data-plan="pro" data-lang="de" data-prefill-company="ACME"></div> */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script ? script.src : "/embed.js", location.href).origin;
  var frames = [];

  function emit(host, name, detail) {
    host.dispatchEvent(new CustomEvent("portico:" + name, { bubbles: true, detail: detail || {} }));
  }

  function mount(host) {
    if (host.getAttribute("data-portico-mounted")) return;
    host.setAttribute("data-portico-mounted", "1");
    var data = host.dataset, query = new URLSearchParams({ embed: "1", origin: location.origin });
    if (data.plan) query.set("plan", data.plan);
    if (data.lang) query.set("lang", data.lang);
    if (data.coupon) query.set("coupon", data.coupon);
    Object.keys(data).forEach(function (key) {
      if (key.indexOf("prefill") === 0 && key.length > 7) {
        var name = key.slice(7).replace(/[A-Z]/g, function (c) { return "_" + c.toLowerCase(); });
        query.set(name.replace(/^_/, ""), data[key]);
      }
    });
    var frame = document.createElement("iframe");
    frame.src = base + "/" + encodeURIComponent(data.porticoOrder) + "/order?" + query;
    frame.title = data.title || "Order form";
    frame.setAttribute("scrolling", "no");
    frame.setAttribute("loading", "eager");
    frame.style.cssText = "display:block;width:100%;border:0;overflow:hidden;height:" +
      (parseInt(data.height, 10) || 640) + "px";
    var entry = { host: host, frame: frame, ready: false };
    frames.push(entry);
    setTimeout(function () {
      if (!entry.ready) emit(host, "error", { reason: "timeout" });
    }, 20000);
    host.appendChild(frame);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base || !event.data || typeof event.data.type !== "string") return;
    var entry = frames.filter(function (e) { return e.frame.contentWindow === event.source; })[0];
    if (!entry) return;
    var message = event.data, host = entry.host;
    if (typeof message.height === "number" && message.height > 0) {
      entry.frame.style.height = Math.ceil(message.height) + "px";
    }
    switch (message.type) {
      case "portico:ready":
        entry.ready = true;
        emit(host, "ready", { height: message.height });
        break;
      case "portico:resize":
        emit(host, "resize", { height: message.height });
        break;
      case "portico:scroll":
        var top = entry.frame.getBoundingClientRect().top + (message.offset || 0);
        if (top < 0 || top > innerHeight) scrollBy({ top: top - 16, behavior: "smooth" });
        break;
      case "portico:signup":
        emit(host, "signup", { signupId: message.signupId, plan: message.plan, merchant: message.merchant });
        if (message.redirect && /^https:\/\//.test(message.redirect)) location.assign(message.redirect);
        break;
      case "portico:error":
        emit(host, "error", { status: message.status });
        break;
    }
  });

  function scan() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-portico-order]"), mount);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
  window.Portico = { scan: scan };
})();
