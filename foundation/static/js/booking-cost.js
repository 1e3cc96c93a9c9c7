// The booking preview's total follows the ticked dates. Each date's box carries its cost in pence
// (data-pence); the server wrote the total for the dates ticked when the page was served, so without this
// script the page is still right about what it says.
(function () {
  "use strict";

  // As the site's `pounds` filter writes money: "£1,234.50", and whole pounds without pence ("£12").
  function pounds(pence) {
    var whole = Math.floor(pence / 100);
    var part = pence % 100;
    var text = "£" + String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return part ? text + "." + (part < 10 ? "0" : "") + part : text;
  }

  function init() {
    var total = document.querySelector("[data-booking-total]");
    var form = total && total.closest("form");
    if (!form) {
      return;
    }
    var label = total.querySelector("[data-total-label]");
    var amount = total.querySelector("[data-total-amount]");
    var boxes = form.querySelectorAll("input[type=checkbox][data-pence]");

    var served = total.getAttribute("data-ticked-dates");

    function tickedDates() {
      return Array.prototype.filter.call(boxes, function (box) {
        return box.checked;
      });
    }

    function update() {
      var ticked = tickedDates();
      var sum = ticked.reduce(function (pence, box) {
        return pence + (parseInt(box.getAttribute("data-pence"), 10) || 0);
      }, 0);
      label.textContent = "Total for the " + ticked.length + " date" + (ticked.length === 1 ? "" : "s") + " ticked";
      amount.textContent = pounds(sum);
    }

    // A browser may bring the boxes back as they were left (reload, back button): then count them again.
    function updateIfChanged() {
      var now = tickedDates()
        .map(function (box) {
          return box.value;
        })
        .join(",");
      if (now !== served) {
        update();
      }
    }

    form.addEventListener("change", function (event) {
      if (event.target.matches("input[type=checkbox][data-pence]")) {
        update();
      }
    });
    window.addEventListener("pageshow", updateIfChanged);
    updateIfChanged();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
