// Service worker of the MGE-rs browser demo: after the first visit the page, its code and
// the model bundles come from this cache when the network does not answer, so a reload
// works offline.
//
// - The page and its code: network first (a new build is picked up at once), the cache
//   when offline.
// - Model bundles (*.safetensors, 27 MB each): cache first, but a bundle is only stored
//   when the page asks ({type: "cache", url}) after its worker has loaded it, so a damaged
//   download is never kept. Change CACHE when a bundle changes under the same name.

const CACHE = "mge-demo-v1";
const SHELL = [
  "./",
  "./style.css",
  "./mge-web.js",
  "./mge-web_bg.wasm",
  "./mge-worker_loader.js",
  "./mge-worker.js",
  "./mge-worker_bg.wasm",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function isBundle(url) {
  return url.pathname.endsWith(".safetensors");
}

// All page addresses (whatever their ?text=…) are the same document: keep it once.
function keyOf(request) {
  return request.mode === "navigate" ? new URL("./", self.location.href).href : request;
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  return hit || fetch(request);
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.status === 200) {
      cache.put(keyOf(request), response.clone()).catch(() => {});
    }
    return response;
  } catch (error) {
    const hit = await cache.match(keyOf(request), { ignoreSearch: true });
    if (hit) return hit;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The extraction API of `mge serve` (the page's fallback) is never cached.
  if (url.pathname.includes("/api/") || url.pathname.endsWith("/healthz")) return;
  event.respondWith(isBundle(url) ? cacheFirst(request) : networkFirst(request));
});

self.addEventListener("message", (event) => {
  const data = event.data;
  if (!data || data.type !== "cache" || typeof data.url !== "string") return;
  let url;
  try {
    url = new URL(data.url);
  } catch (e) {
    return;
  }
  if (url.origin !== self.location.origin || !isBundle(url)) return;
  event.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      if (!(await cache.match(url.href))) await cache.add(url.href);
    })
  );
});
