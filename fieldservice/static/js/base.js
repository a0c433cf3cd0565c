/* Every page of the web app. No inline handlers anywhere (the Content-Security-Policy refuses
   them): behaviour is declared with data attributes and wired here. */
(function () {
  "use strict";
  // <select data-submit-on-change>: choosing an option submits its form (the language switch).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-submit-on-change") && target.form) {
      target.form.submit();
    }
  });
})();
