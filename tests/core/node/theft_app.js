// An express app on supertokens-node's own middleware (refresh API, verifySession,
// error handler) in front of a tessera core: a reused refresh token reaches the app's
// onTokenTheftDetected, and the app's choice is what happens to the session.
// Usage: APP_URL=<connection URI> node theft_app.js keep|default
//   keep:    the app overrides onTokenTheftDetected, records the theft, keeps the session
//   default: the SDK's own handler (it revokes the session)
"use strict";
const express = require("express");
const supertokens = require("supertokens-node");
const Session = require("supertokens-node/recipe/session");
const { middleware, errorHandler } = require("supertokens-node/framework/express");
const { verifySession } = require("supertokens-node/recipe/session/framework/express");
const { assert, check, run } = require("./harness");

const mode = process.argv[2];
const seen = [];

supertokens.init({
  framework: "express",
  supertokens: { connectionURI: process.env.APP_URL },
  appInfo: { appName: "theft-app", apiDomain: "http://127.0.0.1", websiteDomain: "http://127.0.0.1" },
  recipeList: [
    Session.init({
      getTokenTransferMethod: () => "header",
      antiCsrf: "NONE",
      errorHandlers:
        mode === "keep"
          ? {
              onTokenTheftDetected: async (sessionHandle, userId, recipeUserId, request, response) => {
                seen.push({ sessionHandle, userId, recipeUserId: recipeUserId.getAsString() });
                response.setStatusCode(401);
                response.sendJSONResponse({ message: "theft noted", kept: true });
              },
            }
          : undefined,
    }),
  ],
});

const app = express();
app.use(middleware());
app.post("/login", express.json(), async (req, res, next) => {
  try {
    const s = await Session.createNewSession(req, res, "public", supertokens.convertToRecipeUserId(req.body.userId));
    res.json({ handle: s.getHandle() });
  } catch (err) {
    next(err);
  }
});
app.get("/me", verifySession(), (req, res) => res.json({ userId: req.session.getUserId() }));
app.use(errorHandler());

let base;
const call = async (method, path, headers = {}, body) => {
  const answer = await fetch(base + path, {
    method,
    headers: { "st-auth-mode": "header", ...(body ? { "content-type": "application/json" } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: answer.status, headers: answer.headers, body: await answer.json().catch(() => null) };
};
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const refresh = (token) => call("POST", "/auth/session/refresh", { ...bearer(token), rid: "session" });

async function stolenRefreshToken(userId) {
  const login = await call("POST", "/login", {}, { userId });
  assert.strictEqual(login.status, 200);
  const first = { access: login.headers.get("st-access-token"), refresh: login.headers.get("st-refresh-token") };
  assert.strictEqual((await call("GET", "/me", bearer(first.access))).status, 200);
  const renewed = await refresh(first.refresh);
  assert.strictEqual(renewed.status, 200);
  const current = renewed.headers.get("st-refresh-token");
  // The first use of the new access token confirms the refresh (a promoted token comes back).
  const me = await call("GET", "/me", bearer(renewed.headers.get("st-access-token")));
  assert.strictEqual(me.status, 200);
  assert.ok(me.headers.get("st-access-token"));
  return { handle: login.body.handle, stale: first.refresh, current };
}

check(`theft through the refresh API (${mode} handler)`, async () => {
  const { handle, stale, current } = await stolenRefreshToken("victim");
  const theft = await refresh(stale);
  assert.strictEqual(theft.status, 401);
  if (mode === "keep") {
    assert.deepStrictEqual(theft.body, { message: "theft noted", kept: true });
    assert.deepStrictEqual(seen, [{ sessionHandle: handle, userId: "victim", recipeUserId: "victim" }]);
    // The app chose to keep the session: it lives on, and the stale token stays theft.
    assert.notStrictEqual(await Session.getSessionInformation(handle), undefined);
    assert.strictEqual((await refresh(current)).status, 200);
    assert.strictEqual((await refresh(stale)).status, 401);
    assert.strictEqual(seen.length, 2);
  } else {
    assert.deepStrictEqual(theft.body, { message: "token theft detected" });
    // The SDK's default handler revoked the session.
    assert.strictEqual(await Session.getSessionInformation(handle), undefined);
    const after = await refresh(current);
    assert.strictEqual(after.status, 401);
    assert.deepStrictEqual(after.body, { message: "unauthorised" });
  }
});

check(`no theft for a retry before the new tokens are used (${mode} handler)`, async () => {
  const login = await call("POST", "/login", {}, { userId: "retrier" });
  const first = login.headers.get("st-refresh-token");
  assert.strictEqual((await refresh(first)).status, 200);
  assert.strictEqual((await refresh(first)).status, 200); // the answer was lost: retried
  assert.notStrictEqual(await Session.getSessionInformation(login.body.handle), undefined);
});

const server = app.listen(0, "127.0.0.1", () => {
  base = `http://127.0.0.1:${server.address().port}`;
  run();
});
