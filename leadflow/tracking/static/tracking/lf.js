/* Leadflow website tracking. Served by Leadflow at /t/lf.js; no third party.
   Install (before </head>):
     <script>window.leadflow=window.leadflow||function(){(leadflow.q=leadflow.q||[]).push(arguments)};</script>
     <script src="https://LEADFLOW/t/lf.js" data-site="SITE_KEY" async></script>
   API: leadflow('track', name, props), leadflow('identify', {email, first_name, ...}),
        leadflow('consent', true|false). */
(function (w, d) {
  "use strict";
  var cfg = w.__leadflowConfig || {};
  var queued = (w.leadflow && w.leadflow.q) || [];
  var script = d.currentScript || d.querySelector("script[data-site][src*='/t/lf.js']");
  if (!script || w.leadflow && w.leadflow.loaded) { return; }
  var site = script.getAttribute("data-site") || "";
  var endpoint = new URL(script.src, location.href).origin + "/t/collect";
  var COOKIE = "lf_vid", MAX_AGE = 34186669; /* 13 months, in seconds */
  var FILES = /\.(pdf|zip|rar|7z|gz|tgz|docx?|xlsx?|pptx?|odt|ods|odp|csv|txt|rtf|epub|mp3|mp4|mov|dmg|exe|msi)$/i;
  var dnt = cfg.respectDnt && (navigator.doNotTrack === "1" || w.doNotTrack === "1" ||
                               navigator.globalPrivacyControl === true);
  var consent = !cfg.consentMode;
  var buffer = [], timer = null, vid = null;

  function random(n) {
    var bytes = new Uint8Array(n), out = "", abc =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (w.crypto || w.msCrypto).getRandomValues(bytes);
    for (var i = 0; i < n; i++) { out += abc.charAt(bytes[i] & 63); }
    return out;
  }
  function readCookie() {
    var m = d.cookie.match(/(?:^|;\s*)lf_vid=([A-Za-z0-9_-]{8,64})/);
    return m ? m[1] : null;
  }
  function visitorId() {
    if (!vid) {
      vid = readCookie() || random(22);
      d.cookie = COOKIE + "=" + vid + "; Max-Age=" + MAX_AGE + "; Path=/; SameSite=Lax" +
        (location.protocol === "https:" ? "; Secure" : "");
    }
    return vid;
  }
  function send(items) {
    var body = JSON.stringify({site: site, vid: visitorId(), consent: consent, events: items});
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) { return; }
    if (w.fetch) {
      w.fetch(endpoint, {method: "POST", body: body, keepalive: true, credentials: "omit",
                         headers: {"Content-Type": "text/plain"}})["catch"](function () {});
    }
  }
  function flush() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (dnt || !consent || !buffer.length) { return; }
    while (buffer.length) { send(buffer.splice(0, 50)); }
  }
  function push(type, props, now) {
    if (dnt) { return; }
    buffer.push({type: type, key: random(16), ts: Date.now(), props: props || {}});
    if (now) { flush(); } else if (!timer) { timer = setTimeout(flush, 1000); }
  }
  function pageView() {
    push("page_view", {url: location.href, title: d.title, referrer: d.referrer});
  }
  function onClick(event) {
    var a = event.target && event.target.closest ? event.target.closest("a[href]") : null;
    if (!a || !/^https?:$/.test(a.protocol)) { return; }
    if (FILES.test(a.pathname)) {
      push("download", {url: a.href, file: a.pathname.split("/").pop(), page: location.href}, true);
    } else if (a.hostname !== location.hostname) {
      push("outbound_click", {url: a.href, page: location.href}, true);
    }
  }
  function command(name, arg1, arg2) {
    if (name === "track" && typeof arg1 === "string") { push(arg1, arg2, false); }
    else if (name === "identify" && arg1 && typeof arg1 === "object") { push("identify", arg1, true); }
    else if (name === "consent") {
      consent = arg1 !== false;
      if (consent) { flush(); } else {
        buffer = [];
        if (cfg.consentMode) { d.cookie = COOKIE + "=; Max-Age=0; Path=/; SameSite=Lax"; vid = null; }
      }
    } else if (name === "page") { pageView(); }
  }

  /* A tracked email click lands here with ?lf_id=<signed lead id>: identify with it,
     then take it out of the address bar so that it is neither shared nor recorded. */
  var params = new URLSearchParams(location.search), lfId = params.get("lf_id");
  if (lfId) {
    params["delete"]("lf_id");
    var q = params.toString();
    try { history.replaceState(history.state, "", location.pathname + (q ? "?" + q : "") + location.hash); } catch (e) {}
  }
  pageView();
  if (lfId) { push("lf_id", {token: lfId}, true); }
  for (var i = 0; i < queued.length; i++) { command.apply(null, queued[i]); }
  w.leadflow = function () { command.apply(null, arguments); };
  w.leadflow.loaded = true;
  d.addEventListener("click", onClick, true);
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") { flush(); } });
  w.addEventListener("pagehide", flush);
})(window, document);
