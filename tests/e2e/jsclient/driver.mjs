// An encrypting Matrix user for the e2e suite: matrix-js-sdk with its Rust crypto (WASM), one logged-in user per
// process, driven over JSON lines. stdin: {"id", "cmd", "args"}; stdout: {"id", "ok": true, "result"} or
// {"id", "ok": false, "error"}. Everything else (the SDK's own logging included) goes to stderr.
//
// Nobody on this project wrote the crypto: encryption, key sharing, to-device handling and decryption are the
// SDK's. This file only records what the user sees and exposes the few actions the tests need.

import { webcrypto } from "node:crypto";
import { createInterface } from "node:readline";

// Node 18 (Debian 12's nodejs) has Web Crypto only as node:crypto's `webcrypto`; the SDK expects the global.
if (globalThis.crypto === undefined) globalThis.crypto = webcrypto;

// The SDK logs through console.log; stdout is the protocol channel, so every console method goes to stderr.
for (const name of ["log", "info", "debug", "trace", "warn"]) console[name] = (...a) => console.error(...a);

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
const attachments = await import("matrix-encrypt-attachment");
const { encryptAttachment, decryptAttachment } = attachments.default ?? attachments;

logger.setLevel(process.env.JSCLIENT_LOG_LEVEL ?? "warn");

const MEGOLM = "m.megolm.v1.aes-sha2";
let client = null;
let homeserver = null;
let loginPassword = null;
const timeline = []; // every live timeline event seen, in arrival order (MatrixEvent)
const seen = new Set();
const invites = []; // room ids invited to, in arrival order
const invitesReturned = new Set();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, timeoutS, probe) {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: nothing within ${timeoutS} s`);
    await sleep(100);
  }
}

function record(event, room) {
  const id = event.getId();
  if (!id || id.startsWith("~") || seen.has(id)) return; // local echoes get their real id later
  seen.add(id);
  event.roomIdForDriver = room?.roomId ?? event.getRoomId();
  timeline.push(event);
}

function view(event) {
  const content = { ...(event.getOriginalContent() ?? {}) };
  const wireRelation = event.getWireContent()?.["m.relates_to"];
  if (content["m.relates_to"] === undefined && wireRelation !== undefined) content["m.relates_to"] = wireRelation;
  return {
    event_id: event.getId(),
    room_id: event.roomIdForDriver,
    sender: event.getSender(),
    type: event.getType(),
    content,
    origin_server_ts: event.getTs(),
    encrypted: event.isEncrypted(),
    wire_type: event.getWireType(),
    decryption_failed: event.isDecryptionFailure(),
    decryption_failure_reason: event.decryptionFailureReason ?? null,
  };
}

function repliesTo(event) {
  const relation = event.getOriginalContent()?.["m.relates_to"] ?? event.getWireContent()?.["m.relates_to"];
  return relation?.["m.in_reply_to"]?.event_id ?? null;
}

async function readyRoom(roomId, timeoutS) {
  return until(`room ${roomId} joined and synced`, timeoutS, () => {
    const room = client.getRoom(roomId);
    return room && room.getMyMembership() === "join" ? room : null;
  });
}

async function mediaFetch(mxc) {
  const [server, mediaId] = mxc.replace("mxc://", "").split("/");
  const path = `/_matrix/client/v1/media/download/${encodeURIComponent(server)}/${encodeURIComponent(mediaId)}`;
  const response = await fetch(homeserver + path, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } });
  if (!response.ok) throw new Error(`download ${mxc}: HTTP ${response.status} ${await response.text()}`);
  return Buffer.from(await response.arrayBuffer());
}

const commands = {
  async login({ homeserver: url, user_id: userId, password, device_name: deviceName }) {
    homeserver = url.replace(/\/$/, "");
    loginPassword = password;
    const loginClient = sdk.createClient({ baseUrl: homeserver });
    const session = await loginClient.loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: userId },
      password,
      initial_device_display_name: deviceName ?? "e2e js-sdk",
    });
    client = sdk.createClient({
      baseUrl: homeserver,
      userId: session.user_id,
      deviceId: session.device_id,
      accessToken: session.access_token,
    });
    await client.initRustCrypto({ useIndexedDB: false });
    client.on(sdk.RoomEvent.Timeline, (event, room, toStart) => {
      if (!toStart) record(event, room);
    });
    client.on(sdk.RoomEvent.MyMembership, (room, membership) => {
      if (membership === "invite" && !invites.includes(room.roomId)) invites.push(room.roomId);
    });
    const prepared = new Promise((resolve, reject) => {
      client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
        if (state === "PREPARED" || state === "SYNCING") resolve();
        if (state === "ERROR") reject(data?.error ?? new Error("sync error"));
      });
    });
    await client.startClient({ initialSyncLimit: 50 });
    await prepared;
    return { user_id: session.user_id, device_id: session.device_id, access_token: session.access_token };
  },

  async create_encrypted_dm({ invite }) {
    const created = await client.createRoom({
      is_direct: true,
      preset: "trusted_private_chat",
      invite: [invite],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: MEGOLM } }],
    });
    await readyRoom(created.room_id, 30);
    return { room_id: created.room_id };
  },

  async join({ room_id: roomId }) {
    await client.joinRoom(roomId);
    await readyRoom(roomId, 30);
    return { room_id: roomId };
  },

  async wait_invite({ timeout }) {
    const roomId = await until("an invite", timeout, () => invites.find((r) => !invitesReturned.has(r)));
    invitesReturned.add(roomId);
    return { room_id: roomId };
  },

  async room_encrypted({ room_id: roomId }) {
    const room = await readyRoom(roomId, 30);
    return { encrypted: room.hasEncryptionStateEvent() };
  },

  // The room must be known as encrypted before sending (the SDK sends plaintext into a room whose encryption
  // state it has not seen yet); `require_encrypted: false` lets a test send into a plaintext room.
  async send_text({ room_id: roomId, body, reply_to: replyTo, thread_root: threadRoot, require_encrypted }) {
    const room = await readyRoom(roomId, 30);
    const encrypted = room.hasEncryptionStateEvent();
    if (require_encrypted !== false && !encrypted) throw new Error(`room ${roomId} is not encrypted`);
    const content = { msgtype: "m.text", body };
    if (threadRoot) {
      content["m.relates_to"] = {
        rel_type: "m.thread",
        event_id: threadRoot,
        is_falling_back: !replyTo,
        "m.in_reply_to": { event_id: replyTo ?? threadRoot },
      };
    } else if (replyTo) {
      content["m.relates_to"] = { "m.in_reply_to": { event_id: replyTo } };
    }
    const sent = await client.sendEvent(roomId, "m.room.message", content);
    return { event_id: sent.event_id, encrypted };
  },

  // Encrypts the bytes as the spec's encrypted attachment (AES-CTR, SHA-256 of the ciphertext), uploads the
  // ciphertext and posts `content.file` with no plaintext `url`.
  // `corrupt_hash`: the announced SHA-256 is not the ciphertext's (a receiver must refuse the file).
  async send_file({ room_id: roomId, data_b64: dataB64, name, mimetype, msgtype, caption, corrupt_hash }) {
    const room = await readyRoom(roomId, 30);
    if (!room.hasEncryptionStateEvent()) throw new Error(`room ${roomId} is not encrypted`);
    const plain = Buffer.from(dataB64, "base64");
    const { data, info } = await encryptAttachment(plain);
    if (corrupt_hash) info.hashes = { sha256: Buffer.alloc(32, 7).toString("base64").replace(/=+$/, "") };
    const upload = await client.uploadContent(Buffer.from(data), {
      name: "encrypted.bin",
      type: "application/octet-stream",
    });
    const type = mimetype ?? "application/octet-stream";
    const content = {
      msgtype: msgtype ?? "m.file",
      body: caption ?? name,
      filename: name,
      info: { mimetype: type, size: plain.length },
      file: { ...info, url: upload.content_uri, mimetype: type },
    };
    const sent = await client.sendEvent(roomId, "m.room.message", content);
    return { event_id: sent.event_id, mxc: upload.content_uri };
  },

  // Downloads `file.url` and decrypts it; the library checks the SHA-256 against `file.hashes` and throws on a
  // mismatch.
  async download_file({ file }) {
    const ciphertext = await mediaFetch(file.url);
    const plain = await decryptAttachment(ciphertext, file);
    return { data_b64: Buffer.from(plain).toString("base64"), size: plain.byteLength };
  },

  mark() {
    return { position: timeline.length };
  },

  // The first event from position `after` on, in `room_id`, with `event_id`, from `sender`, of `type`, replying to
  // `reply_to`, with `msgtype` (each optional)
  // once it is decrypted. An event that stays undecryptable matches only with `allow_undecryptable`.
  async wait_event(args) {
    const { room_id: roomId, event_id: eventId, sender, reply_to: replyTo, type, msgtype, after, timeout } = args;
    const matches = (event) =>
      (!msgtype || event.getOriginalContent()?.msgtype === msgtype) &&
      (!roomId || event.roomIdForDriver === roomId) &&
      (!eventId || event.getId() === eventId) &&
      (!sender || event.getSender() === sender) &&
      (!replyTo || repliesTo(event) === replyTo) &&
      (!type || event.getType() === type);
    const found = await until("a matching event", timeout, async () => {
      for (const event of timeline.slice(after ?? 0)) {
        if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) await client.decryptEventIfNeeded(event);
        if (event.isDecryptionFailure() && !args.allow_undecryptable) continue;
        if (matches(event)) return event;
      }
      return null;
    }).catch((error) => {
      throw new Error(`${error.message}; last events:\n${recent(roomId)}`);
    });
    return view(found);
  },

  // Every event seen so far (from `after`, in `room_id` when given), decrypted where possible.
  async events({ room_id: roomId, after }) {
    const chosen = timeline.slice(after ?? 0).filter((e) => !roomId || e.roomIdForDriver === roomId);
    for (const event of chosen) await client.decryptEventIfNeeded(event);
    return { events: chosen.map(view) };
  },

  // The user's own cross-signing keys, this device signed with them (what Element sets up at first login);
  // "only_signed" isolation refuses to encrypt without them.
  async bootstrap_cross_signing() {
    const userId = client.getUserId();
    await client.getCrypto().bootstrapCrossSigning({
      setupNewCrossSigning: true,
      authUploadDeviceSigningKeys: async (makeRequest) => {
        await makeRequest({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: userId },
          password: loginPassword,
        });
      },
    });
    return { ready: await client.getCrypto().isCrossSigningReady() };
  },

  // MSC4153: "only_signed" stops sharing room keys with devices their owner has not cross-signed, and drops
  // messages from such devices; "all" is the default.
  set_isolation({ mode }) {
    const isolation =
      mode === "only_signed"
        ? new cryptoApi.OnlySignedDevicesIsolationMode()
        : new cryptoApi.AllDevicesIsolationMode(false);
    client.getCrypto().setDeviceIsolationMode(isolation);
    return { mode };
  },

  // The next message in the room starts a new Megolm session, whose key goes out as a fresh to-device event.
  async discard_session({ room_id: roomId }) {
    await client.getCrypto().forceDiscardSession(roomId);
    return {};
  },

  set_blacklist_unverified({ value }) {
    client.getCrypto().globalBlacklistUnverifiedDevices = Boolean(value);
    return { value: Boolean(value) };
  },

  // What this client knows of another user's devices, keys downloaded afresh.
  async devices({ user_id: userId }) {
    const crypto = client.getCrypto();
    const map = await crypto.getUserDeviceInfo([userId], true);
    const devices = [];
    for (const [deviceId] of map.get(userId) ?? new Map()) {
      const status = await crypto.getDeviceVerificationStatus(userId, deviceId);
      devices.push({
        device_id: deviceId,
        signed_by_owner: status?.signedByOwner ?? false,
        cross_signing_verified: status?.crossSigningVerified ?? false,
        locally_verified: status?.localVerified ?? false,
      });
    }
    const identity = await crypto.getUserVerificationStatus(userId);
    return { devices, cross_signing_verified: identity.isCrossSigningVerified() };
  },

  async shutdown() {
    client?.stopClient();
    setTimeout(() => process.exit(0), 50);
    return {};
  },
};

function recent(roomId, count = 12) {
  return timeline
    .filter((e) => !roomId || e.roomIdForDriver === roomId)
    .slice(-count)
    .map((e) => {
      const state = e.isDecryptionFailure() ? "UNDECRYPTABLE" : e.isEncrypted() ? "encrypted" : "plain";
      return `  ${e.getId()} ${e.getType()} (${state}) from ${e.getSender()}: ${JSON.stringify(e.getContent()?.body)}`;
    })
    .join("\n");
}

function reply(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", async (line) => {
  if (!line.trim()) return;
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    reply({ id: null, ok: false, error: `bad request line: ${error.message}` });
    return;
  }
  const handler = commands[request.cmd];
  if (!handler) {
    reply({ id: request.id, ok: false, error: `unknown command ${request.cmd}` });
    return;
  }
  if (request.cmd !== "login" && client === null) {
    reply({ id: request.id, ok: false, error: "not logged in" });
    return;
  }
  try {
    reply({ id: request.id, ok: true, result: await handler(request.args ?? {}) });
  } catch (error) {
    console.error(`command ${request.cmd} failed:`, error);
    reply({ id: request.id, ok: false, error: String(error?.stack ?? error) });
  }
});
lines.on("close", () => {
  client?.stopClient();
  process.exit(0);
});
