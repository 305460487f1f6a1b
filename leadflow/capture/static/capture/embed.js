/* Leadflow form embed: <div data-leadflow-form="SLUG"></div> + this script (async).
   Fetches the form definition, renders it in the visitor's language, posts with fetch.
   No third-party code; every text is set with textContent, never parsed as HTML. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var lang = (navigator.language || "en").slice(0, 2).toLowerCase();

  function cookie(name) {
    var m = document.cookie.match("(?:^|; )" + name + "=([^;]*)");
    return m ? decodeURIComponent(m[1]) : "";
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  function input(field) {
    var name = field.key, node;
    if (field.type === "textarea") node = el("textarea", {name: name});
    else if (field.type === "select") {
      node = el("select", {name: name});
      node.appendChild(el("option", {value: ""}));
      (field.options || field.choices.map(function (c) { return [c, c]; })).forEach(function (o) {
        node.appendChild(el("option", {value: o[0]}, o[1]));
      });
    } else {
      var types = {phone: "tel", checkbox: "checkbox", hidden: "hidden", email: "email",
                   number: "number", date: "date"};
      node = el("input", {name: name, type: types[field.type] || "text"});
      if (field.type === "checkbox") node.value = "yes";
    }
    if (field.required) node.required = true;
    return node;
  }
  function showResult(box, result) {  // an assessment's score and recommendations, inline
    var section = el("section", {"class": "leadflow-result", "data-band": result.band});
    section.appendChild(el("h3", {}, result.heading));
    section.appendChild(el("p", {"class": "leadflow-score"}, result.score_label));
    if (result.title) section.appendChild(el("h4", {}, result.title));
    if (result.recommendations.length) {
      section.appendChild(el("p", {}, result.recommendations_label));
      var list = el("ul");
      result.recommendations.forEach(function (r) { list.appendChild(el("li", {}, r)); });
      section.appendChild(list);
    }
    box.appendChild(section);
  }
  function render(box, def) {
    var form = el("form", {"class": "leadflow-form", novalidate: ""});
    if (def.title) form.appendChild(el("h3", {}, def.title));
    if (def.intro) form.appendChild(el("p", {}, def.intro));
    var params = new URLSearchParams(location.search);
    def.fields.forEach(function (field) {
      if (field.type === "hidden") {
        var hidden = input(field); hidden.value = params.get(field.key) || "";
        form.appendChild(hidden); return;
      }
      if (field.weighted) {  // an assessment question: one answer among a few
        var group = el("fieldset"); group.appendChild(el("legend", {}, field.label));
        field.options.forEach(function (o) {
          var l = el("label"), radio = el("input", {type: "radio", name: field.key, value: o[0]});
          if (field.required) radio.required = true;
          l.style.display = "block";
          l.appendChild(radio); l.appendChild(document.createTextNode(" " + o[1]));
          group.appendChild(l);
        });
        form.appendChild(group); return;
      }
      if (field.type === "multi-select") {
        var set = el("fieldset"); set.appendChild(el("legend", {}, field.label));
        field.choices.forEach(function (c) {
          var l = el("label"), box2 = el("input", {type: "checkbox", name: field.key, value: c});
          l.appendChild(box2); l.appendChild(document.createTextNode(" " + c)); set.appendChild(l);
        });
        form.appendChild(set); return;
      }
      var label = el("label", {}, field.label + (field.required ? " *" : "") + " ");
      label.style.display = "block";
      label.appendChild(input(field));
      form.appendChild(label);
    });
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"].forEach(function (k) {
      if (params.get(k)) form.appendChild(el("input", {type: "hidden", name: k, value: params.get(k)}));
    });
    var pot = el("input", {name: def.honeypot, tabindex: "-1", autocomplete: "off"});
    var potBox = el("div", {"aria-hidden": "true"});
    potBox.style.position = "absolute"; potBox.style.left = "-9999px";
    potBox.appendChild(pot); form.appendChild(potBox);
    if (def.consent) {
      var c = el("label"); c.style.display = "block";
      c.appendChild(el("input", {type: "checkbox", name: "consent", value: "yes"}));
      c.appendChild(document.createTextNode(" " + def.consent.text));
      form.appendChild(c);
    }
    var status = el("p", {role: "alert", "class": "leadflow-status"});
    form.appendChild(status);
    form.appendChild(el("button", {type: "submit"}, def.submit_label));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = {lf_token: def.token, page_url: location.href, lf_vid: cookie("lf_vid")};
      new FormData(form).forEach(function (v, k) {
        if (!(k in data)) data[k] = v;
        else if (Array.isArray(data[k])) data[k].push(v);
        else data[k] = [data[k], v];
      });
      fetch(def.submit_url + "?lang=" + encodeURIComponent(def.lang), {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(data)
      }).then(function (r) { return r.json(); }).then(function (res) {
        if (!res.ok) { status.textContent = res.message; return; }
        if (res.redirect) { location.href = res.redirect; return; }
        box.textContent = "";
        if (res.result) showResult(box, res.result);
        box.appendChild(el("p", {"class": "leadflow-thanks"}, res.message));
        if (res.confirm_email) box.appendChild(el("p", {}, res.confirm_email));
        if (res.download_url) box.appendChild(el("a", {href: res.download_url}, res.download_label));
      }).catch(function () { status.textContent = "Network error, please try again."; });
    });
    box.textContent = "";
    box.appendChild(form);
  }
  document.querySelectorAll("[data-leadflow-form]").forEach(function (box) {
    if (box.getAttribute("data-leadflow-ready")) return;
    box.setAttribute("data-leadflow-ready", "1");
    var slug = box.getAttribute("data-leadflow-form");
    var url = base + "/f/" + encodeURIComponent(slug) + "/definition.json?lang=" +
      encodeURIComponent(lang) + "&lf_vid=" + encodeURIComponent(cookie("lf_vid"));
    fetch(url).then(function (r) { return r.json(); }).then(function (def) {
      if (def.fields) render(box, def);
    });
  });
})();
