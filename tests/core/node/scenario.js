// supertokens-node (CDI 5.4) against a running tessera core: create, verify, refresh,
// theft, and the four revocations. Usage: CORE_URL=http://127.0.0.1:3567/appid-x node scenario.js
// Prints "scenario passed" and exits 0, or throws.
"use strict";
const assert = require("assert");
const supertokens = require("supertokens-node");
const Session = require("supertokens-node/recipe/session");

supertokens.init({
  framework: "express",
  supertokens: { connectionURI: process.env.CORE_URL },
  appInfo: { appName: "scenario", apiDomain: "http://api.example.com", websiteDomain: "http://example.com" },
  recipeList: [Session.init({ antiCsrf: "VIA_TOKEN" })],
});

const user = (id) => supertokens.convertToRecipeUserId(id);

async function expectError(type, work) {
  try {
    await work();
  } catch (err) {
    assert.strictEqual(err.type, type, `expected ${type}, got ${err.type}: ${err.message}`);
    return err;
  }
  throw new Error(`expected ${type}`);
}

async function main() {
  // create and verify, locally and against the database
  const created = await Session.createNewSessionWithoutRequestResponse("public", user("ann"), { role: "admin" }, { cart: 1 });
  const tokens = created.getAllSessionTokensDangerously();
  assert.strictEqual(created.getUserId(), "ann");
  assert.strictEqual(created.getAccessTokenPayload().role, "admin");
  const local = await Session.getSessionWithoutRequestResponse(tokens.accessToken, tokens.antiCsrfToken);
  assert.strictEqual(local.getHandle(), created.getHandle());
  const checked = await Session.getSessionWithoutRequestResponse(tokens.accessToken, tokens.antiCsrfToken, { checkDatabase: true });
  assert.strictEqual(checked.getHandle(), created.getHandle());
  const info = await Session.getSessionInformation(created.getHandle());
  assert.deepStrictEqual(info.sessionDataInDatabase, { cart: 1 });

  // refresh, first use of the new tokens, then theft with the old refresh token
  const refreshed = await Session.refreshSessionWithoutRequestResponse(tokens.refreshToken, false, tokens.antiCsrfToken);
  const fresh = refreshed.getAllSessionTokensDangerously();
  assert.notStrictEqual(fresh.refreshToken, tokens.refreshToken);
  const used = await Session.getSessionWithoutRequestResponse(fresh.accessToken, fresh.antiCsrfToken);
  assert.strictEqual(used.getHandle(), created.getHandle());
  const theft = await expectError(Session.Error.TOKEN_THEFT_DETECTED, () =>
    Session.refreshSessionWithoutRequestResponse(tokens.refreshToken, false, tokens.antiCsrfToken)
  );
  assert.strictEqual(theft.payload.sessionHandle, created.getHandle());
  assert.strictEqual(theft.payload.userId, "ann");

  // the four revocations
  const make = async (id) => Session.createNewSessionWithoutRequestResponse("public", user(id), {}, {});
  const one = await make("bo");
  assert.strictEqual(await Session.revokeSession(one.getHandle()), true);
  await expectError(Session.Error.UNAUTHORISED, () =>
    Session.getSessionWithoutRequestResponse(one.getAccessToken(), one.getAllSessionTokensDangerously().antiCsrfToken, { checkDatabase: true })
  );
  const two = await make("bo");
  const three = await make("bo");
  const revoked = await Session.revokeMultipleSessions([two.getHandle(), three.getHandle()]);
  assert.deepStrictEqual(revoked.sort(), [two.getHandle(), three.getHandle()].sort());
  await make("cy");
  await make("cy");
  assert.strictEqual((await Session.getAllSessionHandlesForUser("cy")).length, 2);
  assert.strictEqual((await Session.revokeAllSessionsForUser("cy")).length, 2);
  assert.deepStrictEqual(await Session.getAllSessionHandlesForUser("cy"), []);
  const own = await make("di");
  await own.revokeSession();
  assert.strictEqual(await Session.getSessionInformation(own.getHandle()), undefined);

  console.log("scenario passed");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
