/* The segment builder: the filter tree as groups (all / any / not) of conditions that
   can be added, changed and removed; the JSON in the form follows every change, and the
   live count and a sample of matching leads come from POST /api/v1/segments/preview.
   Without it the page still works: the filter is edited as JSON. */
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  if (!form) { return; }
  var text = document.getElementById("segment-filter");
  var root = document.getElementById("segment-builder");
  var count = document.getElementById("preview-count");
  var sample = document.getElementById("preview-sample");
  var options = JSON.parse(document.getElementById("segment-options").textContent);
  var words = JSON.parse(document.getElementById("segment-words").textContent);
  var tree;
  try { tree = JSON.parse(text.value || "{\"all\": []}"); } catch (e) { return; }

  var KINDS = ["field", "score_group", "event", "email", "purchase", "inactive_days",
               "segment", "list", "quality_flag"];
  var DEFAULTS = {
    field: function () { return {field: "country", op: "equals", value: ""}; },
    score_group: function () {
      return {score_group: options.groups.length ? options.groups[0].id : 1,
              field: "total", op: "gte", value: 0};
    },
    event: function () { return {event: {type: "page_view", min: 1}}; },
    email: function () { return {email: {action: "opened", within_days: 30}}; },
    purchase: function () { return {purchase: {}}; },
    inactive_days: function () { return {inactive_days: 30}; },
    segment: function () { return {segment: options.segments.length ? options.segments[0].id : 0}; },
    list: function () { return {list: options.lists.length ? options.lists[0].id : 0}; },
    quality_flag: function () { return {quality_flag: options.flags[0].id}; }
  };

  function kindOf(node) {
    if ("score_group" in node) { return "score_group"; }
    var all = ["all", "any", "not"].concat(KINDS);
    for (var i = 0; i < all.length; i++) { if (all[i] in node) { return all[i]; } }
    return "field";
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { e.appendChild(c); } });
    return e;
  }

  function select(values, current, label, onChange) {
    var s = el("select", {"aria-label": label});
    values.forEach(function (v) {
      var value = typeof v === "object" ? v.id : v;
      var o = el("option", {value: String(value), text: typeof v === "object" ? v.name : (words[v] || v)});
      if (String(value) === String(current)) { o.selected = true; }
      s.appendChild(o);
    });
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }

  function input(value, label, onChange, type) {
    var i = el("input", {"aria-label": label, type: type || "text"});
    i.value = value === undefined || value === null ? "" : String(value);
    i.addEventListener("input", function () { onChange(i.value); });
    return i;
  }

  function scalar(raw) {
    var t = raw.trim();
    if (t === "true") { return true; }
    if (t === "false") { return false; }
    if (t !== "" && /^-?\d+(\.\d+)?$/.test(t)) { return Number(t); }
    return t;
  }

  function value(raw, op) {
    if (op === "exists") { return raw !== "false"; }
    if (op === "one_of") { return raw.split(",").map(scalar).filter(function (v) { return v !== ""; }); }
    return scalar(raw);
  }

  function shown(v) { return Array.isArray(v) ? v.join(", ") : v; }

  function number(raw) { var t = raw.trim(); return t === "" ? undefined : Number(t); }

  function set(obj, key, v) { if (v === undefined || v === "") { delete obj[key]; } else { obj[key] = v; } }

  /* A comparison (field, op, value) of `obj`, for a lead field or an event property. */
  function comparison(obj, fieldInput) {
    var op = select(options.ops, obj.op, words.operator, function (v) {
      obj.op = v; obj.value = value(shown(obj.value === undefined ? "" : String(shown(obj.value))), v);
      if (v === "exists") { obj.value = true; }
      changed(true);
    });
    var val = obj.op === "exists"
      ? select(["true", "false"], String(obj.value), words.value, function (v) { obj.value = v === "true"; changed(); })
      : input(shown(obj.value), words.value, function (v) { obj.value = value(v, obj.op); changed(); });
    return [fieldInput, op, val];
  }

  function leafEditor(node) {
    var k = kindOf(node);
    var parts = [];
    if (k === "field") {
      var f = input(node.field, words.field, function (v) { node.field = v.trim(); changed(); });
      f.setAttribute("list", "segment-fields");
      parts = comparison(node, f);
    } else if (k === "score_group") {
      parts = [select(options.groups, node.score_group, words.score_group, function (v) { node.score_group = Number(v); changed(); })]
        .concat(comparison(node, select(options.group_fields, node.field, words.field, function (v) { node.field = v; changed(); })));
    } else if (k === "event" || k === "purchase") {
      var spec = node[k];
      if (k === "event") {
        parts.push(input(spec.type, words.event_type, function (v) { spec.type = v.trim(); changed(); }));
        var where = (spec.where && spec.where[0]) || {field: "", op: "contains", value: ""};
        var wf = input(where.field, words.property, function (v) {
          where.field = v.trim(); spec.where = where.field ? [where] : undefined; if (!spec.where) { delete spec.where; } changed();
        });
        parts = parts.concat(comparison(where, wf));
      } else {
        parts.push(input(spec.product, words.product, function (v) { set(spec, "product", v.trim()); changed(); }));
        parts.push(input(spec.product_range, words.product_range, function (v) { set(spec, "product_range", v.trim()); changed(); }));
        parts.push(input(spec.min_value, words.min_value, function (v) { set(spec, "min_value", number(v)); changed(); }, "number"));
      }
      parts.push(input(spec.min, words.min, function (v) { set(spec, "min", number(v)); changed(); }, "number"));
      parts.push(input(spec.max, words.max, function (v) { set(spec, "max", number(v)); changed(); }, "number"));
      parts.push(input(spec.within_days, words.within_days, function (v) { set(spec, "within_days", number(v)); changed(); }, "number"));
    } else if (k === "email") {
      var e = node.email;
      parts.push(select(options.email_actions, e.action, words.action, function (v) { e.action = v; if (v.indexOf("not_") === 0) { delete e.min; } changed(); }));
      parts.push(input(e.within_days, words.within_days, function (v) { set(e, "within_days", number(v)); changed(); }, "number"));
      parts.push(input(e.campaign, words.campaign, function (v) { set(e, "campaign", number(v)); changed(); }, "number"));
      var machines = el("input", {type: "checkbox", "aria-label": words.machines});
      machines.checked = !!e.machines;
      machines.addEventListener("change", function () { set(e, "machines", machines.checked || undefined); changed(); });
      parts.push(el("label", {"class": "seg-check"}, [machines, document.createTextNode(" " + words.machines)]));
    } else if (k === "inactive_days") {
      parts.push(input(node.inactive_days, words.within_days, function (v) { node.inactive_days = number(v); changed(); }, "number"));
    } else {
      var choices = {segment: options.segments, list: options.lists, quality_flag: options.flags}[k];
      parts.push(select(choices, node[k], words[k], function (v) { node[k] = k === "quality_flag" ? v : Number(v); changed(); }));
    }
    return parts;
  }

  function render(node, parent, index) {
    var k = kindOf(node);
    var remove = parent ? el("button", {type: "button", "class": "button button-ghost seg-remove", text: words.remove}) : null;
    if (remove) {
      remove.addEventListener("click", function () {
        if (Array.isArray(parent)) { parent.splice(index, 1); } else { parent.not = {all: []}; }
        changed(true);
      });
    }
    if (k === "all" || k === "any" || k === "not") {
      var box = el("div", {"class": "seg-group seg-" + k});
      var head = el("div", {"class": "seg-head"}, [select(["all", "any", "not"], k, words.group, function (v) {
        var items = k === "not" ? [node.not] : node[k];
        delete node[k];
        if (v === "not") { node.not = items.length === 1 ? items[0] : {all: items}; } else { node[v] = items; }
        changed(true);
      })]);
      var children = k === "not" ? [node.not] : node[k];
      if (k !== "not") {
        var addLeaf = el("button", {type: "button", "class": "button button-ghost seg-add", text: words.add_condition});
        addLeaf.addEventListener("click", function () { node[k].push(DEFAULTS.field()); changed(true); });
        var addGroup = el("button", {type: "button", "class": "button button-ghost seg-add-group", text: words.add_group});
        addGroup.addEventListener("click", function () { node[k].push({any: []}); changed(true); });
        head.appendChild(addLeaf);
        head.appendChild(addGroup);
      }
      if (remove) { head.appendChild(remove); }
      box.appendChild(head);
      var list = el("div", {"class": "seg-children"});
      children.forEach(function (child, i) { list.appendChild(render(child, k === "not" ? node : node[k], i)); });
      box.appendChild(list);
      return box;
    }
    var row = el("div", {"class": "seg-leaf"});
    row.appendChild(select(KINDS, k, words.kind, function (v) {
      var fresh = DEFAULTS[v]();
      Object.keys(node).forEach(function (key) { delete node[key]; });
      Object.keys(fresh).forEach(function (key) { node[key] = fresh[key]; });
      changed(true);
    }));
    leafEditor(node).forEach(function (p) { row.appendChild(p); });
    if (remove) { row.appendChild(remove); }
    return row;
  }

  var timer = null;
  var asked = 0;
  function preview() {
    var mine = ++asked;
    count.textContent = words.counting;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json",
                "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value},
      body: JSON.stringify({filter: tree})
    }).then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (answer) {
        if (mine !== asked) { return; }
        var status = answer[0], body = answer[1];
        sample.textContent = "";
        if (status !== 200) {
          count.textContent = body.message || words.error;
          count.classList.add("seg-invalid");
          return;
        }
        count.classList.remove("seg-invalid");
        count.textContent = words.count.replace("%(count)s", String(body.count));
        count.setAttribute("data-count", String(body.count));
        body.sample.forEach(function (lead) {
          sample.appendChild(el("li", {}, [el("a", {href: "/leads/" + lead.id + "/", text: lead.name + " · " + lead.score})]));
        });
      })
      .catch(function () { if (mine === asked) { count.textContent = words.error; } });
  }

  function changed(structure) {
    text.value = JSON.stringify(tree, null, 1);
    if (structure) { draw(); }
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }

  function draw() {
    root.textContent = "";
    if (!("all" in tree || "any" in tree || "not" in tree)) { tree = {all: [tree]}; }
    root.appendChild(render(tree, null, 0));
  }

  text.addEventListener("change", function () {
    try { tree = JSON.parse(text.value); draw(); preview(); } catch (e) { count.textContent = words.bad_json; }
  });
  root.hidden = false;
  draw();
  preview();
})();
