// Every session function supertokens-node exposes, against a tessera core, including
// what goes wrong: theft, expired, forged and foreign tokens, revoked sessions, removed
// tenants. Usage: APP_URL=<connection URI of a fresh app> OTHER_APP_URL=<another app>
// node sdk_functions.js [main|static|short]
//   main:   dynamic signing keys, anti-CSRF VIA_TOKEN (most checks)
//   static: useDynamicAccessTokenSigningKey false
//   short:  APP_URL's app has access_token_validity 2 (expiry)
"use strict";
const supertokens = require("supertokens-node");
const Session = require("supertokens-node/recipe/session");
const Multitenancy = require("supertokens-node/recipe/multitenancy");
const { PrimitiveClaim, BooleanClaim } = require("supertokens-node/recipe/session/claims");
const jose = require("jose");
const { assert, check, run, expectError, cdi, sleep, claimsOf, headerOf } = require("./harness");

const mode = process.argv[2] || "main";
const APP_URL = process.env.APP_URL;
const OTHER_APP_URL = process.env.OTHER_APP_URL;

supertokens.init({
  framework: "express",
  supertokens: { connectionURI: APP_URL },
  appInfo: { appName: "sdk-functions", apiDomain: "http://api.example.com", websiteDomain: "http://example.com" },
  recipeList: [
    Session.init({ antiCsrf: "VIA_TOKEN", useDynamicAccessTokenSigningKey: mode !== "static" }),
    Multitenancy.init(),
  ],
});

const user = (id) => supertokens.convertToRecipeUserId(id);
const make = (id, payload = {}, data = {}, tenant = "public") =>
  Session.createNewSessionWithoutRequestResponse(tenant, user(id), payload, data);
const tokensOf = (session) => session.getAllSessionTokensDangerously();
const verify = (session, options) => {
  const t = tokensOf(session);
  return Session.getSessionWithoutRequestResponse(t.accessToken, t.antiCsrfToken, options);
};
const refresh = (session) => {
  const t = tokensOf(session);
  return Session.refreshSessionWithoutRequestResponse(t.refreshToken, false, t.antiCsrfToken);
};

async function verifyWithJwks(token) {
  const { keys } = await Session.getJWKS();
  const set = jose.createLocalJWKSet({ keys });
  return jose.jwtVerify(token, set);
}

if (mode === "main") {
  check("create: ids, tenant, payload, tokens and times", async () => {
    const before = Date.now();
    const s = await make("ann", { role: "admin" }, { cart: 1 });
    const t = tokensOf(s);
    assert.strictEqual(s.getUserId(), "ann");
    assert.strictEqual(s.getRecipeUserId().getAsString(), "ann");
    assert.strictEqual(s.getTenantId(), "public");
    assert.strictEqual(s.getAccessTokenPayload().role, "admin");
    assert.ok(t.refreshToken && t.antiCsrfToken && t.frontToken);
    assert.strictEqual(headerOf(t.accessToken).version, "5");
    assert.ok(headerOf(t.accessToken).kid.startsWith("d-"));
    const created = await s.getTimeCreated();
    assert.ok(created >= before - 1000 && created <= Date.now());
    assert.ok((await s.getExpiry()) > Date.now());
  });

  check("create without anti-CSRF gives no anti-CSRF token", async () => {
    const s = await Session.createNewSessionWithoutRequestResponse("public", user("nocsrf"), {}, {}, true);
    assert.strictEqual(tokensOf(s).antiCsrfToken, undefined);
    assert.strictEqual((await verify(s, { antiCsrfCheck: false })).getHandle(), s.getHandle());
  });

  check("verify locally and with checkDatabase", async () => {
    const s = await make("bea", { v: 1 });
    assert.strictEqual((await verify(s)).getHandle(), s.getHandle());
    const checked = await verify(s, { checkDatabase: true });
    assert.strictEqual(checked.getUserId(), "bea");
    assert.strictEqual(checked.getAccessTokenPayload().v, 1);
  });

  check("the access token verifies with the JWKS the SDK fetches", async () => {
    const s = await make("jwks-user");
    const { payload } = await verifyWithJwks(s.getAccessToken());
    assert.strictEqual(payload.sub, "jwks-user");
    assert.strictEqual(payload.tId, "public");
  });

  check("getSessionInformation", async () => {
    const s = await make("cid", { c: 3 }, { d: 4 });
    const info = await Session.getSessionInformation(s.getHandle());
    assert.strictEqual(info.sessionHandle, s.getHandle());
    assert.strictEqual(info.userId, "cid");
    assert.strictEqual(info.recipeUserId.getAsString(), "cid");
    assert.strictEqual(info.tenantId, "public");
    assert.deepStrictEqual(info.sessionDataInDatabase, { d: 4 });
    assert.strictEqual(info.customClaimsInAccessTokenPayload.c, 3);
    assert.ok(info.expiry > Date.now() && info.timeCreated <= Date.now());
    assert.strictEqual(await Session.getSessionInformation("no-such-handle"), undefined);
  });

  check("updateSessionDataInDatabase (recipe and container)", async () => {
    const s = await make("dan", {}, { a: 1 });
    assert.strictEqual(await Session.updateSessionDataInDatabase(s.getHandle(), { b: 2 }), true);
    assert.deepStrictEqual(await s.getSessionDataFromDatabase(), { b: 2 });
    await s.updateSessionDataInDatabase({ c: 3 });
    assert.deepStrictEqual((await Session.getSessionInformation(s.getHandle())).sessionDataInDatabase, { c: 3 });
    assert.strictEqual(await Session.updateSessionDataInDatabase("no-such-handle", {}), false);
  });

  check("mergeIntoAccessTokenPayload (recipe): stored now, in tokens after a database check", async () => {
    const s = await make("eve", { keep: 1, drop: 2 });
    assert.strictEqual(await Session.mergeIntoAccessTokenPayload(s.getHandle(), { added: 3, drop: null }), true);
    const info = await Session.getSessionInformation(s.getHandle());
    assert.deepStrictEqual(
      Object.fromEntries(["keep", "drop", "added"].map((k) => [k, info.customClaimsInAccessTokenPayload[k]])),
      { keep: 1, drop: undefined, added: 3 }
    );
    assert.strictEqual((await verify(s)).getAccessTokenPayload().added, undefined); // local view
    const checked = await verify(s, { checkDatabase: true });
    assert.strictEqual(checked.getAccessTokenPayload().added, 3);
    assert.strictEqual(tokensOf(checked).accessAndFrontTokenUpdated, true);
    assert.strictEqual(await Session.mergeIntoAccessTokenPayload("no-such-handle", { x: 1 }), false);
  });

  check("mergeIntoAccessTokenPayload (container) regenerates the token, same expiry", async () => {
    const s = await make("fay", { a: 1 });
    const oldExp = claimsOf(s.getAccessToken()).exp;
    await s.mergeIntoAccessTokenPayload({ b: 2, a: null });
    const payload = s.getAccessTokenPayload();
    assert.strictEqual(payload.b, 2);
    assert.strictEqual(payload.a, undefined);
    assert.strictEqual(claimsOf(s.getAccessToken()).exp, oldExp);
    const again = await verify(s);
    assert.strictEqual(again.getAccessTokenPayload().b, 2);
  });

  check("refresh, replay before use, promotion on first use", async () => {
    const s = await make("gus", { p: 1 });
    const r1 = await refresh(s);
    assert.strictEqual(r1.getHandle(), s.getHandle());
    assert.notStrictEqual(tokensOf(r1).refreshToken, tokensOf(s).refreshToken);
    assert.strictEqual(r1.getAccessTokenPayload().p, 1);
    const replay = await refresh(s); // a lost answer retried: no theft
    assert.strictEqual(tokensOf(replay).refreshToken, tokensOf(r1).refreshToken);
    const used = await verify(r1);
    assert.strictEqual(tokensOf(used).accessAndFrontTokenUpdated, true);
    assert.strictEqual(claimsOf(used.getAccessToken()).parentRefreshTokenHash1, null);
  });

  check("theft: reported with the session, not revoked, and reported again", async () => {
    const s = await make("hal");
    const r1 = await refresh(s);
    await verify(r1); // first use: the old refresh token is now stale
    const theft = await expectError(Session.Error.TOKEN_THEFT_DETECTED, () => refresh(s));
    assert.strictEqual(theft.payload.sessionHandle, s.getHandle());
    assert.strictEqual(theft.payload.userId, "hal");
    assert.strictEqual(theft.payload.recipeUserId.getAsString(), "hal");
    assert.notStrictEqual(await Session.getSessionInformation(s.getHandle()), undefined);
    await expectError(Session.Error.TOKEN_THEFT_DETECTED, () => refresh(s));
    const r2 = await refresh(r1); // the current token still works until the app decides
    assert.strictEqual(await Session.revokeSession(theft.payload.sessionHandle), true);
    await expectError(Session.Error.UNAUTHORISED, () => refresh(r2));
    await expectError(Session.Error.UNAUTHORISED, () => refresh(s));
  });

  check("refresh with a forged, foreign or mismatched token is UNAUTHORISED", async () => {
    await expectError(Session.Error.UNAUTHORISED, () =>
      Session.refreshSessionWithoutRequestResponse("garbage", true)
    );
    const s = await make("ida");
    const t = tokensOf(s);
    await expectError(Session.Error.UNAUTHORISED, () =>
      Session.refreshSessionWithoutRequestResponse(t.refreshToken, false, "wrong-anti-csrf")
    );
    const foreign = await cdi(`${OTHER_APP_URL}/public/recipe/session`, "POST", {
      userId: "ida", userDataInJWT: {}, userDataInDatabase: {}, enableAntiCsrf: false,
    });
    await expectError(Session.Error.UNAUTHORISED, () =>
      Session.refreshSessionWithoutRequestResponse(foreign.body.refreshToken.token, true)
    );
    // None of that harmed the session.
    assert.strictEqual((await refresh(s)).getHandle(), s.getHandle());
  });

  check("bad access tokens: unparsable, tampered, foreign, wrong anti-CSRF", async () => {
    const s = await make("jo", { role: "user" });
    const t = tokensOf(s);
    const parse = await expectError(Session.Error.UNAUTHORISED, () =>
      Session.getSessionWithoutRequestResponse("garbage", t.antiCsrfToken)
    );
    assert.strictEqual(parse.message, "Token parsing failed");
    assert.strictEqual(
      await Session.getSessionWithoutRequestResponse("garbage", undefined, { sessionRequired: false }),
      undefined
    );
    const [h, , sig] = t.accessToken.split(".");
    const forgedBody = Buffer.from(JSON.stringify({ ...claimsOf(t.accessToken), role: "admin" })).toString("base64url");
    await expectError(Session.Error.TRY_REFRESH_TOKEN, () =>
      Session.getSessionWithoutRequestResponse(`${h}.${forgedBody}.${sig}`, t.antiCsrfToken)
    );
    await expectError(Session.Error.TRY_REFRESH_TOKEN, () =>
      Session.getSessionWithoutRequestResponse(t.accessToken, "wrong-anti-csrf")
    );
    const foreign = await cdi(`${OTHER_APP_URL}/public/recipe/session`, "POST", {
      userId: "jo", userDataInJWT: {}, userDataInDatabase: {}, enableAntiCsrf: false,
    });
    await expectError(Session.Error.TRY_REFRESH_TOKEN, () =>
      Session.getSessionWithoutRequestResponse(foreign.body.accessToken.token, undefined, { antiCsrfCheck: false })
    );
    await expectError(Session.Error.TRY_REFRESH_TOKEN, () =>
      Session.getSessionWithoutRequestResponse(foreign.body.accessToken.token, undefined, {
        antiCsrfCheck: false,
        checkDatabase: true,
      })
    );
  });

  check("revokeSession: local verify still passes, a database check refuses", async () => {
    const s = await make("kim");
    assert.strictEqual(await Session.revokeSession(s.getHandle()), true);
    assert.strictEqual(await Session.revokeSession(s.getHandle()), false);
    assert.strictEqual((await verify(s)).getHandle(), s.getHandle());
    await expectError(Session.Error.UNAUTHORISED, () => verify(s, { checkDatabase: true }));
    await expectError(Session.Error.UNAUTHORISED, () => refresh(s));
    const own = await make("kim");
    await own.revokeSession();
    assert.strictEqual(await Session.getSessionInformation(own.getHandle()), undefined);
  });

  check("revokeMultipleSessions", async () => {
    const [a, b, c] = [await make("lu"), await make("lu"), await make("lu")];
    const revoked = await Session.revokeMultipleSessions([a.getHandle(), b.getHandle(), "no-such-handle"]);
    assert.deepStrictEqual(revoked.sort(), [a.getHandle(), b.getHandle()].sort());
    assert.deepStrictEqual(await Session.getAllSessionHandlesForUser("lu"), [c.getHandle()]);
  });

  check("tenants: createOrUpdateTenant, sessions in a tenant, public tenant config", async () => {
    const created = await Multitenancy.createOrUpdateTenant("blue", {});
    assert.strictEqual(created.status, "OK");
    // What an app does to its public tenant; it must not break the app.
    const pub = await Multitenancy.createOrUpdateTenant("public", { coreConfig: {} });
    assert.strictEqual(pub.status, "OK");
    assert.strictEqual(pub.createdNew, false);
    await sleep(2300); // past the core's cached view of the app (2 s): it must still work
    assert.strictEqual((await make("after-public-tenant")).getTenantId(), "public");
    const s = await make("mo", { t: 1 }, {}, "blue");
    assert.strictEqual(s.getTenantId(), "blue");
    assert.ok(s.getHandle().endsWith("_blue"));
    assert.strictEqual(claimsOf(s.getAccessToken()).tId, "blue");
    const r = await refresh(s);
    assert.strictEqual(r.getTenantId(), "blue");
    assert.strictEqual((await Session.getSessionInformation(s.getHandle())).tenantId, "blue");
    assert.strictEqual((await make("mo")).getTenantId(), "public");
  });

  check("getAllSessionHandlesForUser and revokeAllSessionsForUser, tenant by tenant", async () => {
    const pub = await make("ned");
    const blue = await make("ned", {}, {}, "blue");
    await make("other");
    assert.deepStrictEqual((await Session.getAllSessionHandlesForUser("ned")).sort(), [pub.getHandle(), blue.getHandle()].sort());
    assert.deepStrictEqual(await Session.getAllSessionHandlesForUser("ned", true, "blue"), [blue.getHandle()]);
    assert.deepStrictEqual(await Session.getAllSessionHandlesForUser("ned", true, "public"), [pub.getHandle()]);
    assert.deepStrictEqual(await Session.revokeAllSessionsForUser("ned", true, "blue"), [blue.getHandle()]);
    assert.deepStrictEqual(await Session.getAllSessionHandlesForUser("ned"), [pub.getHandle()]);
    await make("ned", {}, {}, "blue");
    assert.strictEqual((await Session.revokeAllSessionsForUser("ned")).length, 2);
    assert.deepStrictEqual(await Session.getAllSessionHandlesForUser("ned"), []);
    assert.deepStrictEqual(await Session.revokeAllSessionsForUser("nobody"), []);
  });

  check("deleteTenant ends the tenant's sessions; a new tenant starts empty", async () => {
    await Multitenancy.createOrUpdateTenant("green", {});
    const s = await make("ola", {}, {}, "green");
    const deleted = await Multitenancy.deleteTenant("green");
    assert.strictEqual(deleted.didExist, true);
    await expectError(Session.Error.UNAUTHORISED, () => verify(s, { checkDatabase: true }));
    await expectError(Session.Error.UNAUTHORISED, () => refresh(s));
    await assert.rejects(() => make("ola", {}, {}, "green")); // no such tenant (400)
    await Multitenancy.createOrUpdateTenant("green", {});
    assert.deepStrictEqual(await Session.getAllSessionHandlesForUser("ola", true, "green"), []);
    await expectError(Session.Error.UNAUTHORISED, () => refresh(s));
  });

  const Role = new PrimitiveClaim({ key: "role", fetchValue: () => "editor" });
  const Verified = new BooleanClaim({ key: "verified", fetchValue: () => false });

  check("claims by handle: fetchAndSetClaim, get, set, remove, validateClaimsForSessionHandle", async () => {
    const s = await make("pia");
    assert.strictEqual(await Session.fetchAndSetClaim(s.getHandle(), Role), true);
    assert.deepStrictEqual(await Session.getClaimValue(s.getHandle(), Role), { status: "OK", value: "editor" });
    assert.strictEqual(await Session.setClaimValue(s.getHandle(), Role, "owner"), true);
    const valid = await Session.validateClaimsForSessionHandle(s.getHandle(), () => [Role.validators.hasValue("owner")]);
    assert.deepStrictEqual(valid, { status: "OK", invalidClaims: [] });
    const invalid = await Session.validateClaimsForSessionHandle(s.getHandle(), () => [Role.validators.hasValue("admin")]);
    assert.strictEqual(invalid.invalidClaims[0].id, "role");
    assert.strictEqual(await Session.removeClaim(s.getHandle(), Role), true);
    assert.deepStrictEqual(await Session.getClaimValue(s.getHandle(), Role), { status: "OK", value: undefined });
    assert.strictEqual(await Session.fetchAndSetClaim("no-such-handle", Role), false);
    assert.deepStrictEqual(await Session.getClaimValue("no-such-handle", Role), { status: "SESSION_DOES_NOT_EXIST_ERROR" });
    const gone = await Session.validateClaimsForSessionHandle("no-such-handle");
    assert.strictEqual(gone.status, "SESSION_DOES_NOT_EXIST_ERROR");
  });

  check("claims on a session: fetch, set, assert, and verification with validators", async () => {
    const s = await make("quin");
    await s.fetchAndSetClaim(Verified);
    assert.strictEqual(await s.getClaimValue(Verified), false);
    await expectError(Session.Error.INVALID_CLAIMS, () => s.assertClaims([Verified.validators.isTrue()]));
    await expectError(Session.Error.INVALID_CLAIMS, () =>
      verify(s, { overrideGlobalClaimValidators: () => [Verified.validators.isTrue()] })
    );
    await s.setClaimValue(Verified, true);
    await s.assertClaims([Verified.validators.isTrue()]);
    const ok = await verify(s, { overrideGlobalClaimValidators: () => [Verified.validators.isTrue()] });
    assert.strictEqual(ok.getHandle(), s.getHandle());
    await s.removeClaim(Verified);
    assert.strictEqual(await s.getClaimValue(Verified), undefined);
  });

  check("createJWT and getJWKS", async () => {
    const made = await Session.createJWT({ scope: "read" }, 60);
    assert.strictEqual(made.status, "OK");
    const { payload, protectedHeader } = await verifyWithJwks(made.jwt);
    assert.strictEqual(payload.scope, "read");
    assert.strictEqual(payload.exp - payload.iat, 60);
    assert.ok(protectedHeader.kid.startsWith("s-")); // the static key by default
    const dynamic = await Session.createJWT({ scope: "write" }, 30, false);
    assert.ok(headerOf(dynamic.jwt).kid.startsWith("d-"));
    await verifyWithJwks(dynamic.jwt);
    const { keys } = await Session.getJWKS();
    assert.ok(keys.length >= 2);
    assert.ok(keys.every((k) => k.kty === "RSA" && k.alg === "RS256" && k.use === "sig"));
  });

  check("regenerate after revocation is UNAUTHORISED", async () => {
    const s = await make("rui");
    await Session.revokeSession(s.getHandle());
    await expectError(Session.Error.UNAUTHORISED, () => s.mergeIntoAccessTokenPayload({ x: 1 }));
  });
}

if (mode === "static") {
  check("static signing key: create, verify, refresh", async () => {
    const s = await make("sam", { k: 1 });
    assert.ok(headerOf(s.getAccessToken()).kid.startsWith("s-"));
    assert.strictEqual((await verify(s, { checkDatabase: true })).getHandle(), s.getHandle());
    const r = await refresh(s);
    assert.ok(headerOf(r.getAccessToken()).kid.startsWith("s-"));
    const used = await verify(r);
    assert.ok(headerOf(used.getAccessToken()).kid.startsWith("s-"));
    await verifyWithJwks(used.getAccessToken());
  });

  check("static signing key: regenerate keeps the key", async () => {
    const s = await make("sue");
    await s.mergeIntoAccessTokenPayload({ more: true });
    assert.ok(headerOf(s.getAccessToken()).kid.startsWith("s-"));
    assert.strictEqual((await verify(s)).getAccessTokenPayload().more, true);
  });
}

if (mode === "short") {
  check("an expired access token asks for a refresh, which works", async () => {
    const s = await make("tia", { n: 1 });
    assert.strictEqual((await verify(s)).getHandle(), s.getHandle());
    await sleep(claimsOf(s.getAccessToken()).exp * 1000 - Date.now() + 1100);
    await expectError(Session.Error.TRY_REFRESH_TOKEN, () => verify(s));
    await expectError(Session.Error.TRY_REFRESH_TOKEN, () => verify(s, { checkDatabase: true }));
    const r = await refresh(s);
    assert.strictEqual((await verify(r)).getAccessTokenPayload().n, 1);
  });

  check("regenerating an expired token stores the payload, mints nothing", async () => {
    const s = await make("uma");
    await sleep(claimsOf(s.getAccessToken()).exp * 1000 - Date.now() + 1100);
    await s.mergeIntoAccessTokenPayload({ later: 1 }).catch(() => undefined);
    const info = await Session.getSessionInformation(s.getHandle());
    assert.strictEqual(info.customClaimsInAccessTokenPayload.later, 1);
    assert.strictEqual((await refresh(s)).getAccessTokenPayload().later, 1);
  });
}

run();
