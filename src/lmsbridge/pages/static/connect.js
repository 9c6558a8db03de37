// The connection page's messages to the product that frames it, as Kombo's @kombo-api/connect
// expects them: {type: "success", data: {activation_token}} once the integration exists, and
// {type: "close"} when the user closes the flow. Messages go only to the origins allowed to
// frame the page (postMessage drops a message whose target origin is not the parent's).
(function () {
  "use strict";
  var root = document.getElementById("connect");
  if (!root) return;
  var origins = JSON.parse(root.getAttribute("data-parent-origins") || "[]");
  var framed = root.getAttribute("data-embedded") === "true" && window.parent !== window;

  function tell(message) {
    if (!framed) return;
    origins.forEach(function (origin) {
      window.parent.postMessage(message, origin);
    });
  }

  var close = document.getElementById("close");
  if (close) {
    close.addEventListener("click", function () {
      tell({ type: "close" });
    });
  }

  var token = root.getAttribute("data-activation-token");
  if (token) tell({ type: "success", data: { activation_token: token } });

  var form = document.querySelector("form.connect");
  if (form) {
    form.addEventListener("submit", function () {
      var button = document.getElementById("submit");
      button.disabled = true;
      button.textContent = "Checking the connection…";
    });
  }
})();
