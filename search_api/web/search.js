// The public page: one search box with name suggestions, results grouped by record type, the subject's credit
// profile, and a question mode. Views live in the URL hash (#/search?q=…, #/entity/CODE) so that the back
// button and shared links work, also inside a mini-program web-view.
"use strict";

const form = document.getElementById("search-form");
const input = document.getElementById("q");
const list = document.getElementById("suggestions");
const results = document.getElementById("results");
let suggestTimer = null;
let suggestSeq = 0;
let active = -1;
let askSession = sessionStorage.getItem("ask-session");
const chat = el("ol", { class: "chat", "aria-label": "问答记录" });

function mode() { return form.querySelector("input[name=mode]:checked").value; }

function show(...nodes) {
  results.replaceChildren(...nodes);
}

function failure(err) {
  return el("p", { class: "error", role: "alert" }, err.message || "查询失败，请稍后重试");
}

// -- suggestions ---------------------------------------------------------------------------------------
function closeSuggestions() {
  list.hidden = true;
  list.replaceChildren();
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
  active = -1;
}

function highlightOption(index) {
  const options = [...list.querySelectorAll("[role=option]")];
  options.forEach((o, i) => o.setAttribute("aria-selected", i === index ? "true" : "false"));
  active = index;
  if (options[index]) {
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }
}

function pick(item) {
  closeSuggestions();
  input.value = item.name;
  location.hash = `#/search?q=${encodeURIComponent(item.name)}`;
}

async function suggest() {
  const q = input.value.trim();
  const seq = ++suggestSeq;
  if (!q || mode() !== "search") { closeSuggestions(); return; }
  let body;
  try { body = await api(`/v1/suggest?q=${encodeURIComponent(q)}`); } catch (err) { closeSuggestions(); return; }
  if (seq !== suggestSeq) return;  // a newer keystroke has asked since
  if (!body.items.length) { closeSuggestions(); return; }
  list.replaceChildren(...body.items.map((item, i) => el("li", {
    role: "option", id: `suggestion-${i}`, "aria-selected": "false",
    onmousedown: (event) => { event.preventDefault(); pick(item); },
  }, el("span", {}, item.name), el("small", {}, `${item.record_count}条记录`))));
  list.hidden = false;
  input.setAttribute("aria-expanded", "true");
  active = -1;
  list.items = body.items;
}

input.addEventListener("input", () => {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(suggest, 150);
});
input.addEventListener("keydown", (event) => {
  const count = list.hidden ? 0 : list.children.length;
  if (event.key === "ArrowDown" && count) { event.preventDefault(); highlightOption((active + 1) % count); }
  else if (event.key === "ArrowUp" && count) { event.preventDefault(); highlightOption((active - 1 + count) % count); }
  else if (event.key === "Enter" && count && active >= 0) { event.preventDefault(); pick(list.items[active]); }
  else if (event.key === "Escape") closeSuggestions();
});
input.addEventListener("blur", () => setTimeout(closeSuggestions, 100));

// -- search results ------------------------------------------------------------------------------------
function understoodLine(query) {
  const modes = { hybrid: "关键词与语义融合", keyword: "关键词", semantic: "语义" };
  let text;
  if (query.kind === "code") {
    text = query.valid ? `统一社会信用代码（或组织机构代码、注册号）${query.normalized}`
      : `代码 ${query.normalized}，但代码无效：${query.reason}`;
  } else if (query.kind === "document_number") {
    text = `决定书文号或案号“${query.normalized}”`;
  } else if (query.kind === "name") {
    text = `企业或个人名称“${query.normalized}”`;
  } else {
    text = `一句话检索“${query.normalized}”（${modes[query.mode] || "关键词"}）`;
  }
  if (query.fallback === "text") text += "；未找到同名主体，已按内容检索";
  return el("p", { class: "understood" }, `已理解为：${text}`);
}

function recordCard(item, headingLevel) {
  const subject = item.subject || {};
  // Courts publish companies' codes masked: such a code opens no profile.
  const profile = subject.code && !subject.code.includes("*") ? subject.code : "";
  const title = profile
    ? el("a", { href: `#/entity/${encodeURIComponent(profile)}` }, subject.name)
    : el("span", {}, subject.name);
  const facts = [];
  const add = (label, value) => { if (value) facts.push(el("dt", {}, label), el("dd", {}, value)); };
  const labels = item.labels || {};
  add("统一社会信用代码", subject.code);
  add(labels.document_number || "文书号", item.document_number);
  add(labels.decision_date || "决定日期", item.decision_date);
  add(labels.authority || "决定机关", item.authority);
  add(labels.category || "类别", item.category);
  add(labels.amount || "金额", formatAmount(item.amount));
  add(labels.publish_until || "公示截止", item.publish_until);
  if (item.match) add("名称匹配", `${Math.round(item.match.score * 100)}%，${item.match.explanation}`);
  const summary = item.highlights && item.highlights.summary
    ? highlighted(item.highlights.summary) : [item.summary];
  return el("article", { class: "record" },
    el(`h${headingLevel}`, {}, el("span", { class: `badge ${item.record_type}` }, item.record_type_label), " ", title,
      item.status !== "active" ? [" ", el("span", { class: "badge status" }, item.status_label)] : null),
    el("dl", {}, facts),
    item.summary ? el("p", { class: "summary" }, summary) : null,
    profile ? el("p", { class: "more" }, el("a", { href: `#/entity/${encodeURIComponent(profile)}`,
      class: "profile-link" }, "查看信用档案")) : null);
}

function groups(items, container) {
  for (const type of TYPE_ORDER) {
    const mine = items.filter((i) => i.record_type === type);
    if (!mine.length) continue;
    let section = container.querySelector(`section.group[data-type=${type}]`);
    if (!section) {
      section = el("section", { class: "group", "data-type": type, "aria-label": TYPE_LABELS[type] },
        el("h2", {}, el("span", { class: `badge ${type}` }, TYPE_LABELS[type])));
      container.append(section);
    }
    mine.forEach((item) => section.append(recordCard(item, 3)));
  }
}

// What the total counts: every match of a keyword search; in hybrid and semantic search a ranked list of the
// best candidates, so the line says how many records the words match and how many the list holds.
function totalLine(body) {
  if (!body.total) return "没有找到公示中的记录";
  if (body.query.mode === "semantic") return `按语义相近程度列出 ${body.total} 条记录`;
  if (body.query.mode === "hybrid" && body.query.keyword_total !== undefined) {
    return `关键词匹配 ${body.query.keyword_total} 条记录；按关键词与语义综合排序，可查看前 ${body.total} 条`;
  }
  return `共 ${body.total} 条记录`;
}

async function runSearch(params) {
  const q = params.get("q") || "";
  input.value = q;
  show(el("p", {}, "正在查询……"));
  let body;
  try { body = await api(`/v1/search?${params.toString()}`); } catch (err) { show(failure(err)); return; }
  if (body.query.kind === "question") { showAnswer(body); return; }
  const container = el("div", { class: "groups" });
  const parts = [understoodLine(body.query)];
  if (body.query.notice) parts.push(el("p", { class: "notice" }, body.query.notice));
  if (body.query.did_you_mean && body.query.did_you_mean.length) {
    parts.push(el("p", { class: "notice" }, "您是不是要找：", body.query.did_you_mean.map((c) =>
      el("a", { href: `#/entity/${encodeURIComponent(c.code)}` }, `${c.name}（${c.code}）`, " "))));
  }
  parts.push(el("p", { id: "total" }, totalLine(body)));
  groups(body.items, container);
  parts.push(container);
  let cursor = body.next_cursor;
  const more = el("button", { class: "secondary", type: "button", hidden: !cursor }, "加载更多");
  more.addEventListener("click", async () => {
    const next = new URLSearchParams(params);
    next.set("cursor", cursor);
    more.disabled = true;
    try {
      const page = await api(`/v1/search?${next.toString()}`);
      groups(page.items, container);
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) { container.append(failure(err)); }
    more.disabled = false;
  });
  parts.push(more);
  show(...parts);
}

// A question typed into the search box: the answer, how it was understood, the records behind it. Follow-ups
// continue the same conversation in the question mode.
function showAnswer(body) {
  const answer = body.answer;
  askSession = answer.session_id;
  sessionStorage.setItem("ask-session", askSession);
  const followUp = (question) => {
    form.querySelector("input[name=mode][value=ask]").checked = true;
    input.placeholder = "请输入问题，如：某某公司有没有行政处罚？";
    show(chat);
    ask(question);
  };
  const parts = [el("p", { class: "answer-text" }, answer.answer), el("p", { class: "rule" }, answer.understood.text)];
  if (answer.candidates && answer.candidates.length) {
    parts.push(el("div", { class: "choices" }, answer.candidates.map((c) => el("button", {
      type: "button", class: "secondary", onclick: () => followUp(String(c.number)),
    }, `${c.number}. ${c.name}`))));
  }
  const container = el("div", { class: "groups" });
  groups(body.items, container);
  parts.push(container);
  parts.push(el("p", { class: "more" }, el("button", { type: "button", class: "secondary",
    onclick: () => followUp("") }, "继续追问")));
  show(el("section", { class: "answer", "aria-label": "回答" }, parts));
}

// -- entity profile ------------------------------------------------------------------------------------
async function runEntity(code) {
  show(el("p", {}, "正在读取信用档案……"));
  let body;
  try { body = await api(`/v1/entities/${encodeURIComponent(code)}`); } catch (err) { show(failure(err)); return; }
  const id = body.identity;
  const flags = body.flags;
  const penalties = flags.penalties_last_3_years;
  const former = id.names.map((n) => n.name).filter((n) => n !== id.name);
  const identity = el("section", { class: "identity", "aria-labelledby": "entity-name" },
    el("h2", { id: "entity-name" }, id.name),
    el("dl", {},
      el("dt", {}, "统一社会信用代码"), el("dd", {}, id.codes.uscc || body.code),
      id.legal_representative ? [el("dt", {}, "法定代表人"), el("dd", {}, id.legal_representative)] : null,
      former.length ? [el("dt", {}, "曾用名"), el("dd", {}, former.join("、"))] : null));
  const flagList = el("ul", { class: "flags", "aria-label": "信用提示" },
    el("li", { class: flags.active_dishonest ? "bad" : "good" },
      flags.active_dishonest ? "在失信被执行人名单中" : "不在失信被执行人名单中"),
    el("li", { class: penalties.count ? "bad" : "good" },
      penalties.count ? `近三年行政处罚 ${penalties.count} 条，罚没金额合计 ${formatAmount(penalties.total_amount) || "0元"}`
        : "近三年无行政处罚"),
    el("li", { class: flags.unfulfilled_commitments ? "bad" : "good" },
      flags.unfulfilled_commitments ? `未履行或部分履行的信用承诺 ${flags.unfulfilled_commitments} 条` : "无未履行的信用承诺"));
  const sections = TYPE_ORDER.filter((t) => body.records[t]).map((t) => el("section", { class: "group profile" },
    el("h2", {}, el("span", { class: `badge ${t}` }, TYPE_LABELS[t]), ` ${body.records[t].count} 条`),
    body.records[t].items.map((item) => recordCard(item, 3))));
  const back = el("button", { type: "button", class: "secondary", onclick: () => history.back() }, "← 返回");
  show(el("p", {}, back), identity, flagList, ...sections);
  document.title = `${id.name} - 信用档案`;
  results.focus();
}

// -- questions -----------------------------------------------------------------------------------------
async function ask(question) {
  if (!results.contains(chat)) show(chat);
  if (!question) { input.focus(); return; }
  chat.append(el("li", { class: "q" }, question));
  const waiting = el("li", { class: "a" }, "正在回答……");
  chat.append(waiting);
  let body;
  try {
    body = await api("/v1/ask", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question, session_id: askSession }) });
  } catch (err) { waiting.replaceChildren(failure(err)); return; }
  askSession = body.session_id;
  sessionStorage.setItem("ask-session", askSession);
  const parts = [el("p", {}, body.answer), el("p", { class: "rule" }, body.understood.text)];
  if (body.candidates && body.candidates.length) {
    parts.push(el("div", { class: "choices" }, body.candidates.map((c) => el("button", {
      type: "button", class: "secondary", onclick: () => ask(String(c.number)),
    }, `${c.number}. ${c.name}`))));
  }
  if (body.records && body.records.length) {
    parts.push(el("div", { class: "groups" }, body.records.slice(0, 5).map((r) => recordCard(r, 4))));
  }
  waiting.replaceChildren(...parts);
}

// -- routing -------------------------------------------------------------------------------------------
function route() {
  const hash = location.hash || "";
  if (hash.startsWith("#/entity/")) runEntity(decodeURIComponent(hash.slice("#/entity/".length)));
  else if (hash.startsWith("#/search?")) runSearch(new URLSearchParams(hash.slice("#/search?".length)));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = input.value.trim();
  if (!q) return;
  closeSuggestions();
  if (mode() === "ask") { input.value = ""; ask(q); return; }
  const target = `#/search?q=${encodeURIComponent(q)}`;
  if (location.hash === target) route(); else location.hash = target;
});
form.querySelectorAll("input[name=mode]").forEach((radio) => radio.addEventListener("change", () => {
  input.placeholder = mode() === "ask" ? "请输入问题，如：某某公司有没有行政处罚？" : "企业名称、统一社会信用代码、决定书文号或一句话";
  closeSuggestions();
  if (mode() === "ask") show(chat);
}));
window.addEventListener("hashchange", route);
route();
