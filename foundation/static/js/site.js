// The site's behaviour, all of it optional: every page works without scripts.
// Error summaries (the GOV.UK pattern): after a failed submit the summary takes focus, so keyboard and screen
// reader users hear what went wrong first; each link in it moves focus to its field and shows the field's label.
(function () {
  "use strict";

  function labelFor(input) {
    var fieldset = input.closest("fieldset");
    if (fieldset && (input.type === "radio" || input.type === "checkbox")) {
      return fieldset.querySelector("legend") || fieldset;
    }
    return (input.id && document.querySelector('label[for="' + input.id + '"]')) || input;
  }

  // The navigation folds behind the "Menu" button where the CSS says so (phones); Escape folds it again.
  function initMenu() {
    var button = document.querySelector(".menu-toggle");
    var row = button && button.closest(".header-row");
    if (!row) {
      return;
    }
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      row.classList.toggle("menu-open", open);
    }
    button.hidden = false;
    row.classList.add("has-menu");
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    row.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && row.classList.contains("menu-open")) {
        setOpen(false);
        button.focus();
      }
    });
  }

  function init() {
    initMenu();
    var summary = document.querySelector(".error-summary");
    if (!summary) {
      return;
    }
    summary.setAttribute("tabindex", "-1");
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var input = document.getElementById(link.getAttribute("href").slice(1));
      if (!input) {
        return;
      }
      event.preventDefault();
      labelFor(input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
