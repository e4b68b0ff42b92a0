// Uploads a file to fieldsync with tus-js-client, aborting part-way as a
// phone losing signal would, then resuming from the offset the server
// reports. Prints one JSON line: {url, abortedAt, resumedFrom, bytes}.
// Usage: node upload.js FILE   (env: TUS_ENDPOINT, TOKEN, PHOTO_ID, SHA256)
const fs = require('fs');
const tus = require('tus-js-client');

const file = fs.readFileSync(process.argv[2]);
const opts = {
  endpoint: process.env.TUS_ENDPOINT,
  headers: { Authorization: 'Bearer ' + process.env.TOKEN },
  metadata: { photo_id: process.env.PHOTO_ID, sha256: process.env.SHA256, content_type: 'image/jpeg' },
  chunkSize: 16 * 1024,
  retryDelays: null,
  storeFingerprintForResuming: false,
};

function fail(err) {
  console.error(String(err));
  process.exit(1);
}

let abortedAt = 0;
const first = new tus.Upload(file, {
  ...opts,
  onError: fail,
  onSuccess: () => fail('the first attempt should have been interrupted'),
  onChunkComplete: (chunk, sent, total) => {
    if (sent >= total / 2 && !abortedAt) {
      abortedAt = sent;
      first.abort(false).then(resume, fail);
    }
  },
});
first.start();

function resume() {
  let resumedFrom = -1;
  const second = new tus.Upload(file, {
    ...opts,
    uploadUrl: first.url,
    onError: fail,
    onProgress: (sent) => { if (resumedFrom < 0) resumedFrom = sent; },
    onSuccess: () => {
      console.log(JSON.stringify({ url: first.url, abortedAt, resumedFrom, bytes: file.length }));
    },
  });
  second.start();
}
