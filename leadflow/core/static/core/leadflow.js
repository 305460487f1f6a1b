/* Leadflow: small progressive enhancements; every page works without them. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Buttons with data-confirm ask before submitting (e.g. marking a deal won or lost).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // The menu button of narrow screens folds and unfolds the main menu; the user menu
  // (a <details>) closes when one clicks elsewhere.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".nav-toggle");
    if (toggle) {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      document.body.classList.toggle("nav-open", open);
    }
    var menu = document.querySelector("details.usermenu[open]");
    if (menu && !menu.contains(event.target)) {
      menu.removeAttribute("open");
    }
  });

  // After htmx swaps in a new page of results, bring the top of the table into view.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "lead-results" && target.getBoundingClientRect().top < 0) {
      target.scrollIntoView({block: "start"});
    }
  });
})();
