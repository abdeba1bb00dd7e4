// Progressive enhancement of the HTML pages: execute form, dismiss button, live job status.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // The execute form posts its JSON; an asynchronous job opens its page.
  document.querySelectorAll("form[data-ums-execute]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var answer = form.querySelector("[data-ums-answer]");
      var headers = { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) };
      if (form.elements["async"].checked) headers["Prefer"] = "respond-async";
      fetch(form.action, { method: "POST", headers: headers, body: form.elements["request"].value })
        .then(function (response) {
          var location = response.headers.get("Location");
          if (response.status === 201 && location) {
            window.location.href = location + "?f=html";
            return null;
          }
          return response.text().then(function (text) { answer.textContent = response.status + "\n" + text; });
        })
        .catch(function (error) { answer.textContent = String(error); });
    });
  });

  // Dismiss: DELETE the job, then show its new status.
  document.querySelectorAll("form[data-ums-dismiss]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(form.action, { method: "DELETE", headers: { "X-CSRFToken": csrfToken(form) } })
        .then(function () { window.location.reload(); });
    });
  });

  // A job that is not final follows its status on the job socket (polling if the socket
  // fails) and reloads once it ends, for the results link.
  var job = document.querySelector("[data-ums-job]");
  var active = ["accepted", "running"];
  if (job && active.indexOf(job.dataset.umsStatus) >= 0) {
    var ended = false;
    var show = function (status) {
      job.querySelectorAll("[data-ums-field]").forEach(function (field) {
        if (field.dataset.umsField in status) {
          var value = status[field.dataset.umsField];
          field.textContent = value === null ? "" : value;
        }
      });
      job.querySelector("progress").value = status.progress || 0;
      if (!ended && active.indexOf(status.status) < 0) {
        ended = true;
        window.location.reload();
      }
    };
    var poll = function () {
      var timer = setInterval(function () {
        if (ended) return clearInterval(timer);
        fetch(job.dataset.umsJob, { headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(show);
      }, 2000);
    };
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      var socket = new WebSocket(scheme + window.location.host + job.dataset.umsSocket);
      socket.onmessage = function (event) { show(JSON.parse(event.data)); };
      socket.onclose = function () { if (!ended) poll(); };
    } catch (error) {
      poll();
    }
  }
})();
