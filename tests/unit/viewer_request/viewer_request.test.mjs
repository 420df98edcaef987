// The CloudFront viewer-request function (template.yaml, ViewerRequestFunction.FunctionCode), run
// in a fresh node:vm context per case with Date.now frozen.
//
// Run through pytest (tests/unit/test_viewer_request.py), which extracts the code from template.yaml
// and passes its path in FERRY_VIEWER_REQUEST_JS. By hand:
//   FERRY_VIEWER_REQUEST_JS=/path/to/extracted.js node --test tests/unit/viewer_request/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import vm from 'node:vm';

const SOURCE = process.env.FERRY_VIEWER_REQUEST_JS;
if (!SOURCE) {
  throw new Error('FERRY_VIEWER_REQUEST_JS is not set: run `.venv/bin/pytest tests/unit/test_viewer_request.py`');
}
const CODE = readFileSync(SOURCE, 'utf8');

const NOW = 1900000000; // frozen clock, seconds
const EXPIRES = NOW + 3 * 86400;
const HEX = '0123456789abcdef0123456789abcdef';
const VALID = `/ttl-3d/${EXPIRES}/file_${HEX}.png`;

/** The handler, loaded into its own context with Date.now() answering `nowMs`. */
function load(nowMs = NOW * 1000) {
  const context = vm.createContext({});
  vm.runInContext(CODE, context, { filename: 'viewer-request.js' });
  vm.runInContext('Date', context).now = () => nowMs;
  assert.equal(typeof context.handler, 'function', 'the code must declare function handler(event)');
  return context.handler;
}

function event(uri, { method = 'GET', querystring = {} } = {}) {
  return {
    version: '1.0',
    context: { distributionDomainName: 'd111111abcdef8.cloudfront.net', eventType: 'viewer-request' },
    viewer: { ip: '198.51.100.7' },
    request: {
      method,
      uri,
      querystring,
      headers: { host: { value: 'd111111abcdef8.cloudfront.net' }, accept: { value: '*/*' } },
      cookies: {},
    },
  };
}

/** A plain copy (objects made inside the vm context have that realm's prototypes). */
const plain = (value) => JSON.parse(JSON.stringify(value));

function assertRefused(result, statusCode, statusDescription) {
  const answer = plain(result);
  assert.equal(answer.statusCode, statusCode);
  assert.equal(answer.statusDescription, statusDescription);
  assert.deepEqual(answer.headers, {
    'content-type': { value: 'text/plain; charset=utf-8' },
    'cache-control': { value: 'no-store' },
    'x-content-type-options': { value: 'nosniff' },
  });
  assert.deepEqual(answer.body, { encoding: 'text', data: `${statusDescription}\n` });
  assert.equal(answer.uri, undefined, 'a response, not a request');
}

describe('a well-formed, unexpired name', () => {
  for (const method of ['GET', 'HEAD']) {
    test(`${method} passes through unchanged`, () => {
      const input = event(VALID, { method });
      const before = plain(input.request);
      const result = load()(input);
      assert.equal(result, input.request, 'the same request object goes on to the cache/origin');
      assert.deepEqual(plain(result), before);
    });
  }

  test('every TTL class 1–7 passes', () => {
    const handler = load();
    for (let days = 1; days <= 7; days += 1) {
      const uri = `/ttl-${days}d/${EXPIRES}/file_${HEX}.png`;
      assert.equal(plain(handler(event(uri))).uri, uri);
    }
  });

  test('extensions of 2 to 5 lowercase letters or digits pass', () => {
    const handler = load();
    for (const ext of ['gz', 'png', 'jpeg', 'webp', 'mp4', 'flac', 'mpeg', 'm4a', 'bin', 'abcde']) {
      const uri = `/ttl-3d/${EXPIRES}/file_${HEX}.${ext}`;
      assert.equal(plain(handler(event(uri))).uri, uri, ext);
    }
  });

  test('one second before the expiry still passes', () => {
    assert.equal(plain(load((EXPIRES - 1) * 1000)(event(VALID))).uri, VALID);
  });

  test('one millisecond before the expiry still passes', () => {
    assert.equal(plain(load(EXPIRES * 1000 - 1)(event(VALID))).uri, VALID);
  });

  test('a query string is dropped, never forwarded (S3 honours response-content-type on signed requests)', () => {
    const input = event(VALID, {
      querystring: { 'response-content-type': { value: 'text/html' }, x: { value: '1', multiValue: [{ value: '1' }] } },
    });
    const result = plain(load()(input));
    assert.equal(result.uri, VALID);
    assert.deepEqual(result.querystring, {});
  });

  test('the method is not examined', () => {
    assert.equal(plain(load()(event(VALID, { method: 'OPTIONS' }))).uri, VALID);
  });
});

describe('expiry', () => {
  test('after the expiry → 410', () => {
    assertRefused(load((EXPIRES + 1) * 1000)(event(VALID)), 410, 'Gone');
  });

  test('exactly at the expiry → 410', () => {
    assertRefused(load(EXPIRES * 1000)(event(VALID)), 410, 'Gone');
  });

  test('HEAD after the expiry → 410', () => {
    assertRefused(load((EXPIRES + 86400) * 1000)(event(VALID, { method: 'HEAD' })), 410, 'Gone');
  });

  test('long expired (epoch 1000000000) → 410', () => {
    assertRefused(load()(event(`/ttl-1d/1000000000/file_${HEX}.png`)), 410, 'Gone');
  });

  test('a malformed name is 404 even when its epoch has passed', () => {
    assertRefused(load()(event(`/ttl-8d/1000000000/file_${HEX}.png`)), 404, 'Not Found');
  });
});

describe('anything else → 404', () => {
  const malformed = {
    'non-numeric epoch, short id': '/ttl-3d/abc/file_x.png',
    'non-numeric epoch': `/ttl-3d/abc/file_${HEX}.png`,
    'dot-dot segment before': `/../ttl-3d/${EXPIRES}/file_${HEX}.png`,
    'dot-dot segment inside': `/ttl-3d/../ttl-3d/${EXPIRES}/file_${HEX}.png`,
    'encoded dot-dot': `/%2e%2e/ttl-3d/${EXPIRES}/file_${HEX}.png`,
    'missing extension': `/ttl-3d/${EXPIRES}/file_${HEX}`,
    'empty extension': `/ttl-3d/${EXPIRES}/file_${HEX}.`,
    'one-character extension': `/ttl-3d/${EXPIRES}/file_${HEX}.p`,
    'six-character extension': `/ttl-3d/${EXPIRES}/file_${HEX}.abcdef`,
    'uppercase extension': `/ttl-3d/${EXPIRES}/file_${HEX}.PNG`,
    'double extension': `/ttl-3d/${EXPIRES}/file_${HEX}.png.html`,
    'uppercase hex': `/ttl-3d/${EXPIRES}/file_${HEX.toUpperCase()}.png`,
    'one uppercase hex digit': `/ttl-3d/${EXPIRES}/file_${HEX.slice(0, 31)}F.png`,
    'non-hex letter': `/ttl-3d/${EXPIRES}/file_${HEX.slice(0, 31)}g.png`,
    '31 hex digits': `/ttl-3d/${EXPIRES}/file_${HEX.slice(1)}.png`,
    '33 hex digits': `/ttl-3d/${EXPIRES}/file_${HEX}0.png`,
    'wrong id prefix': `/ttl-3d/${EXPIRES}/task_${HEX}.png`,
    'extra segment before the id': `/ttl-3d/${EXPIRES}/x/file_${HEX}.png`,
    'extra segment after the id': `/ttl-3d/${EXPIRES}/file_${HEX}.png/x`,
    'extra leading segment': `/media/ttl-3d/${EXPIRES}/file_${HEX}.png`,
    'double slash at the start': `//ttl-3d/${EXPIRES}/file_${HEX}.png`,
    'double slash inside': `/ttl-3d//${EXPIRES}/file_${HEX}.png`,
    'trailing slash': `/ttl-3d/${EXPIRES}/file_${HEX}.png/`,
    'no leading slash': `ttl-3d/${EXPIRES}/file_${HEX}.png`,
    root: '/',
    empty: '',
    'query text in the URI': `${VALID}?response-content-type=text/html`,
    'fragment in the URI': `${VALID}#x`,
    'trailing newline': `${VALID}\n`,
    'trailing NUL': `${VALID}\u0000`,
    'encoded trailing NUL': `${VALID}%00`,
    'trailing space': `${VALID} `,
    '9-digit epoch': `/ttl-3d/${String(EXPIRES).slice(1)}/file_${HEX}.png`,
    '11-digit epoch': `/ttl-3d/${EXPIRES}0/file_${HEX}.png`,
    'signed epoch': `/ttl-3d/+${String(EXPIRES).slice(1)}/file_${HEX}.png`,
    'ttl-0d': `/ttl-0d/${EXPIRES}/file_${HEX}.png`,
    'ttl-8d': `/ttl-8d/${EXPIRES}/file_${HEX}.png`,
    'ttl-10d': `/ttl-10d/${EXPIRES}/file_${HEX}.png`,
    'ttl-03d': `/ttl-03d/${EXPIRES}/file_${HEX}.png`,
    'ttl class in hours': `/ttl-72h/${EXPIRES}/file_${HEX}.png`,
    'uppercase TTL prefix': `/TTL-3d/${EXPIRES}/file_${HEX}.png`,
    'local delivery route': `/f/file_${HEX}.png`,
    'bucket listing': '/?list-type=2',
  };
  for (const [label, uri] of Object.entries(malformed)) {
    test(`${label}: ${JSON.stringify(uri)}`, () => {
      assertRefused(load()(event(uri)), 404, 'Not Found');
    });
  }

  test('HEAD of a malformed name → 404', () => {
    assertRefused(load()(event('/ttl-3d/abc/file_x.png', { method: 'HEAD' })), 404, 'Not Found');
  });
});

describe('the code', () => {
  test('fits the CloudFront Functions 10 KB limit', () => {
    assert.ok(Buffer.byteLength(CODE, 'utf8') <= 10240);
  });

  test('reads the clock only through Date.now()', () => {
    const handler = load();
    const context = vm.createContext({});
    vm.runInContext(CODE, context);
    vm.runInContext('Date', context).now = () => {
      throw new Error('clock read');
    };
    assert.throws(() => context.handler(event(VALID)), /clock read/);
    assert.equal(plain(handler(event(VALID))).uri, VALID);
  });
});
