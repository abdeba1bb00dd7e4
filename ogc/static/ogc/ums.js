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

  // A job that is not final polls its status and reloads once it ends (for the results link).
  var job = document.querySelector("[data-ums-job]");
  var active = ["accepted", "running"];
  if (job && active.indexOf(job.dataset.umsStatus) >= 0) {
    var timer = setInterval(function () {
      fetch(job.dataset.umsJob, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (status) {
          job.querySelectorAll("[data-ums-field]").forEach(function (field) {
            var value = status[field.dataset.umsField];
            field.textContent = value === undefined ? "" : value;
          });
          job.querySelector("progress").value = status.progress || 0;
          if (active.indexOf(status.status) < 0) {
            clearInterval(timer);
            window.location.reload();
          }
        });
    }, 2000);
  }
})();
