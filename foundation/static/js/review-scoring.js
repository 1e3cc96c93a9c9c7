// The scoring page's running weighted total, updated as the reviewer types. It is worked out as the ranking
// does it (foundation/grants/ranking.py, weighted_score): each scored criterion's score as a share of its maximum,
// times its weight, summed and divided by the weights of the criteria scored, times 100; criteria marked n/a or
// not (validly) scored are left out. Without scripts the page shows the total of the saved scores.
(function () {
  "use strict";

  function init() {
    var form = document.querySelector("form[data-running-total]");
    var output = form && form.querySelector("#weighted-total");
    if (!output) {
      return;
    }
    var basis = form.querySelector("#weighted-basis");
    var criteria = Array.prototype.slice.call(form.querySelectorAll("[data-weight][data-max]"));

    function update() {
      var sum = 0;
      var weights = 0;
      var scored = 0;
      criteria.forEach(function (criterion) {
        var weight = Number(criterion.getAttribute("data-weight"));
        var max = Number(criterion.getAttribute("data-max"));
        var notApplicable = criterion.querySelector(".na-toggle input[type=checkbox]");
        var input = criterion.querySelector("input.score-input");
        if (!input || (notApplicable && notApplicable.checked) || !(max > 0)) {
          return;
        }
        var text = input.value.trim();
        if (!/^\d+$/.test(text) || Number(text) > max) {
          return;
        }
        sum += (Number(text) / max) * weight;
        weights += weight;
        scored += 1;
      });
      output.textContent = weights ? ((sum / weights) * 100).toFixed(1) : "\u2014";
      if (basis) {
        basis.textContent = "from " + scored + " of " + criteria.length + " criteria scored";
      }
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
