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

  function init() {
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
