/* The campaign builder: select a step in the graph to show its form beside it, drag a
   step to move it (its place is saved, and the graph drawn again by the server). Every
   other edit is a plain form (htmx swaps the builder in place). Without this script the
   graph's steps link to their forms, listed under it. */
(function () {
  "use strict";
  var drag = null;

  function builder() { return document.getElementById("builder"); }

  function select(position) {
    var root = builder();
    if (!root) { return; }
    root.querySelectorAll(".step-panel, .campaign-graph .node").forEach(function (el) {
      el.classList.toggle("selected", el.getAttribute("data-position") === String(position));
    });
    var url = new URL(window.location.href);
    url.searchParams.set("step", position);
    url.hash = "";
    window.history.replaceState(null, "", url);
  }

  function init() {
    var root = builder();
    if (!root) { return; }
    root.classList.add("js");
    var wanted = new URL(window.location.href).searchParams.get("step") ||
      (window.location.hash.match(/^#step-(\d+)$/) || [])[1];
    if (wanted) { select(wanted); }
  }

  function csrf() {
    var input = document.querySelector("#builder input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function place(position, x, y) {
    var root = builder();
    var url = root.getAttribute("data-place-url").replace(/\/0\/place$/, "/" + position + "/place");
    var body = new URLSearchParams({x: String(x), y: String(y), csrfmiddlewaretoken: csrf()});
    fetch(url, {method: "POST", body: body, credentials: "same-origin"})
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("builder");
        if (!fresh) { return; }
        builder().replaceWith(fresh);
        if (window.htmx) { window.htmx.process(fresh); }
        init();
        select(position);
      });
  }

  document.addEventListener("pointerdown", function (event) {
    var node = event.target.closest && event.target.closest(".campaign-graph .node");
    if (!node || event.button !== 0) { return; }
    var ctm = node.ownerSVGElement.getScreenCTM();
    drag = {node: node, x0: event.clientX, y0: event.clientY, scale: ctm ? ctm.a : 1,
            x: Number(node.getAttribute("data-x")), y: Number(node.getAttribute("data-y")),
            moved: false};
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    var dx = (event.clientX - drag.x0) / drag.scale, dy = (event.clientY - drag.y0) / drag.scale;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) { return; }
    drag.moved = true;
    drag.nx = Math.max(0, Math.round(drag.x + dx));
    drag.ny = Math.max(0, Math.round(drag.y + dy));
    drag.node.classList.add("dragging");
    drag.node.setAttribute("transform", "translate(" + drag.nx + "," + drag.ny + ")");
  });

  document.addEventListener("pointerup", function () {
    if (!drag) { return; }
    var done = drag;
    drag = null;
    if (done.moved) {
      done.node.setAttribute("data-dragged", "1");
      place(done.node.getAttribute("data-position"), done.nx, done.ny);
    }
  });

  document.addEventListener("click", function (event) {
    var node = event.target.closest && event.target.closest(".campaign-graph .node");
    if (!node) { return; }
    event.preventDefault();
    if (node.getAttribute("data-dragged")) { node.removeAttribute("data-dragged"); return; }
    select(node.getAttribute("data-position"));
  });

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  if (document.readyState !== "loading") { init(); }
})();
