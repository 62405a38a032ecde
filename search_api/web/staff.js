// The staff screening desk: an API key, a pasted list or an uploaded CSV/XLSX, progress while it is screened,
// the verdicts in a table, and the XLSX result to download and file.
"use strict";

// Result columns and their classes: names and explanations get room to read, codes and scores never wrap.
const COLUMNS = [["行", "num"], ["名称", "name"], ["代码", "code"], ["结论", "num"], ["说明", "text"],
  ["匹配名称", "name"], ["匹配代码", "code"], ["匹配度", "num"], ["不良记录摘要", "text"]];

const CHUNK = 500;  // rows per request for pasted lists, so that large batches show progress
const screenForm = document.getElementById("screen-form");
const keyInput = document.getElementById("key");
const namesInput = document.getElementById("names");
const fileInput = document.getElementById("file");
const thresholdInput = document.getElementById("threshold");
const startButton = document.getElementById("start");
const downloadButton = document.getElementById("download");
const statusBox = document.getElementById("status");
const progress = document.getElementById("progress");
const outcome = document.getElementById("outcome");
let lastRequest = null;  // what the shown results were screened from, for the XLSX download

keyInput.value = sessionStorage.getItem("staff-key") || "";

function headers(extra) {
  const out = { ...(extra || {}) };
  const key = keyInput.value.trim();
  if (key) out["X-API-Key"] = key;
  return out;
}

function say(text, isError) {
  statusBox.replaceChildren(el("p", { class: isError ? "error" : "notice", role: isError ? "alert" : null }, text));
}

function pastedItems() {
  return namesInput.value.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).map((line, i) => {
    const [first, second] = line.split(/[,，\t]/).map((part) => part.trim());
    const looksLikeCode = (s) => /^[0-9A-Za-z*-]{8,20}$/.test(s || "");
    if (second) return { id: String(i + 1), name: first, code: second };
    return looksLikeCode(first) ? { id: String(i + 1), code: first } : { id: String(i + 1), name: first };
  });
}

function threshold() { return Number(thresholdInput.value) || 0.9; }

function uploadWithProgress(file, format) {
  // XMLHttpRequest reports upload progress, which fetch does not.
  return new Promise((resolve, reject) => {
    const data = new FormData();
    data.append("file", file);
    data.append("threshold", String(threshold()));
    const request = new XMLHttpRequest();
    request.open("POST", `/v1/screen${format ? `?format=${format}` : ""}`);
    for (const [name, value] of Object.entries(headers())) request.setRequestHeader(name, value);
    request.responseType = format ? "blob" : "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) { progress.max = event.total; progress.value = event.loaded; }
      if (event.loaded === event.total) { progress.removeAttribute("value"); say("文件已上传，正在筛查……"); }
    };
    request.onload = async () => {
      if (request.status === 200) { resolve(request.response); return; }
      let message = `筛查失败（${request.status}）`;
      try {
        const body = format ? JSON.parse(await request.response.text()) : request.response;
        if (body && body.error) message = body.error.message;
      } catch (err) { /* keep the status message */ }
      reject(new ApiError(request.status, message));
    };
    request.onerror = () => reject(new ApiError(0, "无法连接服务器，请检查网络后重试"));
    request.send(data);
  });
}

async function screenPasted(items) {
  const results = [];
  progress.max = items.length;
  for (let start = 0; start < items.length; start += CHUNK) {
    const chunk = items.slice(start, start + CHUNK);
    const body = await api("/v1/screen", { method: "POST", headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ items: chunk, threshold: threshold() }) });
    body.results.forEach((r) => { r.row += start; results.push(r); });
    progress.value = Math.min(items.length, start + CHUNK);
    say(`已筛查 ${progress.value} / ${items.length} 行……`);
  }
  return results;
}

function render(results) {
  const counts = { hit: 0, review: 0, clear: 0, invalid: 0 };
  results.forEach((r) => { counts[r.verdict] += 1; });
  const labels = { hit: "命中不良记录", review: "需人工复核", clear: "未发现不良记录", invalid: "无法筛查" };
  const rows = results.map((r) => {
    const match = r.match || (r.candidates && r.candidates[0]) || {};
    const cells = [r.row, r.input.name, r.input.code,
      el("span", { class: `verdict ${r.verdict}` }, r.verdict_label), r.reason, match.name || "", match.code || "",
      match.score !== undefined ? `${Math.round(match.score * 100)}%` : "", r.evidence_summary];
    return el("tr", { "data-verdict": r.verdict }, cells.map((cell, i) => el("td", { class: COLUMNS[i][1] }, cell)));
  });
  outcome.replaceChildren(
    el("div", { class: "counts" }, Object.entries(counts).map(([verdict, n]) =>
      el("span", { class: `verdict ${verdict}` }, `${labels[verdict]} ${n}`))),
    el("div", { class: "table-wrap" }, el("table", { class: "results" },
      el("caption", {}, `筛查结果（${results.length} 行）`),
      el("thead", {}, el("tr", {}, COLUMNS.map(([h, cls]) => el("th", { scope: "col", class: cls }, h)))),
      el("tbody", {}, rows))));
  outcome.focus();
}

screenForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem("staff-key", keyInput.value.trim());
  const file = fileInput.files[0];
  const items = file ? null : pastedItems();
  if (!file && !items.length) { say("请粘贴名单或选择要上传的文件", true); return; }
  startButton.disabled = true;
  downloadButton.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  say(file ? `正在上传 ${file.name}……` : `共 ${items.length} 行，开始筛查……`);
  try {
    const results = file ? (await uploadWithProgress(file)).results : await screenPasted(items);
    lastRequest = file ? { file } : { items };
    render(results);
    say(`筛查完成：共 ${results.length} 行。`);
    downloadButton.disabled = false;
  } catch (err) {
    say(err.message || "筛查失败，请稍后重试", true);
  } finally {
    startButton.disabled = false;
    progress.hidden = true;
  }
});

downloadButton.addEventListener("click", async () => {
  if (!lastRequest) return;
  downloadButton.disabled = true;
  say("正在生成 XLSX……");
  try {
    const blob = lastRequest.file ? await uploadWithProgress(lastRequest.file, "xlsx")
      : await api("/v1/screen?format=xlsx", { method: "POST", headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify({ items: lastRequest.items, threshold: threshold() }) });
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "");
    const link = el("a", { href: URL.createObjectURL(blob), download: `筛查结果-${stamp}.xlsx` });
    document.body.append(link);
    link.click();
    link.remove();
    say("XLSX 已生成并开始下载。");
  } catch (err) {
    say(err.message || "下载失败，请稍后重试", true);
  } finally {
    downloadButton.disabled = false;
  }
});
