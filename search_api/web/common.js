// Helpers shared by the public page and the staff desk: safe DOM building and API calls whose errors
// carry the server's Chinese message.
"use strict";

/** Build an element: el("a", {href: "#"}, "text", child). Text is always text, never HTML. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Text with the server's <em> marks (already HTML-escaped by the server) as nodes, without innerHTML. */
function highlighted(marked) {
  const nodes = [];
  const parts = marked.split(/(<em>|<\/em>)/);
  let inside = false;
  const decode = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'").replace(/&amp;/g, "&");
  for (const part of parts) {
    if (part === "<em>") inside = true;
    else if (part === "</em>") inside = false;
    else if (part) nodes.push(inside ? el("em", {}, decode(part)) : document.createTextNode(decode(part)));
  }
  return nodes;
}

class ApiError extends Error {
  constructor(status, message, code) { super(message); this.status = status; this.code = code; }
}

/** Call the API; throws ApiError with the server's Chinese message on any error status. */
async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new ApiError(0, "无法连接服务器，请检查网络后重试", "network");
  }
  const type = response.headers.get("content-type") || "";
  if (!response.ok) {
    let message = `请求失败（${response.status}）`;
    let code = "http_error";
    if (type.includes("json")) {
      const body = await response.json();
      if (body && body.error) { message = body.error.message; code = body.error.code; }
    }
    throw new ApiError(response.status, message, code);
  }
  return type.includes("json") ? response.json() : response.blob();
}

const TYPE_LABELS = { dishonest: "失信被执行人", penalty: "行政处罚", licensing: "行政许可", commitment: "信用承诺" };
const TYPE_ORDER = ["dishonest", "penalty", "licensing", "commitment"];

function formatAmount(yuan) {
  if (yuan === null || yuan === undefined) return "";
  return yuan >= 10000 ? `${(yuan / 10000).toLocaleString("zh-CN")}万元` : `${yuan.toLocaleString("zh-CN")}元`;
}
