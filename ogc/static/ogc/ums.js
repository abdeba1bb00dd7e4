// Progressive enhancement of the HTML pages: the execute form, dismissing, a job's live status.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- Execute form: fields generated from the input schemas build the execute request. ---

  // An input's value from its control; undefined leaves the input out of the request.
  function inputValue(control) {
    var widget = control.dataset.umsWidget;
    if (widget === "checkbox") return control.checked;
    var text = control.value;
    if (text.trim() === "") return undefined;
    if (widget === "number") return Number(text);
    if (widget === "select" || widget === "json") return JSON.parse(text);
    return text;
  }

  // The request with the fields' inputs; false (and the culprit marked) if a field is no JSON.
  function buildRequest(form) {
    var inputs = {};
    var valid = true;
    form.querySelectorAll("[data-ums-input]").forEach(function (control) {
      control.setCustomValidity("");
      try {
        var value = inputValue(control);
        if (value !== undefined) inputs[control.dataset.umsInput] = value;
      } catch (error) {
        control.setCustomValidity("Not valid JSON: " + error.message);
        valid = false;
      }
    });
    if (!valid) return false;
    var editor = form.querySelector("[data-ums-request]");
    var request;
    try {
      request = JSON.parse(editor.value);
    } catch (error) {
      request = { response: "document" };
    }
    request.inputs = inputs;
    editor.value = JSON.stringify(request, null, 2);
    delete editor.dataset.umsEdited;
    return true;
  }

  function showAnswer(form, text) {
    var answer = form.querySelector("[data-ums-answer]");
    answer.hidden = false;
    answer.textContent = text;
  }

  document.querySelectorAll("form[data-ums-execute]").forEach(function (form) {
    var editor = form.querySelector("[data-ums-request]");
    // The JSON editor follows the fields; edits made in it since are sent as they are.
    form.querySelectorAll("[data-ums-input]").forEach(function (control) {
      control.addEventListener("change", function () { buildRequest(form); });
    });
    buildRequest(form);
    editor.addEventListener("input", function () { editor.dataset.umsEdited = "true"; });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!editor.dataset.umsEdited && !buildRequest(form)) {
        form.reportValidity();
        return;
      }
      var headers = { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) };
      if (form.dataset.umsAsync) headers["Prefer"] = "respond-async";
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, { method: "POST", headers: headers, body: editor.value })
        .then(function (response) {
          var location = response.headers.get("Location");
          if (response.status === 201 && location) {
            window.location.href = location + "?f=html";
            return null;
          }
          button.disabled = false;
          return response.text().then(function (text) { showAnswer(form, response.status + "\n" + text); });
        })
        .catch(function (error) {
          button.disabled = false;
          showAnswer(form, String(error));
        });
    });
  });

  // --- Dismiss: DELETE the job; its page then shows the new status. ---

  document.querySelectorAll("form[data-ums-dismiss]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(form.action, { method: "DELETE", headers: { "X-CSRFToken": csrfToken(form) } })
        .then(function (response) { return response.json(); })
        .then(function (status) { if (window.umsJobShow) window.umsJobShow(status); });
    });
  });

  // --- A job's page follows its status on the job socket, polling the JSON if that fails. ---

  var job = document.querySelector("[data-ums-job]");
  var active = ["accepted", "running"];
  if (!job) return;

  var messages = job.querySelector("[data-ums-messages]");
  var lastMessage = messages.lastElementChild ? messages.lastElementChild.textContent : "";
  var ended = active.indexOf(job.dataset.umsStatus) < 0;

  function show(status) {
    job.querySelectorAll("[data-ums-field]").forEach(function (field) {
      var value = status[field.dataset.umsField];
      if (value !== undefined) field.textContent = value === null ? "" : value;
    });
    job.querySelector("progress").value = status.progress || 0;
    var badge = job.querySelector(".status");
    badge.className = "status status-" + status.status;
    if (status.message && status.message !== lastMessage) {
      lastMessage = status.message;
      var item = document.createElement("li");
      item.textContent = status.message;
      messages.appendChild(item);
    }
    // What applies to the new status shows (results link, dismiss button); the rest hides.
    job.querySelectorAll("[data-ums-when]").forEach(function (element) {
      element.hidden = element.dataset.umsWhen.split(" ").indexOf(status.status) < 0;
    });
    job.dataset.umsStatus = status.status;
    ended = active.indexOf(status.status) < 0;
  }
  window.umsJobShow = show;

  if (ended) return;

  function poll() {
    var timer = setInterval(function () {
      if (ended) return clearInterval(timer);
      fetch(job.dataset.umsJob, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(show)
        .catch(function () { /* the next poll tries again */ });
    }, 2000);
  }

  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  try {
    var socket = new WebSocket(scheme + window.location.host + job.dataset.umsSocket);
    socket.onmessage = function (event) {
      show(JSON.parse(event.data));
      if (ended) socket.close();
    };
    socket.onclose = function () { if (!ended) poll(); };
  } catch (error) {
    poll();
  }
})();
