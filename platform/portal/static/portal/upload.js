// The upload page: the file goes to the API in Content-Range chunks (resumable) with a progress
// bar; the inferred schema is shown for the owner to confirm or override; then it is registered.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form || !window.fetch) return;  // without fetch the form posts whole to the portal
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const bar = form.querySelector(".progress");
  const chunkBytes = parseInt(form.dataset.chunk, 10);
  let session = null;  // the API's upload session, once the bytes are up and checked

  function headers(extra) {
    return Object.assign({"X-CSRFToken": csrf, "Accept": "application/json"}, extra || {});
  }

  function progress(done, total, text) {
    document.getElementById("upload-progress").hidden = false;
    const percent = total ? Math.round(100 * done / total) : 100;
    bar.firstElementChild.style.width = percent + "%";
    bar.setAttribute("aria-valuenow", String(percent));
    document.getElementById("upload-status").textContent = text || (percent + "% uploaded");
  }

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  // Each refused field's message next to it (the API's errors name their fields).
  function showErrors(body) {
    let shown = false;
    Object.keys(body).forEach(function (field) {
      if (field === "detail") return;
      const name = field.split(".")[0];
      const slot = form.querySelector('[data-error-for="' + name + '"]') ||
                   form.querySelector('[data-error-for="file"]');
      slot.textContent = field + ": " + [].concat(body[field]).join(" ");
      const input = form.querySelector('[name="' + name + '"]');
      if (input) input.setAttribute("aria-invalid", "true");
      shown = true;
    });
    if (!shown) form.querySelector('[data-error-for="file"]').textContent = body.detail || "refused";
  }

  async function api(url, options) {
    const response = await fetch(url, Object.assign({credentials: "same-origin"}, options));
    const body = response.status === 204 ? {} : await response.json().catch(function () { return {}; });
    return {response: response, body: body};
  }

  async function send(file) {
    const format = form.elements.format.value;
    const start = await api(form.dataset.sessions, {method: "POST", headers: headers({"Content-Type": "application/json"}),
      body: JSON.stringify(Object.assign({filename: file.name, size: file.size}, format ? {format: format} : {}))});
    if (start.response.status !== 201) { showErrors(start.body); return null; }
    let offset = 0;
    const url = start.body.url;
    while (offset < file.size) {
      const chunk = file.slice(offset, Math.min(file.size, offset + chunkBytes));
      let sent;
      try {
        sent = await api(url, {method: "PUT", body: chunk, headers: headers({
          "Content-Type": "application/octet-stream",
          "Content-Range": "bytes " + offset + "-" + (offset + chunk.size - 1) + "/" + file.size})});
      } catch (err) {  // the connection dropped: ask where the upload stands, and go on from there
        const asked = await api(url, {headers: headers()});
        if (!asked.response.ok) { showErrors(asked.body); return null; }
        offset = asked.body.offset;
        continue;
      }
      if (sent.response.status === 409) { offset = parseInt(sent.response.headers.get("Upload-Offset"), 10); continue; }
      if (!sent.response.ok) { showErrors(sent.body); return null; }
      offset = sent.body.offset;
      progress(offset, file.size);
    }
    progress(file.size, file.size, "Checking the file…");
    const checked = await api(url + "check/", {method: "POST", headers: headers()});
    if (!checked.response.ok) { showErrors(checked.body); progress(0, 1, "Refused."); return null; }
    return {url: url, inspection: checked.body};
  }

  function showSchema(inspection) {
    const options = document.getElementById("type-options").content;
    if (inspection.columns) {
      const body = document.querySelector("#schema tbody");
      body.textContent = "";
      inspection.columns.forEach(function (column) {
        const row = body.insertRow();
        row.insertCell().textContent = column.name;
        const select = document.createElement("select");
        select.appendChild(options.cloneNode(true));
        select.value = column.type;
        select.dataset.column = column.name;
        select.setAttribute("aria-label", "type of " + column.name);
        row.insertCell().appendChild(select);
        row.insertCell().textContent = column.missing;
        row.insertCell().textContent = column.distinct;
        row.insertCell().textContent = column.identifier ? "identifier-like: " + column.reason : "";
      });
      document.getElementById("schema").hidden = false;
    } else {
      const images = inspection.images;
      const summary = document.getElementById("images-summary");
      summary.textContent = images.images + " images of " + images.shape.join(" x ") + " (" + images.dtype +
        "), classes: " + images.classes.join(", ");
      summary.hidden = false;
    }
    progress(1, 1, "Checked: " + inspection.samples + " samples. Confirm the columns and register.");
    document.getElementById("upload-submit").textContent = "Register";
  }

  async function finish() {
    const columns = {};
    form.querySelectorAll("#schema select[data-column]").forEach(function (select) { columns[select.dataset.column] = select.value; });
    const thresholds = form.elements.privacy_thresholds.value.trim();
    let parsed = {};
    if (thresholds) {
      try { parsed = JSON.parse(thresholds); } catch (err) { showErrors({privacy_thresholds: ["is not valid JSON"]}); return; }
    }
    const body = {slug: form.elements.slug.value.trim(), title: form.elements.title.value.trim(),
      access: form.querySelector("[name=access]:checked").value, columns: columns, privacy_thresholds: parsed};
    if (form.elements.epsilon_budget.value.trim()) body.epsilon_budget = form.elements.epsilon_budget.value.trim();
    const done = await api(session.url + "finish/", {method: "POST", headers: headers({"Content-Type": "application/json"}),
      body: JSON.stringify(body)});
    if (done.response.status === 201) { window.location.href = "/datasets/" + done.body.dataset + "/"; return; }
    showErrors(done.body);
    if (done.body.file || done.body.format) session = null;  // the bytes were refused: start again
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    clearErrors();
    const button = document.getElementById("upload-submit");
    button.disabled = true;
    try {
      if (session) { await finish(); return; }
      const file = form.elements.file.files[0];
      if (!file) { showErrors({file: ["choose a file to upload"]}); return; }
      session = await send(file);
      if (session) showSchema(session.inspection);
    } finally {
      button.disabled = false;
    }
  });
  form.elements.file.addEventListener("change", function () { session = null; });
})();
