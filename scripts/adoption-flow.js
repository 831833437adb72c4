#!/usr/bin/env node
// Drives the README's example app over HTTP the way a browser page would: CSRF token, login,
// then create, get, update (with a stale version refused), list with a filter, an ad-hoc
// endpoint, delete and logout. Exits non-zero at the first answer that is not the expected one.
//
//   node scripts/adoption-flow.js http://127.0.0.1:3000 <username> <password>
"use strict";

const [base, username, password] = process.argv.slice(2);
if (!base || !username || !password) {
  console.error("usage: node scripts/adoption-flow.js <base url> <username> <password>");
  process.exit(2);
}

const cookies = new Map();
function remember(response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const index = pair.indexOf("=");
    cookies.set(pair.slice(0, index), pair.slice(index + 1));
  }
}
const cookieHeader = () => [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");

async function call(method, path, body, headers = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      Accept: "application/json", Cookie: cookieHeader(),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(cookies.has("csrftoken") ? { "X-CSRFToken": decodeURIComponent(cookies.get("csrftoken")) } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  remember(response);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function expect(step, answer, status, check = () => true) {
  if (answer.status !== status || !check(answer.body)) {
    console.error(`FAILED ${step}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
    process.exit(1);
  }
  console.log(`ok  ${step} (${answer.status})`);
  return answer.body;
}

async function main() {
  expect("health", await call("GET", "/ajax/health.json"), 200, (b) => b.data.status === "ok");
  const docs = await fetch(`${base}/ajax/docs`);
  expect("docs page", { status: docs.status, body: docs.headers.get("content-type") }, 200, (type) => type.startsWith("text/html"));
  expect("OpenAPI document", await call("GET", "/ajax/openapi.json"), 200, (b) => "/blog/add.json" in b.paths);
  expect("csrf token", await call("GET", "/ajax/csrf.json"), 200, (b) => typeof b.data.token === "string");
  expect("anonymous create is refused", await call("POST", "/ajax/blog/article.json", { title: "x" }), 401);
  expect("login with a wrong password", await call("POST", "/ajax/auth/login.json", { username, password: "wrong" }), 401);
  expect("login", await call("POST", "/ajax/auth/login.json", { username, password }), 200, (b) => b.data.username === username);
  const created = expect("create", await call("POST", "/ajax/blog/article.json", { title: "Hello", published: false }), 200,
    (b) => b.data.title === "Hello" && b.data.author.username === username && b.data.version === 1).data;
  expect("get", await call("POST", `/ajax/blog/article/${created.id}/get.json`, {}), 200, (b) => b.data.id === created.id);
  expect("update", await call("POST", `/ajax/blog/article/${created.id}/update.json`, { published: true, _version: 1 }), 200,
    (b) => b.data.published === true && b.data.version === 2);
  expect("update with a stale version", await call("POST", `/ajax/blog/article/${created.id}/update.json`, { title: "lost", _version: 1 }), 409);
  expect("update with If-Match", await call("POST", `/ajax/blog/article/${created.id}/update.json`, { title: "Hello again" }, { "If-Match": "2" }), 200,
    (b) => b.data.title === "Hello again");
  expect("unknown field is refused", await call("POST", "/ajax/blog/article.json", { title: "x", nope: 1 }), 400, (b) => "nope" in b.errors);
  expect("list with a filter", await call("POST", "/ajax/blog/article/list.json", { filter: { published: true }, order: "-id" }), 200,
    (b) => b.total === 1 && b.data[0].id === created.id);
  expect("ad-hoc endpoint", await call("POST", "/ajax/blog/add.json", { a: 2, b: 3 }), 200, (b) => b.data === 5);
  expect("delete", await call("POST", `/ajax/blog/article/${created.id}/delete.json`, {}), 200, (b) => b.data.pk === created.id);
  expect("second delete", await call("POST", `/ajax/blog/article/${created.id}/delete.json`, {}), 404);
  expect("logout", await call("POST", "/ajax/auth/logout.json", {}), 200);
  expect("logged out", await call("POST", "/ajax/auth/user.json", {}), 401);
  console.log("the README's app answers as documented");
}

main().catch((error) => {
  console.error(`FAILED: ${error.message}`);
  process.exit(1);
});
