// A tiny check runner for the supertokens-node scenarios: named async checks run in
// order; the last line printed is JSON {"passed": n, "failed": [names]}; the exit code
// is 1 when anything failed.
"use strict";
const assert = require("assert");

const checks = [];

function check(name, work) {
  checks.push({ name, work });
}

async function run() {
  let passed = 0;
  const failed = [];
  for (const { name, work } of checks) {
    try {
      await work();
      passed += 1;
    } catch (err) {
      failed.push(name);
      console.error(`FAILED ${name}: ${err && err.stack ? err.stack : err}`);
    }
  }
  console.log(JSON.stringify({ passed, failed }));
  process.exit(failed.length ? 1 : 0);
}

// Runs `work` and returns the supertokens error it throws, checking its type.
async function expectError(type, work) {
  try {
    await work();
  } catch (err) {
    assert.strictEqual(err.type, type, `expected ${type}, got ${err.type}: ${err.message}`);
    return err;
  }
  throw new Error(`expected a ${type} error`);
}

// Calls the core directly (the CDI, as the SDK would), for setting up what the SDK
// cannot: sessions in another app, raw answers.
async function cdi(url, method, body, headers = {}) {
  const answer = await fetch(url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

function headerOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
}

module.exports = { assert, check, run, expectError, cdi, sleep, claimsOf, headerOf };
