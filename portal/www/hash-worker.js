// Hashes one file (a File or Blob) with one algorithm, in this Web Worker, with the protocol
// crate's hasher compiled to WebAssembly. The page runs one worker per algorithm (SM3 and
// SHA-256 on two cores). The file is read in 4 MiB slices, the next one while this one is
// hashed; nothing is sent anywhere but back
// to the page: the running byte count (progress) and the digest.
import init, { Hasher } from './pkg/tiezheng_wasm.js';

const CHUNK = 4 * 1024 * 1024;
const ready = init();
ready.then(() => postMessage({ ready: true }), (e) => postMessage({ ready: false, error: String(e) }));

// The SM3 of each byte range [offset, length] of `segments` (a recording's segments, in file
// order), fed the file's chunks as they pass; a range the file does not reach stays unhashed.
function segmentHasher(segments) {
  const done = [];
  let i = 0;
  let h = segments.length ? new Hasher('SM3') : null;
  return {
    done,
    feed(chunk, offset) {
      let pos = 0;
      while (i < segments.length) {
        const [start, length] = segments[i];
        const end = start + length;
        const at = offset + pos;
        if (at >= end) {
          done.push(h.finalize());
          i += 1;
          h = i < segments.length ? new Hasher('SM3') : null;
          continue;
        }
        if (pos >= chunk.length) break;
        if (at < start) { pos = Math.min(chunk.length, start - offset); continue; }
        const take = Math.min(chunk.length - pos, end - at);
        h.update(chunk.subarray(pos, pos + take));
        pos += take;
      }
    },
  };
}

self.onmessage = async ({ data }) => {
  const { id, blob, algorithm, segments = [] } = data;
  try {
    await ready;
    const hasher = new Hasher(algorithm);
    const cut = segmentHasher(segments);
    const started = performance.now();
    const read = (offset) => (offset < blob.size ? blob.slice(offset, offset + CHUNK).arrayBuffer() : null);
    // Read ahead: the next slice is on its way while this one is hashed.
    let next = read(0);
    let last = 0;
    for (let offset = 0; next; offset += CHUNK) {
      const chunk = await next;
      next = read(offset + CHUNK);
      const bytes = new Uint8Array(chunk);
      hasher.update(bytes);
      cut.feed(bytes, offset);
      const now = performance.now();
      if (now - last > 100) {
        postMessage({ id, progress: offset + chunk.byteLength });
        last = now;
      }
    }
    const digest = hasher.finalize();
    postMessage({ id, done: digest, segments: cut.done, bytes: blob.size, ms: performance.now() - started });
  } catch (e) {
    postMessage({ id, error: String(e && e.message ? e.message : e) });
  }
};
