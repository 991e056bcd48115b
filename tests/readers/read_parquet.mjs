#!/usr/bin/env node
// Independent Parquet reader for pqflow's integration tests.
//
// Reads Parquet files with hyparquet (pure JavaScript, no DuckDB) and prints one JSON
// object describing them, so tests can prove that pqflow's output is readable by a
// second, unrelated Parquet implementation.
//
// Usage: node tests/readers/read_parquet.mjs [--rows] FILE_OR_DIR...
//   Directories are walked recursively for *.parquet files (sorted by path).
//   --rows  also emit every row (top-level "rows" array, in file order).
//
// Output (stdout, one JSON object):
//   {"files":[{"path","rows","row_groups","codecs":[...],"created_by","schema":[...]}],
//    "total_rows":N,
//    "columns":{"<top-level column>":{"non_null","nulls","sum","min","max"}},
//    "rows":[...]}                                            (only with --rows)
//
// Value representation (rows and min/max):
//   INT32-based integers, FLOAT, DOUBLE -> JSON number (NaN/Infinity -> string)
//   INT64/UINT64 (bigint)               -> string of the exact integer
//   DECIMAL                             -> exact decimal string with `scale` digits, e.g. "1.25"
//   DATE                                -> "YYYY-MM-DD"
//   TIMESTAMP                           -> ISO 8601 at the column's full precision
//                                          (3/6/9 fraction digits for MILLIS/MICROS/NANOS),
//                                          suffixed "Z" only if isAdjustedToUTC
//   TIME                                -> "HH:MM:SS.ffffff" (digits by unit)
//   INTERVAL                            -> {"months":N,"days":N,"millis":N}
//   UUID                                -> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lowercase)
//   JSON                                -> the stored JSON text, as a string (not parsed)
//   STRING/ENUM                         -> string;  BLOB / unannotated BYTE_ARRAY / FLBA -> lowercase hex
//   LIST -> array, STRUCT -> object, MAP -> object keyed by the (stringified) map key
//
// "sum" is present for numeric columns: a number for INT32-based integers (a string if it
// exceeds 2^53) and floats, an exact integer string for INT64/UINT64, an exact decimal
// string for DECIMAL; null when the column has no non-null value.
// "min"/"max" use the representations above; strings compare by code point (= UTF-8 byte
// order), blobs by bytes, NaN is skipped; LIST/STRUCT/MAP/INTERVAL columns get counts only.
// "columns" aggregates all files, keyed by top-level column name. Schema entries list every
// element below the root (dotted path names); "logical" is the element's LogicalType, or the
// equivalent of its ConvertedType when it has none ("logical_source" says which). Exit status is non-zero (with a message on stderr) if any input
// cannot be read; the JSON on stdout then also carries an "errors" array.

import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const NODE_MODULES = path.join(ROOT, 'third_party', 'node', 'node_modules')

async function loadModules() {
  const require = createRequire(path.join(NODE_MODULES, 'noop.js'))
  let hyparquetPath, compressorsPath
  try {
    hyparquetPath = require.resolve('hyparquet')
    compressorsPath = require.resolve('hyparquet-compressors')
  } catch (err) {
    throw new Error(`cannot find hyparquet in ${NODE_MODULES} (run scripts/bootstrap.sh): ${err.message}`)
  }
  const hyparquet = await import(pathToFileURL(hyparquetPath).href)
  const { compressors } = await import(pathToFileURL(compressorsPath).href)
  return { hyparquet, compressors }
}

// ---------------------------------------------------------------------------
// Internal typed values (converted to JSON by toJson)

class DecimalVal {
  constructor(unscaled, scale) { this.unscaled = unscaled; this.scale = scale }
}
class DateVal {
  constructor(days) { this.days = days }
}
class TimestampVal {
  constructor(value, unit, utc) { this.value = value; this.unit = unit; this.utc = utc }
}
class TimeVal {
  constructor(value, unit) { this.value = value; this.unit = unit }
}
class IntervalVal {
  constructor(months, days, millis) { this.months = months; this.days = days; this.millis = millis }
}

const UNIT_DIGITS = { MILLIS: 3, MICROS: 6, NANOS: 9 }
const POW10 = Array.from({ length: 40 }, (_, i) => 10n ** BigInt(i))
const pow10 = n => POW10[n] ?? 10n ** BigInt(n)

function floorDiv(a, b) {
  const q = a / b
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q
}

const pad = (n, w) => String(n).padStart(w, '0')

// Days since 1970-01-01 -> [year, month, day] (proleptic Gregorian; H. Hinnant's algorithm)
function civilFromDays(days) {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d]
}

function formatDate(days) {
  const [y, m, d] = civilFromDays(days)
  const ys = y >= 0 && y <= 9999 ? pad(y, 4) : (y < 0 ? '-' : '+') + pad(Math.abs(y), 6)
  return `${ys}-${pad(m, 2)}-${pad(d, 2)}`
}

function formatTimeOfDay(units, digits) {
  // units: non-negative bigint count of 10^-digits seconds within a day
  const scale = pow10(digits)
  const secs = Number(units / scale)
  const frac = units % scale
  const hms = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`
  return digits ? `${hms}.${frac.toString().padStart(digits, '0')}` : hms
}

function formatTimestamp(ts) {
  const digits = UNIT_DIGITS[ts.unit]
  const perDay = 86400n * pow10(digits)
  const days = floorDiv(ts.value, perDay)
  const rem = ts.value - days * perDay
  return `${formatDate(Number(days))}T${formatTimeOfDay(rem, digits)}${ts.utc ? 'Z' : ''}`
}

function formatDecimal(unscaled, scale) {
  const neg = unscaled < 0n
  let s = (neg ? -unscaled : unscaled).toString()
  if (scale > 0) {
    s = s.padStart(scale + 1, '0')
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`
  }
  return neg ? `-${s}` : s
}

function bytesToBigInt(bytes) {
  // big-endian two's complement
  if (!bytes.length) return 0n
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  if (bytes[0] & 0x80) v -= 1n << BigInt(bytes.length * 8)
  return v
}

const utf8Decoder = new TextDecoder()
const toHex = u8 => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex')

function toJson(v) {
  if (v === null || v === undefined) return null
  switch (typeof v) {
    case 'bigint': return v.toString()
    case 'number': return Number.isFinite(v) ? v : String(v)
    case 'string':
    case 'boolean': return v
    case 'object': break
    default: return String(v)
  }
  if (v instanceof Uint8Array) return toHex(v)
  if (v instanceof DecimalVal) return formatDecimal(v.unscaled, v.scale)
  if (v instanceof DateVal) return formatDate(v.days)
  if (v instanceof TimestampVal) return formatTimestamp(v)
  if (v instanceof TimeVal) {
    const digits = UNIT_DIGITS[v.unit]
    return formatTimeOfDay(v.value, digits)
  }
  if (v instanceof IntervalVal) return { months: v.months, days: v.days, millis: v.millis }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString()
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v, toJson)
  const out = {}
  for (const [k, x] of Object.entries(v)) out[k] = toJson(x)
  return out
}

// ---------------------------------------------------------------------------
// Schema handling

function buildTree(schema) {
  let i = 0
  function node(parentPath) {
    const element = schema[i++]
    const p = parentPath === null ? [] : [...parentPath, element.name]
    const children = []
    for (let c = 0; c < (element.num_children || 0); c++) children.push(node(p))
    return { element, children, path: p }
  }
  return node(null)
}

const isTimestamp = e => e.logical_type?.type === 'TIMESTAMP' ||
  e.converted_type === 'TIMESTAMP_MILLIS' || e.converted_type === 'TIMESTAMP_MICROS'
const isTime = e => e.logical_type?.type === 'TIME' ||
  e.converted_type === 'TIME_MILLIS' || e.converted_type === 'TIME_MICROS'
const isDecimal = e => e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL'
const isDate = e => e.converted_type === 'DATE' || e.logical_type?.type === 'DATE'

// Copy of the schema for hyparquet with the annotations we decode ourselves removed, so
// hyparquet hands over the exact physical values (its DECIMAL -> float and TIMESTAMP -> Date
// conversions lose precision, and it throws on INTERVAL / BSON).
function patchElement(e) {
  if (e.num_children) return e
  const p = { ...e }
  if (isDecimal(e) || isDate(e) || isTime(e) || isTimestamp(e) ||
      e.converted_type === 'INTERVAL' || e.converted_type === 'BSON' || e.logical_type?.type === 'BSON') {
    p.converted_type = undefined
    p.logical_type = undefined
  } else if (e.converted_type === 'ENUM' || e.logical_type?.type === 'ENUM') {
    p.converted_type = 'UTF8'
    p.logical_type = { type: 'STRING' }
  }
  return p
}

function unitOf(e) {
  if (e.logical_type?.unit) return e.logical_type.unit
  const c = e.converted_type || ''
  return c.endsWith('MILLIS') ? 'MILLIS' : 'MICROS'
}

function decodeLeaf(e, v) {
  if (v === null || v === undefined) return null
  if (isDecimal(e)) {
    const scale = e.scale ?? e.logical_type?.scale ?? 0
    const unscaled = v instanceof Uint8Array ? bytesToBigInt(v) : BigInt(v)
    return new DecimalVal(unscaled, scale)
  }
  if (isDate(e)) return new DateVal(Number(v))
  if (isTimestamp(e)) {
    const utc = e.logical_type?.type === 'TIMESTAMP' ? !!e.logical_type.isAdjustedToUTC : true
    return new TimestampVal(BigInt(v), unitOf(e), utc)
  }
  if (isTime(e)) return new TimeVal(BigInt(v), unitOf(e))
  if (e.converted_type === 'INTERVAL' && v instanceof Uint8Array && v.length === 12) {
    const dv = new DataView(v.buffer, v.byteOffset, 12)
    return new IntervalVal(dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true))
  }
  return v
}

function isListLike(n) {
  return n.element.converted_type === 'LIST' && n.children.length === 1 &&
    n.children[0].children.length <= 1 && n.children[0].element.repetition_type === 'REPEATED'
}
function isMapLike(n) {
  if (n.element.converted_type !== 'MAP' || n.children.length !== 1) return false
  const kv = n.children[0]
  return kv.children.length === 2 && kv.element.repetition_type === 'REPEATED'
}

// Walk a value assembled by hyparquet alongside the original schema node.
function decodeValue(n, v, inRepeated = false) {
  if (v === null || v === undefined) return null
  if (!inRepeated && n.element.repetition_type === 'REPEATED' && Array.isArray(v)) {
    return v.map(x => decodeValue(n, x, true))
  }
  if (!n.children.length) return decodeLeaf(n.element, v)
  if (isListLike(n)) {
    let sub = n.children[0]
    if (sub.children.length === 1) sub = sub.children[0]
    return Array.isArray(v) ? v.map(x => decodeValue(sub, x, true)) : v
  }
  if (isMapLike(n)) {
    const valueNode = n.children[0].children.find(c => c.element.name === 'value') || n.children[0].children[1]
    if (typeof v !== 'object') return v
    const out = {}
    for (const [k, x] of Object.entries(v)) out[k] = decodeValue(valueNode, x)
    return out
  }
  if (typeof v === 'object' && !Array.isArray(v)) {
    const out = {}
    for (const [k, x] of Object.entries(v)) {
      const child = n.children.find(c => c.element.name === k)
      out[k] = child ? decodeValue(child, x) : x
    }
    return out
  }
  return v
}

const CONVERTED_TO_LOGICAL = {
  UTF8: 'STRING', ENUM: 'ENUM', JSON: 'JSON', BSON: 'BSON', DATE: 'DATE', DECIMAL: 'DECIMAL',
  TIME_MILLIS: 'TIME', TIME_MICROS: 'TIME', TIMESTAMP_MILLIS: 'TIMESTAMP', TIMESTAMP_MICROS: 'TIMESTAMP',
  INT_8: 'INTEGER', INT_16: 'INTEGER', INT_32: 'INTEGER', INT_64: 'INTEGER',
  UINT_8: 'INTEGER', UINT_16: 'INTEGER', UINT_32: 'INTEGER', UINT_64: 'INTEGER',
  LIST: 'LIST', MAP: 'MAP', INTERVAL: 'INTERVAL',
}

function describeSchema(tree) {
  const out = []
  function walk(n) {
    for (const c of n.children) {
      const e = c.element
      const lt = e.logical_type
      const entry = {
        name: c.path.join('.'),
        physical: e.type ?? null,
        type_length: e.type_length ?? null,
        logical: lt?.type ?? CONVERTED_TO_LOGICAL[e.converted_type] ?? null,
        logical_source: lt?.type ? 'logical_type' : (CONVERTED_TO_LOGICAL[e.converted_type] ? 'converted_type' : null),
        converted: e.converted_type ?? null,
        repetition: e.repetition_type ?? null,
      }
      if (c.children.length) entry.num_children = c.children.length
      if (isDecimal(e)) {
        entry.precision = e.precision ?? lt?.precision ?? null
        entry.scale = e.scale ?? lt?.scale ?? 0
      }
      if (isTimestamp(e) || isTime(e)) {
        entry.unit = unitOf(e)
        entry.utc = lt?.isAdjustedToUTC ?? true
      }
      if (lt?.type === 'INTEGER') {
        entry.bit_width = lt.bitWidth
        entry.signed = lt.isSigned
      } else if (/^U?INT_(8|16|32|64)$/.test(e.converted_type || '')) {
        entry.bit_width = Number(e.converted_type.split('_')[1])
        entry.signed = !e.converted_type.startsWith('U')
      }
      out.push(entry)
      walk(c)
    }
  }
  walk(tree)
  return out
}

// ---------------------------------------------------------------------------
// Column statistics

const HIGH_UNITS = /[\uD800-\uFFFF]/

function cmpString(a, b) {
  // Code point order (matches UTF-8 byte order). JS's native UTF-16 code unit order only
  // differs when a surrogate meets a unit >= 0xE000, which needs both strings to have one.
  if (!HIGH_UNITS.test(a) || !HIGH_UNITS.test(b)) return a < b ? -1 : a > b ? 1 : 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x !== y) {
      if (x >= 0xD800 && y >= 0xD800) {
        x = x >= 0xE000 ? x - 0x800 : x + 0x2000
        y = y >= 0xE000 ? y - 0x800 : y + 0x2000
      }
      return x < y ? -1 : 1
    }
  }
  return a.length === b.length ? 0 : (a.length < b.length ? -1 : 1)
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

const tsNanos = t => t.value * pow10(9 - UNIT_DIGITS[t.unit])

// Returns -1/0/1, or null if the values are not comparable.
function compareValues(a, b) {
  const ta = typeof a
  if (ta === 'number' && typeof b === 'number') return cmp(a, b)
  if (ta === 'bigint' && typeof b === 'bigint') return cmp(a, b)
  if ((ta === 'bigint' || ta === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    if (Number.isInteger(a) || ta === 'bigint') {
      if (Number.isInteger(b) || typeof b === 'bigint') return cmp(BigInt(a), BigInt(b))
    }
    return cmp(Number(a), Number(b))
  }
  if (ta === 'string' && typeof b === 'string') return cmpString(a, b)
  if (ta === 'boolean' && typeof b === 'boolean') return cmp(Number(a), Number(b))
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b)
  if (a instanceof DecimalVal && b instanceof DecimalVal) {
    const s = Math.max(a.scale, b.scale)
    return cmp(a.unscaled * pow10(s - a.scale), b.unscaled * pow10(s - b.scale))
  }
  if (a instanceof DateVal && b instanceof DateVal) return cmp(a.days, b.days)
  if ((a instanceof TimestampVal && b instanceof TimestampVal) || (a instanceof TimeVal && b instanceof TimeVal)) {
    return a.unit === b.unit ? cmp(a.value, b.value) : cmp(tsNanos(a), tsNanos(b))
  }
  return null
}

function isNumericLeaf(n) {
  const e = n.element
  if (n.children.length) return false
  if (isDecimal(e)) return true
  if (!['INT32', 'INT64', 'FLOAT', 'DOUBLE'].includes(e.type)) return e.logical_type?.type === 'FLOAT16'
  return !(isDate(e) || isTime(e) || isTimestamp(e))
}

const TWO_52 = 2 ** 52

class ColumnStats {
  constructor(numeric) {
    this.numeric = numeric // schema says numeric: report "sum" even when all values are null
    this.nonNull = 0
    this.nulls = 0
    this.min = undefined
    this.max = undefined
    this.comparable = true
    this.sumMode = undefined // 'int' | 'bigint' | 'float' | 'decimal' | 'none'
    this.floatSum = 0
    this.smallSum = 0 // exact while |smallSum| < 2^53 (only int32-range values are added)
    this.bigSum = 0n
    this.scale = 0
  }

  add(v, floatColumn) {
    if (v === null || v === undefined) { this.nulls++; return }
    this.nonNull++
    this.addSum(v, floatColumn)
    if (!this.comparable) return
    if (typeof v === 'number' && Number.isNaN(v)) return
    if (this.min === undefined) { this.min = this.max = v; return }
    const lo = compareValues(v, this.min)
    if (lo === null) { this.comparable = false; return }
    if (lo < 0) this.min = v
    else if (compareValues(v, this.max) > 0) this.max = v
  }

  addSum(v, floatColumn) {
    if (this.sumMode === 'none') return
    if (typeof v === 'number') {
      if (this.sumMode === undefined) this.sumMode = floatColumn || !Number.isInteger(v) ? 'float' : 'int'
      if (this.sumMode === 'float') { this.floatSum += v; return }
      if (this.sumMode === 'decimal' || !Number.isInteger(v) || Math.abs(v) > 2 ** 32) {
        this.toFloat(); this.floatSum += v; return
      }
      if (Math.abs(this.smallSum) >= TWO_52) { this.bigSum += BigInt(this.smallSum); this.smallSum = 0 }
      this.smallSum += v
    } else if (typeof v === 'bigint') {
      if (this.sumMode === undefined || this.sumMode === 'int') this.sumMode = 'bigint'
      if (this.sumMode === 'float') { this.floatSum += Number(v); return }
      if (this.sumMode === 'decimal') { this.toFloat(); this.floatSum += Number(v); return }
      this.bigSum += v
    } else if (v instanceof DecimalVal) {
      if (this.sumMode === undefined) { this.sumMode = 'decimal'; this.scale = v.scale }
      if (this.sumMode !== 'decimal') { this.toFloat(); this.floatSum += Number(formatDecimal(v.unscaled, v.scale)); return }
      if (v.scale > this.scale) { this.bigSum *= pow10(v.scale - this.scale); this.scale = v.scale }
      this.bigSum += v.unscaled * pow10(this.scale - v.scale)
    } else {
      this.sumMode = 'none'
    }
  }

  toFloat() {
    if (this.sumMode === 'float') return
    const exact = this.sumMode === 'decimal'
      ? Number(formatDecimal(this.bigSum, this.scale))
      : Number(this.bigSum + BigInt(this.smallSum))
    this.sumMode = 'float'
    this.floatSum = exact
  }

  toJSON() {
    const out = { non_null: this.nonNull, nulls: this.nulls }
    const mode = this.sumMode
    if (mode && mode !== 'none') {
      if (mode === 'float') out.sum = toJson(this.floatSum)
      else if (mode === 'decimal') out.sum = formatDecimal(this.bigSum, this.scale)
      else {
        const total = this.bigSum + BigInt(this.smallSum)
        out.sum = mode === 'int' && Number.isSafeInteger(Number(total)) && BigInt(Number(total)) === total
          ? Number(total) : total.toString()
      }
    } else if (mode === undefined && this.nonNull === 0 && this.numeric) {
      out.sum = null
    }
    const m = this.min
    const hasMinMax = this.comparable && m !== undefined &&
      (typeof m !== 'object' || m instanceof Uint8Array || m instanceof DecimalVal ||
       m instanceof DateVal || m instanceof TimestampVal || m instanceof TimeVal)
    if (hasMinMax) {
      out.min = toJson(this.min)
      out.max = toJson(this.max)
    } else if (this.nonNull === 0) {
      out.min = null
      out.max = null
    }
    return out
  }
}

// ---------------------------------------------------------------------------

function collectFiles(args) {
  const files = []
  for (const arg of args) {
    let st
    try {
      st = fs.statSync(arg)
    } catch (err) {
      throw new Error(`${arg}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`)
    }
    if (st.isDirectory()) {
      const found = []
      const walk = dir => {
        for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, ent.name)
          let isDir = ent.isDirectory()
          let isFile = ent.isFile()
          if (ent.isSymbolicLink()) {
            const s = fs.statSync(p)
            isDir = s.isDirectory()
            isFile = s.isFile()
          }
          if (isDir) walk(p)
          else if (isFile && ent.name.endsWith('.parquet')) found.push(p)
        }
      }
      walk(arg)
      if (!found.length) throw new Error(`${arg}: no *.parquet files found`)
      found.sort((a, b) => cmpString(a, b))
      files.push(...found)
    } else {
      files.push(arg)
    }
  }
  return files
}

async function readFile(hp, compressors, file, wantRows, columnStats, rowLines) {
  const buffer = await hp.asyncBufferFromFile(file)
  const metadata = await hp.parquetMetadataAsync(buffer)
  const tree = buildTree(metadata.schema)
  const patched = { ...metadata, schema: metadata.schema.map(patchElement) }
  const codecs = new Set()
  for (const rg of metadata.row_groups) {
    for (const col of rg.columns) if (col.meta_data?.codec) codecs.add(col.meta_data.codec)
  }

  const topNodes = tree.children
  const floatCol = topNodes.map(n => !n.children.length &&
    (n.element.type === 'FLOAT' || n.element.type === 'DOUBLE' || n.element.logical_type?.type === 'FLOAT16'))
  for (const n of topNodes) {
    if (!columnStats.has(n.element.name)) columnStats.set(n.element.name, new ColumnStats(isNumericLeaf(n)))
  }
  const stats = topNodes.map(n => columnStats.get(n.element.name))

  const parsers = {
    // only INT96 reaches this parser (TIMESTAMP annotations are decoded by decodeLeaf)
    timestampFromNanoseconds: nanos => new TimestampVal(BigInt(nanos), 'NANOS', false),
    jsonFromBytes: bytes => bytes && utf8Decoder.decode(bytes),
    uuidFromBytes: bytes => {
      if (!bytes) return undefined
      const h = toHex(bytes)
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    },
  }

  let rowsRead = 0
  let groupStart = 0
  for (const rg of metadata.row_groups) {
    const n = Number(rg.num_rows)
    if (n > 0) {
      const rows = await hp.parquetReadObjects({
        file: buffer,
        metadata: patched,
        rowStart: groupStart,
        rowEnd: groupStart + n,
        compressors,
        utf8: false,
        parsers,
      })
      if (rows.length !== n) {
        throw new Error(`row group at row ${groupStart}: read ${rows.length} rows, metadata says ${n}`)
      }
      for (const row of rows) {
        const obj = wantRows ? {} : null
        for (let i = 0; i < topNodes.length; i++) {
          const name = topNodes[i].element.name
          const v = decodeValue(topNodes[i], row[name])
          stats[i].add(v, floatCol[i])
          if (obj) obj[name] = toJson(v)
        }
        if (obj) rowLines.push(JSON.stringify(obj))
      }
      rowsRead += rows.length
    }
    groupStart += n
  }
  if (rowsRead !== Number(metadata.num_rows)) {
    throw new Error(`read ${rowsRead} rows, footer says ${metadata.num_rows}`)
  }

  return {
    path: file,
    rows: rowsRead,
    row_groups: metadata.row_groups.length,
    codecs: [...codecs].sort(),
    created_by: metadata.created_by ?? null,
    schema: describeSchema(tree),
  }
}

function usage() {
  return 'usage: node read_parquet.mjs [--rows] FILE_OR_DIR...'
}

async function main(argv) {
  let wantRows = false
  const inputs = []
  for (const a of argv) {
    if (a === '--rows') wantRows = true
    else if (a === '-h' || a === '--help') { process.stdout.write(usage() + '\n'); return 0 }
    else if (a.startsWith('--') && a.length > 2) { process.stderr.write(`unknown option ${a}\n${usage()}\n`); return 2 }
    else inputs.push(a)
  }
  if (!inputs.length) { process.stderr.write(usage() + '\n'); return 2 }

  let files
  try {
    files = collectFiles(inputs)
  } catch (err) {
    process.stderr.write(`read_parquet: ${err.message}\n`)
    return 2
  }

  const { hyparquet, compressors } = await loadModules()
  const columnStats = new Map()
  const rowLines = []
  const results = []
  const errors = []
  for (const f of files) {
    try {
      results.push(await readFile(hyparquet, compressors, f, wantRows, columnStats, rowLines))
    } catch (err) {
      errors.push({ path: f, error: String(err?.message ?? err) })
      process.stderr.write(`read_parquet: ${f}: ${err?.stack ?? err}\n`)
    }
  }

  const head = {
    files: results,
    total_rows: results.reduce((s, r) => s + r.rows, 0),
    columns: Object.fromEntries([...columnStats].map(([k, s]) => [k, s.toJSON()])),
  }
  if (errors.length) head.errors = errors
  let text = JSON.stringify(head)
  if (wantRows) {
    // Emit rows in chunks so huge outputs never need one giant string.
    process.stdout.write(text.slice(0, -1) + ',"rows":[')
    const CHUNK = 10000
    for (let i = 0; i < rowLines.length; i += CHUNK) {
      process.stdout.write((i ? ',' : '') + rowLines.slice(i, i + CHUNK).join(','))
    }
    text = ']}'
  }
  process.stdout.write(text + '\n')
  return errors.length ? 1 : 0
}

main(process.argv.slice(2)).then(
  code => { process.exitCode = code },
  err => { process.stderr.write(`read_parquet: ${err?.stack ?? err}\n`); process.exitCode = 1 },
)
