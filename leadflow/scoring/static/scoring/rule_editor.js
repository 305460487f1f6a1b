/* The rule editor's condition builder: add and remove rows, offer the fields that fit
   the rule (the event's known properties, or lead and company attributes), hide what an
   attribute rule does not use. Without it the page still works: two rows, free text. */
(function () {
  "use strict";
  var form = document.getElementById("rule-form");
  if (!form) { return; }
  var rows = form.querySelector(".cond-rows");
  var eventFields = document.getElementById("event-fields");
  var known = JSON.parse(document.getElementById("event-properties").textContent || "{}");

  function kind() {
    var checked = form.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "event";
  }

  function refresh() {
    var attribute = kind() === "attribute";
    form.classList.toggle("kind-attribute", attribute);
    var type = form.querySelector("input[name=event_type]").value.trim();
    eventFields.textContent = "";
    (known[type] || []).forEach(function (name) {
      var option = document.createElement("option");
      option.value = name;
      eventFields.appendChild(option);
    });
    rows.querySelectorAll("input[name=cond_field]").forEach(function (input) {
      input.setAttribute("list", attribute ? "attribute-fields" : "event-fields");
    });
    rows.querySelectorAll(".cond-row").forEach(function (row) {
      var op = row.querySelector("select[name=cond_op]").value;
      row.querySelector("input[name=cond_value]").readOnly = op === "exists";
    });
  }

  form.addEventListener("change", refresh);
  form.addEventListener("input", function (event) {
    if (event.target.name === "event_type") { refresh(); }
  });
  form.addEventListener("click", function (event) {
    if (event.target.closest(".cond-remove")) {
      var row = event.target.closest(".cond-row");
      if (rows.querySelectorAll(".cond-row").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
      refresh();
    } else if (event.target.id === "cond-add") {
      var last = rows.querySelector(".cond-row:last-child");
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) {
        input.value = "";
        input.readOnly = false;
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      });
      copy.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
      copy.querySelector("select").selectedIndex = 0;
      rows.appendChild(copy);
      copy.querySelector("input[name=cond_field]").focus();
      refresh();
    }
  });
  refresh();
})();
