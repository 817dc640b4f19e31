// The page of `symbolic serve`: fills the form from /api/options, queues jobs, polls them and
// shows each tune. No framework and no inline script: the page's policy allows only this file.
"use strict";

const POLL_MS = 300;
const $ = (id) => document.getElementById(id);

function fill(select, values) {
  for (const value of values) {
    const option = document.createElement("option");
    option.value = option.textContent = value;
    select.append(option);
  }
}

async function loadOptions() {
  const answer = await fetch("/api/options");
  const options = await answer.json();
  fill($("tune_type"), options.tune_types);
  fill($("meter"), options.meters);
  fill($("mode"), options.modes.filter((m) => m !== "major"));
  fill($("key"), options.keys);
  fill($("instrument"), options.instruments);
  $("instrument").value = "fiddle";
  // The form's bounds are the server's limits, so the browser's checks and the server's agree.
  const limits = options.limits;
  Object.assign($("temperature"), { min: limits.temperature[0], max: limits.temperature[1] });
  Object.assign($("top_p"), { min: 0.01, max: limits.top_p[1] });
  Object.assign($("seed"), { min: limits.seed[0], max: limits.seed[1] });
  Object.assign($("count"), { min: 1, max: limits.max_tunes });
  Object.assign($("tempo"), { min: limits.tempo[0], max: limits.tempo[1] });
  Object.assign($("mode_prior"), { min: limits.mode_prior[0], max: limits.mode_prior[1] });
  $("prime").maxLength = limits.max_prime_characters;
}

// The form as the API's JSON: empty fields are left out, numbers sent as numbers.
function formParameters() {
  const body = {};
  for (const name of ["tune_type", "meter", "mode", "key", "prime", "instrument"]) {
    const value = $(name).value.trim();
    if (value) body[name] = value;
  }
  for (const name of ["temperature", "top_p", "seed", "count", "tempo", "mode_prior"]) {
    const text = $(name).value.trim();
    if (text) body[name] = Number(text);
  }
  for (const name of ["cadence", "pickups", "endings"]) body[name] = $(name).checked;
  return body;
}

async function postJson(url, body) {
  const answer = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let data;
  try { data = await answer.json(); } catch { data = { error: `the server answered ${answer.status}` }; }
  return { ok: answer.ok, status: answer.status, data };
}

async function waitForJob(job, onProgress) {
  while (job.state === "queued" || job.state === "running") {
    onProgress(job);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const answer = await fetch(`/api/jobs/${job.id}`);
    job = await answer.json();
    if (!answer.ok) throw new Error(job.error || `the server answered ${answer.status}`);
  }
  onProgress(job);
  if (job.state === "failed") throw new Error(job.error);
  return job;
}

function showTune(card, result) {
  card.querySelector(".title").textContent = result.title;
  const files = result.files;
  const score = card.querySelector(".score");
  score.src = `/files/${files.svg}`;
  score.alt = `Sheet music of ${result.title}`;
  card.querySelector(".player").src = `/files/${files.wav}`;
  card.querySelector(".dl-abc").href = `/files/${files.abc}?download=1`;
  card.querySelector(".dl-mid").href = `/files/${files.mid}?download=1`;
  card.querySelector(".dl-wav").href = `/files/${files.wav}?download=1`;
  card.querySelector(".abc").value = result.abc;
  card.dataset.state = "ready";
}

function newCard(result) {
  const card = $("tune-template").content.firstElementChild.cloneNode(true);
  showTune(card, result);
  card.querySelector(".render").addEventListener("click", () => rerender(card));
  return card;
}

// Puts the cursor on the line and column the reader named, so the mistake is easy to find.
function markError(textarea, line, column) {
  const lines = textarea.value.split("\n");
  let start = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) start += lines[i].length + 1;
  const lineText = lines[Math.min(line - 1, lines.length - 1)] || "";
  const at = start + Math.max(0, Math.min(column - 1, lineText.length));
  textarea.focus();
  textarea.setSelectionRange(at, Math.min(at + 1, start + lineText.length));
}

async function rerender(card) {
  const textarea = card.querySelector(".abc");
  const error = card.querySelector(".abc-error");
  const status = card.querySelector(".render-status");
  const button = card.querySelector(".render");
  error.hidden = true;
  button.disabled = true;
  card.dataset.state = "rendering";
  const body = { abc: textarea.value, instrument: $("instrument").value };
  const tempo = $("tempo").value.trim();
  if (tempo) body.tempo = Number(tempo);
  try {
    const answer = await postJson("/api/render", body);
    if (!answer.ok) {
      const where = answer.data.line ? `Line ${answer.data.line}, column ${answer.data.column}: ${answer.data.reason}`
        : answer.data.error;
      error.textContent = where;
      error.hidden = false;
      card.dataset.state = "error";
      if (answer.data.line) markError(textarea, answer.data.line, answer.data.column);
      return;
    }
    const job = await waitForJob(answer.data, (j) => { status.textContent = j.stage; });
    showTune(card, job.results[0]);
    status.textContent = "rendered";
  } catch (problem) {
    error.textContent = problem.message;
    error.hidden = false;
    card.dataset.state = "error";
  } finally {
    button.disabled = false;
  }
}

async function generate(event) {
  event.preventDefault();
  const button = $("generate"), progress = $("progress"), status = $("status"), error = $("form-error");
  error.hidden = true;
  button.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  try {
    const answer = await postJson("/api/generate", formParameters());
    if (!answer.ok) throw new Error(answer.data.error);
    const job = await waitForJob(answer.data, (j) => {
      progress.max = j.progress.total;
      progress.value = j.progress.done;
      status.textContent = j.stage;
    });
    const tunes = $("tunes");
    tunes.replaceChildren(...job.results.map(newCard));
    status.textContent = `${job.results.length} tune${job.results.length > 1 ? "s" : ""} ready`;
  } catch (problem) {
    error.textContent = problem.message;
    error.hidden = false;
    status.textContent = "";
  } finally {
    button.disabled = false;
    progress.hidden = true;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("controls").addEventListener("submit", generate);
  loadOptions().catch((problem) => {
    $("form-error").textContent = `Could not load the options: ${problem.message}`;
    $("form-error").hidden = false;
  });
});
