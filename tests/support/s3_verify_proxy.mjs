#!/usr/bin/env node
// A SigV4-verifying reverse proxy in front of s3rver, for pqflow's S3 tests only.
//
// s3rver does not check SigV4 signatures. This proxy recomputes every request's signature with
// an implementation independent of pqflow's signer (the npm package `aws4`) and answers
//   403 SignatureDoesNotMatch   when the signature differs (header or presigned query auth),
//   403 AccessDenied            for an expired presigned URL or a missing signature,
//   403 InvalidAccessKeyId      for an unknown access key,
//   403 RequestTimeTooSkewed    when x-amz-date is more than 15 minutes off,
//   400 XAmzContentSHA256Mismatch / BadDigest when the body does not match
//                               x-amz-content-sha256 / Content-MD5,
// and otherwise forwards the request, stripped of its authentication, to s3rver.
//
// It also implements AbortMultipartUpload (DELETE /bucket/key?uploadId=...), which s3rver
// 3.x lacks, by removing s3rver's on-disk upload folder, and it can inject faults.
//
// Configuration (environment):
//   S3_PROXY_UPSTREAM      "127.0.0.1:PORT" of s3rver (required)
//   S3_PROXY_DATA_DIR      s3rver's data directory (-d), for AbortMultipartUpload
//   S3_PROXY_ACCESS_KEY, S3_PROXY_SECRET_KEY   the only accepted credentials
//   S3_PROXY_REGION        the only accepted region (default us-east-1)
//   S3_PROXY_NODE_MODULES  where `aws4` is installed
//   S3_PROXY_FAULT_RATE, S3_PROXY_FAULT_KINDS  initial fault injection (see below)
// It listens on 127.0.0.1 on a kernel-chosen port and prints "listening on 127.0.0.1:PORT".
//
// Control endpoints (never signed; S3 bucket names cannot start with "_"):
//   GET  /__proxy/health   200 once s3rver answers too
//   POST /__proxy/faults?rate=0.3&kinds=500,503,slowdown,drop,complete200
//        a fraction `rate` of S3 requests (chosen at random) fails with one of `kinds`:
//        500/503 (InternalError/ServiceUnavailable), slowdown (503 SlowDown), drop (the
//        connection is destroyed without an answer), complete200 (only for
//        CompleteMultipartUpload: 200 OK whose body is an <Error>, as S3 may answer), part500
//        (only for UploadPart: 500 InternalError), slow (the real answer 300 ms late), stall
//        (silence for 8 s, then the real answer).
//        rate=0 turns injection off. Optional: match=TEXT (only keys containing TEXT),
//        method=PUT (only that HTTP method). Faults are injected after verification, before forwarding.
//   GET  /__proxy/stats    {"requests":N,"faults":N,"rejected":N}
import { createRequire } from 'node:module'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'

const env = process.env
const require = createRequire(path.join(env.S3_PROXY_NODE_MODULES || '.', 'noop.js'))
const aws4 = require('aws4')

const [UP_HOST, UP_PORT] = (env.S3_PROXY_UPSTREAM || '').split(':')
const ACCESS_KEY = env.S3_PROXY_ACCESS_KEY || ''
const SECRET_KEY = env.S3_PROXY_SECRET_KEY || ''
const REGION = env.S3_PROXY_REGION || 'us-east-1'
const DATA_DIR = env.S3_PROXY_DATA_DIR || ''
const MAX_SKEW_MS = 15 * 60 * 1000

const faults = { rate: Number(env.S3_PROXY_FAULT_RATE || 0), kinds: (env.S3_PROXY_FAULT_KINDS || '500').split(',') }
const stats = { requests: 0, faults: 0, rejected: 0 }

function xmlError (res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

// "20260115T101112Z" -> milliseconds since the epoch.
function parseAmzDate (s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '')
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN
}

// Recomputes the signature with aws4 over exactly the signed headers; returns null if it matches,
// otherwise [status, code, message].
function verify (req, url, body) {
  const q = url.searchParams
  const presigned = q.has('X-Amz-Signature')
  let credential, signedHeaders, signature, amzDate
  if (presigned) {
    credential = q.get('X-Amz-Credential'); signedHeaders = q.get('X-Amz-SignedHeaders')
    signature = q.get('X-Amz-Signature'); amzDate = q.get('X-Amz-Date')
  } else {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(req.headers.authorization || '')
    if (!m) return [403, 'AccessDenied', 'missing or malformed SigV4 Authorization']
    ;[, credential, signedHeaders, signature] = m
    amzDate = req.headers['x-amz-date']
  }
  const [akid, day, region, service, term] = (credential || '').split('/')
  if (akid !== ACCESS_KEY) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.']
  const when = parseAmzDate(amzDate)
  if (isNaN(when) || day !== amzDate.slice(0, 8) || region !== REGION || service !== 's3' || term !== 'aws4_request') {
    return [403, 'AuthorizationQueryParametersError', 'bad credential scope or date']
  }
  if (presigned) {
    const expires = Number(q.get('X-Amz-Expires'))
    if (!(expires >= 1 && expires <= 604800)) return [403, 'AuthorizationQueryParametersError', 'X-Amz-Expires out of range']
    if (Date.now() > when + expires * 1000) return [403, 'AccessDenied', 'Request has expired']
  } else if (Math.abs(Date.now() - when) > MAX_SKEW_MS) {
    return [403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.']
  }
  const headers = {}
  for (const name of signedHeaders.split(';')) {
    if (req.headers[name] === undefined) return [403, 'AccessDenied', `signed header ${name} is missing`]
    headers[name] = req.headers[name]
  }
  const query = new URLSearchParams(q)
  query.delete('X-Amz-Signature')
  const queryText = query.toString().replace(/\+/g, '%20')
  const request = {
    method: req.method, host: req.headers.host, headers, service: 's3', region,
    path: url.pathname + (queryText ? '?' + queryText : ''), signQuery: presigned, doNotModifyHeaders: true
  }
  const signer = new aws4.RequestSigner(request, { accessKeyId: akid, secretAccessKey: SECRET_KEY })
  signer.datetime = amzDate
  if (signer.signature() !== signature) return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.']
  const sha = req.headers['x-amz-content-sha256']
  if (!presigned && sha !== 'UNSIGNED-PAYLOAD' && sha !== crypto.createHash('sha256').update(body).digest('hex')) {
    return [400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.']
  }
  const md5 = req.headers['content-md5']
  if (md5 !== undefined && md5 !== crypto.createHash('md5').update(body).digest('base64')) {
    return [400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.']
  }
  return null
}

// Copies everything but the authentication: s3rver sees anonymous requests.
function forward (req, res, url, body) {
  const query = new URLSearchParams(url.searchParams)
  for (const k of [...query.keys()]) if (k.startsWith('X-Amz-')) query.delete(k)
  const headers = { ...req.headers }
  delete headers.authorization
  delete headers['x-amz-security-token']
  const search = query.toString()
  const up = http.request({ host: UP_HOST, port: UP_PORT, method: req.method, path: url.pathname + (search ? '?' + search : ''), headers }, upRes => {
    res.writeHead(upRes.statusCode, upRes.headers)
    upRes.pipe(res)
  })
  up.on('error', () => { if (!res.headersSent) xmlError(res, 502, 'InternalError', 'upstream s3rver failed'); else res.destroy() })
  up.end(body)
}

// s3rver keeps an upload in DATA_DIR/<bucket>/._S3rver_uploads/<uploadId>/.
function abortUpload (res, bucket, uploadId) {
  const dir = path.join(DATA_DIR, bucket, '._S3rver_uploads', uploadId)
  if (!DATA_DIR || !/^[\w-]+$/.test(uploadId) || !fs.existsSync(dir)) return xmlError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.')
  fs.rmSync(dir, { recursive: true, force: true })
  res.writeHead(204).end()
}

function injectFault (req, res, url, proceed) {
  if (faults.rate <= 0) return false
  if (faults.match && !decodeURIComponent(url.pathname).includes(faults.match)) return false
  if (faults.method && req.method !== faults.method) return false
  if (Math.random() >= faults.rate) return false
  const isComplete = req.method === 'POST' && url.searchParams.has('uploadId')
  const isPart = req.method === 'PUT' && url.searchParams.has('partNumber')
  const kinds = faults.kinds.filter(k => (k !== 'complete200' || isComplete) && (k !== 'part500' || isPart))
  if (kinds.length === 0) return false
  const kind = kinds[Math.floor(Math.random() * kinds.length)]
  stats.faults++
  if (kind === 'slow' || kind === 'stall') {
    // Answer late (slow: 300 ms, then the real answer) or go silent for 8 s first (stall:
    // a client with a shorter stall timeout gives up and retries).
    const delay = kind === 'slow' ? 300 : 8000
    setTimeout(() => { if (!res.writableEnded && !req.socket.destroyed) proceed() }, delay)
    return true
  }
  if (kind === 'drop') req.socket.destroy()
  else if (kind === 'slowdown') xmlError(res, 503, 'SlowDown', 'Please reduce your request rate.')
  else if (kind === '503') xmlError(res, 503, 'ServiceUnavailable', 'injected fault')
  else if (kind === 'complete200') {
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>injected error in a 200 body</Message></Error>'
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) }).end(body)
  } else xmlError(res, 500, 'InternalError', 'injected fault')
  return true
}

function control (req, res, url) {
  const json = obj => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(obj))
  if (url.pathname === '/__proxy/health') {
    http.get({ host: UP_HOST, port: UP_PORT, path: '/' }, up => { up.resume(); json({ ok: true }) })
      .on('error', () => xmlError(res, 503, 'ServiceUnavailable', 's3rver not up yet'))
  } else if (url.pathname === '/__proxy/faults') {
    faults.rate = Number(url.searchParams.get('rate') || 0)
    faults.kinds = (url.searchParams.get('kinds') || '500').split(',')
    faults.match = url.searchParams.get('match') || ''
    faults.method = url.searchParams.get('method') || ''
    json(faults)
  } else if (url.pathname === '/__proxy/stats') json(stats)
  else xmlError(res, 404, 'NotFound', 'unknown control endpoint')
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://proxy')
  if (url.pathname.startsWith('/__proxy/')) return control(req, res, url)
  const chunks = []
  req.on('data', c => chunks.push(c))
  req.on('end', () => {
    stats.requests++
    const body = Buffer.concat(chunks)
    const error = verify(req, url, body)
    if (error) { stats.rejected++; return xmlError(res, ...error) }
    const proceed = () => {
      const [, bucket, ...key] = url.pathname.split('/')
      if (req.method === 'DELETE' && url.searchParams.has('uploadId') && key.length > 0) {
        return abortUpload(res, decodeURIComponent(bucket), url.searchParams.get('uploadId'))
      }
      forward(req, res, url, body)
    }
    if (injectFault(req, res, url, proceed)) return
    proceed()
  })
})
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`))
process.on('SIGTERM', () => process.exit(0))
