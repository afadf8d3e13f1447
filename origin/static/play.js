// vodpipe's player page: one of hls.js, dash.js or Shaka Player on a title, with the ladder,
// the current rendition, bitrate and buffer on screen and in window.vodpipe for tests.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("config").textContent);
  const video = document.getElementById("video");
  const state = { player: config.player, url: config.url, errors: [], switches: [], ladder: [], active: null };
  window.vodpipe = state;
  // An encrypted title's entitlement token comes in the page's own query (?token=, printed by
  // `vodpipe demo --encrypt` or made with `vodpipe token`): the origin never hands tokens out.
  // It is sent only to the license server, as a bearer token, never with media requests.
  const token = new URLSearchParams(location.search).get("token");
  const bearer = token ? { Authorization: `Bearer ${token}` } : null;
  // A title that needs signed URLs: the page's own query carries the signature (`vodpipe sign
  // URL/play/TITLE`) and the manifest URL gets it; the origin adds it to every URI the manifest names.
  const signed = ["exp", "prefix", "sig"].map((name) => [name, new URLSearchParams(location.search).get(name)]);
  if (signed.every(([, value]) => value !== null)) {
    const manifest = new URL(config.url, location.href);
    for (const [name, value] of signed) manifest.searchParams.set(name, value);
    config.url = manifest.pathname + manifest.search;
    state.url = config.url;
    for (const a of document.querySelectorAll("nav a")) {
      const url = new URL(a.href);
      for (const [name, value] of signed) url.searchParams.set(name, value);
      a.href = url.href;
    }
  }
  // CMCD (CTA-5004): each player adds its QoE data (session id, buffer length, throughput...)
  // to every manifest and segment request as the CMCD query argument (query, not headers: no
  // CORS preflight), and the origin's access log records it. One session id per page load.
  const sid = window.crypto && crypto.randomUUID ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  state.cmcd = { sid, cid: config.url.split("/")[2] };
  if (token) {
    for (const a of document.querySelectorAll("nav a")) {
      const url = new URL(a.href);
      url.searchParams.set("token", token);
      a.href = url.href;
    }
  }

  // The multivariant playlist's ClearKey signalling: the license URL and KIDs of its
  // KEYFORMAT="org.w3.clearkey" key tags, and whether it has KEYFORMAT="identity" ones too.
  async function hlsClearKey() {
    const text = await (await fetch(config.url)).text();
    const found = { licenseUrl: null, kids: [], identity: false };
    for (const line of text.split(/\r?\n/)) {
      if (!/^#EXT-X-(SESSION-)?KEY:/.test(line)) continue;
      if (line.includes('KEYFORMAT="identity"')) found.identity = true;
      if (!line.includes('KEYFORMAT="org.w3.clearkey"')) continue;
      const uri = /[:,]URI="([^"]*)"/.exec(line);
      const kid = /[:,]KEYID=0[xX]([0-9a-fA-F]{32})/.exec(line);
      if (uri) found.licenseUrl = new URL(uri[1], new URL(config.url, location.href)).href;
      if (kid && !found.kids.includes(kid[1].toLowerCase())) found.kids.push(kid[1].toLowerCase());
    }
    return found;
  }
  const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const hexBytes = (hex) => Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));
  const b64urlHex = (text) => Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  // Shaka Player reads HLS ClearKey only as KEYFORMAT="identity", which no cbcs playlist can carry
  // beside hls.js's "org.w3.clearkey" (hls.js then takes it for MPEG-TS SAMPLE-AES). For such a
  // playlist the page itself makes ClearKey's license request (the same EME ClearKey JSON, to the
  // same license server, with the same bearer token) and hands Shaka the keys as drm.clearKeys.
  async function clearKeysFor(signalled) {
    const response = await fetch(signalled.licenseUrl, {
      method: "POST", headers: { "Content-Type": "application/json", ...(bearer || {}) },
      body: JSON.stringify({ kids: signalled.kids.map((k) => b64url(hexBytes(k))), type: "temporary" }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const keys = {};
    for (const k of (await response.json()).keys) keys[b64urlHex(k.kid)] = b64urlHex(k.k);
    return keys;
  }

  function fail(message) {
    state.errors.push(String(message));
    document.getElementById("errors").textContent = state.errors.join("\n");
  }
  function setLadder(levels) {
    state.ladder = levels.map((l) => ({ height: l.height, width: l.width, bitrate: l.bitrate }))
      .sort((a, b) => b.bitrate - a.bitrate);
  }
  function setActive(level) {
    if (!level) return;
    const now = { height: level.height, bitrate: level.bitrate, at: video.currentTime };
    if (!state.active || state.active.bitrate !== now.bitrate) state.switches.push(now);
    state.active = now;
  }

  const adapters = {
    "hls.js": async function () {
      if (!window.Hls || !Hls.isSupported()) return fail("hls.js: Media Source Extensions unavailable");
      const buffer = config.buffer ? { maxBufferLength: config.buffer, maxMaxBufferLength: config.buffer } : {};
      const { licenseUrl } = await hlsClearKey();
      const drm = licenseUrl ? {
        emeEnabled: true,
        drmSystems: { "org.w3.clearkey": { licenseUrl } },
        licenseXhrSetup: (xhr, url) => {
          xhr.open("POST", url, true);
          if (bearer) xhr.setRequestHeader("Authorization", bearer.Authorization);
        },
      } : {};
      // METHOD=AES-128 key URIs (master-aes128.m3u8) need the token too: hls.js fetches them
      // with its XHR loader, which sends no Authorization header unless xhrSetup adds it.
      const keys = bearer ? {
        xhrSetup: (xhr, url) => {
          if (!url.includes("/license/aes128/")) return;
          xhr.open("GET", url, true);
          xhr.setRequestHeader("Authorization", bearer.Authorization);
        },
      } : {};
      const cmcd = { cmcd: { sessionId: state.cmcd.sid, contentId: state.cmcd.cid, useHeaders: false } };
      const hls = new Hls({ capLevelToPlayerSize: false, ...buffer, ...drm, ...keys, ...cmcd });
      hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) fail(`hls.js: ${data.type} ${data.details}`); });
      hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => setLadder(data.levels.map((l) => ({ height: l.height, width: l.width, bitrate: l.bitrate }))));
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => { const l = hls.levels[data.level]; setActive({ height: l.height, bitrate: l.bitrate }); });
      hls.loadSource(config.url);
      hls.attachMedia(video);
      state.instance = hls;
    },
    "dash.js": function () {
      const player = dashjs.MediaPlayer().create();
      player.updateSettings({ streaming: { cmcd: { enabled: true, sid: state.cmcd.sid, cid: state.cmcd.cid, mode: "query" } } });
      if (config.buffer) {
        const b = config.buffer;
        player.updateSettings({ streaming: { buffer: { bufferTimeAtTopQuality: b, bufferTimeAtTopQualityLongForm: b, stableBufferTime: b } } });
      }
      // The license URL comes from the MPD (dashif:Laurl); only the token is added.
      if (bearer) player.setProtectionData({ "org.w3.clearkey": { httpRequestHeaders: bearer } });
      player.on(dashjs.MediaPlayer.events.ERROR, (e) => fail(`dash.js: ${e.error && (e.error.message || e.error.code) || "error"}`));
      player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
        setLadder(player.getRepresentationsByType("video").map((r) => ({ height: r.height, width: r.width, bitrate: r.bandwidth })));
      });
      player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, (e) => {
        if (e.mediaType !== "video") return;
        const r = player.getCurrentRepresentationForType("video");
        if (r) setActive({ height: r.height, bitrate: r.bandwidth });
      });
      player.initialize(video, config.url, true);
      state.instance = player;
    },
    shaka: async function () {
      shaka.polyfill.installAll();
      if (!shaka.Player.isBrowserSupported()) return fail("Shaka Player: browser not supported");
      const player = new shaka.Player();
      if (config.buffer) player.configure({ streaming: { bufferingGoal: config.buffer, rebufferingGoal: Math.min(2, config.buffer) } });
      await player.attach(video);
      if (bearer) {
        const types = shaka.net.NetworkingEngine.RequestType;
        // LICENSE: ClearKey from dashif:Laurl; KEY: an HLS KEYFORMAT="identity" key URI.
        player.getNetworkingEngine().registerRequestFilter((type, request) => {
          if (type === types.LICENSE || type === types.KEY) Object.assign(request.headers, bearer);
        });
      }
      new shaka.ui.Overlay(player, document.getElementById("container"), video);
      player.addEventListener("error", (e) => fail(`Shaka Player: error ${e.detail && e.detail.code}`));
      const active = () => { const t = player.getVariantTracks().find((v) => v.active); if (t) setActive({ height: t.height, bitrate: t.videoBandwidth || t.bandwidth }); };
      player.addEventListener("adaptation", active);
      player.addEventListener("variantchanged", active);
      let cmcd = true;
      if (config.format === "hls") {
        const signalled = await hlsClearKey();
        // Shaka's CMCD (query mode) breaks its HLS key requests for an encrypted title (error
        // 6007 with ClearKey): CMCD stays off there; every other Shaka title sends it.
        cmcd = !signalled.licenseUrl;
        if (signalled.licenseUrl && !signalled.identity && signalled.kids.length) {
          try {
            player.configure({ drm: { clearKeys: await clearKeysFor(signalled) } });
          } catch (e) {
            return fail(`Shaka Player: ClearKey license request failed: ${e.message}`);
          }
        }
      }
      if (cmcd) player.configure({ cmcd: { enabled: true, sessionId: state.cmcd.sid, contentId: state.cmcd.cid, useHeaders: false } });
      try {
        // Absolute: Shaka's CMCD query rewriting turns a root-relative "/media/..." into "//media/...".
        await player.load(new URL(config.url, location.href).href);
      } catch (e) {
        return fail(`Shaka Player: load failed, code ${e.code}`);
      }
      setLadder(player.getVariantTracks().map((t) => ({ height: t.height, width: t.width, bitrate: t.videoBandwidth || t.bandwidth })));
      active();
      state.instance = player;
    },
  };

  state.snapshot = function () {
    const quality = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : {};
    let ahead = 0;
    for (let i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= video.currentTime && video.currentTime <= video.buffered.end(i)) ahead = video.buffered.end(i) - video.currentTime;
    }
    return {
      time: video.currentTime, paused: video.paused, ended: video.ended, readyState: video.readyState,
      width: video.videoWidth, height: video.videoHeight, buffer: ahead,
      decoded: quality.totalVideoFrames || 0, dropped: quality.droppedVideoFrames || 0,
      bitrate: state.active ? state.active.bitrate : 0, errors: state.errors.slice(), switches: state.switches.slice(),
      ladder: state.ladder,
    };
  };

  function render() {
    const s = state.snapshot();
    const rows = [["player", config.player], ["format", config.format.toUpperCase()], ["rendition", s.height ? `${s.width}×${s.height}` : "—"],
      ["bitrate", s.bitrate ? `${(s.bitrate / 1e6).toFixed(2)} Mb/s` : "—"], ["buffer", `${s.buffer.toFixed(1)} s`],
      ["position", `${s.time.toFixed(1)} s`], ["frames", `${s.decoded} decoded, ${s.dropped} dropped`]];
    document.querySelector("#stats tbody").innerHTML = rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("");
    document.querySelector("#ladder tbody").innerHTML = s.ladder.map((l) =>
      `<tr class="${l.bitrate === s.bitrate ? "active" : ""}"><td>${l.height}p</td><td>${l.width}×${l.height}</td><td>${(l.bitrate / 1e6).toFixed(2)} Mb/s</td></tr>`).join("");
  }

  video.muted = true;
  video.addEventListener("error", () => fail(`video element: ${video.error && video.error.message}`));
  setInterval(render, 500);
  Promise.resolve(adapters[config.player]()).then(() => video.play().catch(() => {})).catch((e) => fail(e));
})();
